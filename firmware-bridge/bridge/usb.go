package bridge

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.bug.st/serial/enumerator"
)

// USBID names a USB serial device by vendor and product id, and optionally
// its serial number (needed when several identical boards are plugged in).
type USBID struct {
	// VID and PID are the USB vendor and product ids.
	VID, PID uint16
	// Serial is the USB serial number; empty matches any.
	Serial string
}

// ParseUSBID parses "VID:PID" or "VID:PID:SERIAL" with VID and PID as four
// hex digits at most (for instance "2e8a:000a" or "2E8A:000A:E6614103E7").
// Errors wrap ErrInvalidConfig.
func ParseUSBID(s string) (USBID, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 {
		return USBID{}, fmt.Errorf("%w: USB id %q is not VID:PID[:SERIAL]", ErrInvalidConfig, s)
	}
	vid, err := parseHex16(parts[0])
	if err != nil {
		return USBID{}, fmt.Errorf("%w: USB id %q: vendor id: %w", ErrInvalidConfig, s, err)
	}
	pid, err := parseHex16(parts[1])
	if err != nil {
		return USBID{}, fmt.Errorf("%w: USB id %q: product id: %w", ErrInvalidConfig, s, err)
	}
	id := USBID{VID: vid, PID: pid}
	if len(parts) == 3 {
		if parts[2] == "" {
			return USBID{}, fmt.Errorf("%w: USB id %q has an empty serial number", ErrInvalidConfig, s)
		}
		id.Serial = parts[2]
	}
	return id, nil
}

func parseHex16(s string) (uint16, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" || len(s) > 4 {
		return 0, fmt.Errorf("%q is not 1 to 4 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("%q is not hex", s)
	}
	return uint16(v), nil
}

// String formats the id as ParseUSBID reads it, with upper-case hex.
func (u USBID) String() string {
	s := fmt.Sprintf("%04X:%04X", u.VID, u.PID)
	if u.Serial != "" {
		s += ":" + u.Serial
	}
	return s
}

// Matches reports whether d is a USB port with this id.
func (u USBID) Matches(d *enumerator.PortDetails) bool {
	if d == nil || !d.IsUSB {
		return false
	}
	vid, err := parseHex16(d.VID)
	if err != nil || vid != u.VID {
		return false
	}
	pid, err := parseHex16(d.PID)
	if err != nil || pid != u.PID {
		return false
	}
	return u.Serial == "" || d.SerialNumber == u.Serial
}

// ListFunc lists the serial ports with their USB details, as
// enumerator.GetDetailedPortsList does.
type ListFunc func() ([]*enumerator.PortDetails, error)

// ListPorts lists the serial ports with their USB details (go.bug.st/serial's
// enumerator), sorted by path.
func ListPorts() ([]*enumerator.PortDetails, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("bridge: list serial ports: %w", err)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
	return ports, nil
}

// ResolveUSB returns the path of the one serial port that list reports for
// id (list nil: ListPorts). No match wraps ErrPortNotFound, several wrap
// ErrAmbiguousPort.
func ResolveUSB(id USBID, list ListFunc) (string, error) {
	if list == nil {
		list = ListPorts
	}
	ports, err := list()
	if err != nil {
		return "", fmt.Errorf("bridge: resolve USB %s: %w", id, err)
	}
	var found []string
	for _, p := range ports {
		if id.Matches(p) {
			found = append(found, p.Name)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: USB %s (%d ports listed)", ErrPortNotFound, id, len(ports))
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", fmt.Errorf("%w: USB %s is %s; add :SERIAL", ErrAmbiguousPort, id, strings.Join(found, ", "))
}
