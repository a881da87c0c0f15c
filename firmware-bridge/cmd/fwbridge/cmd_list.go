package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// portLine is one port in list --json.
type portLine struct {
	Path         string `json:"path"`
	USB          bool   `json:"usb"`
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	// Spec is the --usb value that selects this port.
	Spec string `json:"spec,omitempty"`
}

// cmdList prints the serial ports, as a table or as JSON lines.
func cmdList(o *options, std stdio) error {
	ports, err := bridge.ListPorts()
	if err != nil {
		return err
	}
	lines := make([]portLine, 0, len(ports))
	for _, p := range ports {
		l := portLine{Path: p.Name, USB: p.IsUSB, VID: p.VID, PID: p.PID, Serial: p.SerialNumber,
			Manufacturer: p.Manufacturer, Product: p.Product}
		if p.IsUSB {
			if id, err := bridge.ParseUSBID(p.VID + ":" + p.PID); err == nil {
				id.Serial = p.SerialNumber
				l.Spec = id.String()
			}
		}
		lines = append(lines, l)
	}
	if o.logJSON {
		enc := json.NewEncoder(std.out)
		for _, l := range lines {
			if err := enc.Encode(l); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		return nil
	}
	if len(lines) == 0 {
		fmt.Fprintln(std.err, "no serial ports found")
		return nil
	}
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tVID:PID\tSERIAL\tPRODUCT\t--usb")
	for _, l := range lines {
		vidpid := "-"
		if l.USB {
			vidpid = l.VID + ":" + l.PID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Path, vidpid, dash(l.Serial), dash(l.Manufacturer+" "+l.Product), dash(l.Spec))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" || s == " " {
		return "-"
	}
	return s
}
