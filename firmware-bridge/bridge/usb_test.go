package bridge

import (
	"errors"
	"testing"

	"go.bug.st/serial/enumerator"
)

func TestParseUSBID(t *testing.T) {
	tests := []struct {
		in   string
		want USBID
		str  string
		ok   bool
	}{
		{"2e8a:000a", USBID{VID: 0x2e8a, PID: 0x000a}, "2E8A:000A", true},
		{"2E8A:A", USBID{VID: 0x2e8a, PID: 0x000a}, "2E8A:000A", true},
		{"0x10c4:0xEA60:0001", USBID{VID: 0x10c4, PID: 0xea60, Serial: "0001"}, "10C4:EA60:0001", true},
		{"1a86:7523:ser:with:colons", USBID{VID: 0x1a86, PID: 0x7523, Serial: "ser:with:colons"}, "1A86:7523:ser:with:colons", true},
		{"2e8a", USBID{}, "", false},
		{"2e8a:", USBID{}, "", false},
		{"12345:0001", USBID{}, "", false},
		{"zz:0001", USBID{}, "", false},
		{"2e8a:000a:", USBID{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUSBID(tt.in)
			if !tt.ok {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("ParseUSBID(%q) = %v, %v; want ErrInvalidConfig", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want || got.String() != tt.str {
				t.Fatalf("ParseUSBID(%q) = %+v (%s), %v; want %+v (%s)", tt.in, got, got, err, tt.want, tt.str)
			}
		})
	}
}

func TestResolveUSB(t *testing.T) {
	ports := []*enumerator.PortDetails{
		{Name: "/dev/ttyS0"},
		{Name: "/dev/ttyACM0", IsUSB: true, VID: "2E8A", PID: "000A", SerialNumber: "AAA"},
		{Name: "/dev/ttyACM1", IsUSB: true, VID: "2E8A", PID: "000A", SerialNumber: "BBB"},
		{Name: "/dev/ttyUSB0", IsUSB: true, VID: "10C4", PID: "EA60", SerialNumber: "X"},
	}
	list := func() ([]*enumerator.PortDetails, error) { return ports, nil }
	tests := []struct {
		id   string
		want string
		err  error
	}{
		{"10c4:ea60", "/dev/ttyUSB0", nil},
		{"2e8a:000a:BBB", "/dev/ttyACM1", nil},
		{"2e8a:000a", "", ErrAmbiguousPort},
		{"2e8a:000a:CCC", "", ErrPortNotFound},
		{"0403:6001", "", ErrPortNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			id, err := ParseUSBID(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ResolveUSB(id, list)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("ResolveUSB(%s) = %q, %v; want %q, %v", tt.id, got, err, tt.want, tt.err)
			}
		})
	}
	failing := func() ([]*enumerator.PortDetails, error) { return nil, errors.New("sysfs gone") }
	if _, err := ResolveUSB(USBID{VID: 1, PID: 2}, failing); err == nil {
		t.Fatal("enumeration failure not reported")
	}
}
