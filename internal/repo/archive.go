package repo

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// ArchiveFile is one file read out of an archive.
type ArchiveFile struct {
	Name string // path inside the archive, e.g. "test/airplane/0001.jpg"
	Data []byte
}

// CIFAR10Files returns the first n JPEG files of the named CIFAR-10 archive
// ("train.tar.gz" or "test.tar.gz") in archive order, read with the
// standard library alone (independently of the trainer's loader), for tests
// and benchmarks that need real image files.
func CIFAR10Files(name string, n int) ([]ArchiveFile, error) {
	path, err := CIFAR10(name)
	if err != nil {
		return nil, err
	}
	return ArchiveFiles(path, n)
}

// ArchiveFiles reads the first n .jpg files of the tar.gz archive at path
// in archive order (every one when n <= 0).
func ArchiveFiles(path string, n int) ([]ArchiveFile, error) {
	seen := 0
	files, err := SelectArchiveFiles(path, func(string) (keep, more bool) {
		seen++
		return true, n <= 0 || seen < n
	})
	if err == nil && n > 0 && len(files) < n {
		err = fmt.Errorf("read %s: %d images, want %d", path, len(files), n)
	}
	return files, err
}

// SelectArchiveFiles reads the .jpg files of the tar.gz archive at path
// that take keeps, in archive order. take sees each name inside the archive
// (without a leading "./") and says whether to keep that file and whether to
// go on after it; the archive is read to its end unless take stops earlier.
func SelectArchiveFiles(path string, take func(name string) (keep, more bool)) ([]ArchiveFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	tr := tar.NewReader(gz)
	var out []ArchiveFile
	for more := true; more; {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s after %d images: %w", path, len(out), err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".jpg") {
			continue
		}
		name := strings.TrimPrefix(h.Name, "./")
		var keep bool
		if keep, more = take(name); !keep {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", h.Name, path, err)
		}
		out = append(out, ArchiveFile{Name: name, Data: b})
	}
	return out, nil
}
