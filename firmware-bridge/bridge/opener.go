package bridge

import (
	"context"
	"fmt"
	"io"

	"go.bug.st/serial"
)

// DefaultBaud is the serial speed of the protocol: 921600 baud, 8N1.
const DefaultBaud = 921600

// Opener opens the board's port for one session. The bridge calls Open
// again before every reconnection, so an Opener that resolves a USB id sees
// the board wherever it enumerates now. name is the path opened, for logs
// and status. The port's Close must unblock a pending Read.
type Opener interface {
	Open(ctx context.Context) (port io.ReadWriteCloser, name string, err error)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(ctx context.Context) (io.ReadWriteCloser, string, error)

// Open calls f.
func (f OpenerFunc) Open(ctx context.Context) (io.ReadWriteCloser, string, error) { return f(ctx) }

// PortSpec says which serial port to open: a path, or a USB id. Exactly one
// is set.
type PortSpec struct {
	// Path is a device path such as /dev/ttyACM0, or a symlink to one
	// (/dev/serial/by-id/...).
	Path string
	// USB, when Path is empty, is resolved to a path before every open.
	USB *USBID
}

// String describes the spec for logs.
func (s PortSpec) String() string {
	if s.USB != nil {
		return "usb:" + s.USB.String()
	}
	return s.Path
}

// Validate reports whether exactly one of Path and USB is set; errors wrap
// ErrInvalidConfig.
func (s PortSpec) Validate() error {
	switch {
	case s.Path == "" && s.USB == nil:
		return fmt.Errorf("%w: no serial port: give a path or a USB VID:PID", ErrInvalidConfig)
	case s.Path != "" && s.USB != nil:
		return fmt.Errorf("%w: serial port %q and USB %s both given; pick one", ErrInvalidConfig, s.Path, s.USB)
	}
	return nil
}

// SerialOpener opens a serial port with go.bug.st/serial: 8 data bits, no
// parity, one stop bit, at Baud (DefaultBaud when 0).
type SerialOpener struct {
	// Spec is the port to open.
	Spec PortSpec
	// Baud is the speed; 0 means DefaultBaud.
	Baud int
	// List enumerates ports to resolve Spec.USB; nil uses ListPorts. Tests
	// point it at pseudo-terminals.
	List ListFunc
}

// Open resolves the spec and opens the port.
func (o *SerialOpener) Open(ctx context.Context) (io.ReadWriteCloser, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if err := o.Spec.Validate(); err != nil {
		return nil, "", err
	}
	path := o.Spec.Path
	if o.Spec.USB != nil {
		var err error
		if path, err = ResolveUSB(*o.Spec.USB, o.List); err != nil {
			return nil, "", err
		}
	}
	baud := o.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	port, err := serial.Open(path, mode)
	if err != nil {
		return nil, path, fmt.Errorf("bridge: open %s at %d baud: %w", path, baud, err)
	}
	return port, path, nil
}
