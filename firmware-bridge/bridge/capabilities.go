package bridge

import (
	"fmt"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// capabilityName names one capability bit, or returns "" for a reserved one.
func capabilityName(c protocol.Capability) string {
	switch c {
	case protocol.CapLED:
		return "led"
	case protocol.CapRelay:
		return "relay"
	case protocol.CapButton:
		return "button"
	case protocol.CapTrigger:
		return "trigger"
	case protocol.CapSensor:
		return "sensor"
	case protocol.CapCamera:
		return "camera"
	case protocol.CapLog:
		return "log"
	}
	return ""
}

// CapabilityNames names the bits set in c in bit order: "led", "relay",
// "button", "trigger", "sensor", "camera", "log", and reserved bits as
// "bit7" to "bit31".
func CapabilityNames(c protocol.Capability) []string {
	names := []string{}
	for bit := range 32 {
		b := protocol.Capability(1) << bit
		if !c.Has(b) {
			continue
		}
		name := capabilityName(b)
		if name == "" {
			name = fmt.Sprintf("bit%d", bit)
		}
		names = append(names, name)
	}
	return names
}
