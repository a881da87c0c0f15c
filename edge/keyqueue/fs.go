package keyqueue

import (
	"io"
	"os"
)

// File is the part of an open file the queue uses. Writes go through
// WriteAt at offsets the queue tracks itself, so a failed write can be undone
// with Truncate.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync flushes the file's data to stable storage (fsync).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
}

// FS is the file system the queue keeps its folder in. OSFS is the real
// one; tests substitute one that fails (a full disk, say).
type FS interface {
	// MkdirAll creates dir and its parents.
	MkdirAll(dir string) error
	// ReadDir returns the names of the files in dir.
	ReadDir(dir string) ([]string, error)
	// OpenFile opens name with os.OpenFile flags and mode 0o644.
	OpenFile(name string, flag int) (File, error)
	// Remove deletes a file.
	Remove(name string) error
	// Rename renames a file atomically.
	Rename(from, to string) error
	// SyncDir fsyncs a folder, making creations, renames and removals in it
	// durable.
	SyncDir(dir string) error
}

// OSFS returns the operating system's file system.
func OSFS() FS { return osFS{} }

// osFS implements FS with package os.
type osFS struct{}

// MkdirAll implements FS.
func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// ReadDir implements FS; it lists regular files only.
func (osFS) ReadDir(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(des))
	for _, de := range des {
		if de.Type().IsRegular() {
			names = append(names, de.Name())
		}
	}
	return names, nil
}

// OpenFile implements FS.
func (osFS) OpenFile(name string, flag int) (File, error) {
	f, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Remove implements FS.
func (osFS) Remove(name string) error { return os.Remove(name) }

// Rename implements FS.
func (osFS) Rename(from, to string) error { return os.Rename(from, to) }

// SyncDir implements FS.
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// osFile adds Size to *os.File.
type osFile struct{ *os.File }

// Size implements File.
func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
