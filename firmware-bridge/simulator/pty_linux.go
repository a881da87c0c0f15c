//go:build linux

package simulator

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// OpenPTY opens a pseudo-terminal pair for a simulated board. board is the
// master side, for New; host is the terminal side, set raw (8 data bits, no
// echo, no line editing, no signals, no flow control, no byte translation)
// as a serial port opened by the bridge would be. host.Name() is its path
// (/dev/pts/N), which go.bug.st/serial can open too. Both files use the
// runtime poller, so Close unblocks a pending Read. Closing every host-side
// descriptor makes the board's reads fail (EIO).
func OpenPTY() (board, host *os.File, err error) {
	master, host, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("simulator: open pty: %w", err)
	}
	// pty.Open leaves the master in blocking mode (it calls Fd), where Close
	// cannot interrupt a Read; reopen it as a pollable file.
	board, err = pollable(master)
	if err == nil {
		err = control(host, makeRaw)
	}
	if err != nil {
		if board != nil {
			board.Close()
		}
		host.Close()
		return nil, nil, fmt.Errorf("simulator: set up pty %s: %w", host.Name(), err)
	}
	return board, host, nil
}

// pollable returns a non-blocking duplicate of f, registered with the
// runtime poller, and closes f.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	var dup int
	err := control(f, func(fd int) error {
		var err error
		dup, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, err
	}
	return os.NewFile(uintptr(dup), f.Name()), nil
}

// control runs fn on f's descriptor without switching f to blocking mode
// (which File.Fd would do).
func control(f *os.File, fn func(fd int) error) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := sc.Control(func(fd uintptr) { fnErr = fn(int(fd)) }); err != nil {
		return err
	}
	return fnErr
}

// makeRaw does what cfmakeraw(3) does.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
