package bridge

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

func TestConfigValidation(t *testing.T) {
	usb := &USBID{VID: 1, PID: 2}
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"path", Config{Port: PortSpec{Path: "/dev/ttyACM0"}}, true},
		{"usb", Config{Port: PortSpec{USB: usb}}, true},
		{"custom opener needs no port", Config{Opener: OpenerFunc(nil)}, true},
		{"no port", Config{}, false},
		{"path and usb", Config{Port: PortSpec{Path: "/dev/x", USB: usb}}, false},
		{"heartbeat too fast", Config{Port: PortSpec{Path: "p"}, Heartbeat: time.Millisecond}, false},
		{"recycle before silent", Config{Port: PortSpec{Path: "p"}, SilentAfter: 5, RecycleAfter: 2}, false},
		{"silent alone raises recycle", Config{Port: PortSpec{Path: "p"}, SilentAfter: 20}, true},
		{"negative timeout", Config{Port: PortSpec{Path: "p"}, CommandTimeout: -1}, false},
		{"negative queue", Config{Port: PortSpec{Path: "p"}, FrameQueue: -1}, false},
		{"host id with newline", Config{Port: PortSpec{Path: "p"}, HostID: "a\nb"}, false},
		{"negative baud", Config{Port: PortSpec{Path: "p"}, Baud: -9600}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, nil)
			if tt.ok && err != nil {
				t.Fatalf("New: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Port: PortSpec{Path: "p"}}.withDefaults()
	if c.Baud != 921600 || c.Heartbeat != time.Second || c.SilentAfter != 3 || c.RecycleAfter != 10 ||
		c.FrameQueue != DefaultFrameQueue || c.EventQueue != DefaultEventQueue || c.HostID != "fwbridge" ||
		c.Logger == nil || c.Backoff.Initial != DefaultBackoffInitial {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestCapabilityNames(t *testing.T) {
	tests := []struct {
		c    protocol.Capability
		want string
	}{
		{0, ""},
		{protocol.CapLED | protocol.CapCamera, "led,camera"},
		{protocol.CapLog | 1<<9, "log,bit9"},
		{0x7F, "led,relay,button,trigger,sensor,camera,log"},
	}
	for _, tt := range tests {
		got := CapabilityNames(tt.c)
		if strings.Join(got, ",") != tt.want || got == nil {
			t.Errorf("CapabilityNames(%#x) = %q, want %q", uint32(tt.c), got, tt.want)
		}
	}
	if !slices.Equal(CapabilityNames(protocol.CapRelay), []string{"relay"}) {
		t.Error("relay")
	}
}
