package main

import (
	"fmt"
	"io"
	"strings"
)

// verbHelp is each verb's synopsis and description.
func verbHelp(verb string) (synopsis, about string) {
	switch verb {
	case verbRun:
		return "fwbridge run (--port PATH | --usb VID:PID[:SERIAL]) [flags]",
			`Links the board and prints every event as one JSON line on stdout
(status, trigger, button, sensor, log, frame, result, stats), and reads
LED, relay and prediction commands as JSON lines on stdin, e.g.
  {"cmd":"led","request":"r1","id":0,"mode":"on"}
  {"cmd":"relay","request":"r2","id":0,"on":true,"pulse_ms":500}
The format is documented in package firmware-bridge/jsonl. The port is
re-opened with back-off after an unplug or an error; SIGINT or SIGTERM
stop it cleanly.`
	case verbList:
		return "fwbridge list [flags]",
			"Lists the serial ports with their USB vendor id, product id and serial\nnumber, for --port and --usb."
	case verbSimulate:
		return "fwbridge simulate [--pty] [flags]",
			`Plays a board on a new pseudo-terminal and prints its path on stdout,
so that the bridge can be tried without hardware:
  fwbridge simulate --link /tmp/board     # in one terminal
  fwbridge run --port /tmp/board          # in another
The board sends HELLO, heartbeats, triggers, button presses and camera
frames on the schedules below, applies LED and relay commands (logged on
stderr), and can add line noise. SIGINT or SIGTERM stop it.`
	}
	return "", ""
}

// printUsage writes the top-level help.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `fwbridge links a mocoedge firmware board (triggers, buttons, LEDs, relays,
a UART camera) to its host over a serial port.

Usage:
  fwbridge run (--port PATH | --usb VID:PID[:SERIAL]) [flags]   link a board, JSON lines on stdout
  fwbridge list [flags]                                          list serial ports
  fwbridge simulate [--pty] [flags]                              play a board on a pseudo-terminal

Run "fwbridge <verb> --help" for a verb's flags. Every flag can also be set
by the environment variable named in the help; flags win.
`)
}

// printVerbUsage writes a verb's help, generated from the settings table.
func printVerbUsage(w io.Writer, verb string) {
	synopsis, about := verbHelp(verb)
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", synopsis, about)
	for _, s := range verbSettings(verb) {
		name := "--" + s.name
		if !s.bool {
			name += " " + placeholder(s)
		}
		fmt.Fprintf(w, "  %s\n      %s\n      env %s", name, s.usage, s.env)
		if s.def != "" {
			fmt.Fprintf(w, ", default %s", s.def)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "  --help\n      this help")
}

// placeholder names a flag's value in the help.
func placeholder(s setting) string {
	switch {
	case strings.Contains(s.name, "every") || s.name == "heartbeat" || strings.Contains(s.name, "timeout"):
		return "DURATION"
	case strings.Contains(s.name, "dir"):
		return "DIR"
	case s.name == "usb":
		return "VID:PID[:SERIAL]"
	case s.name == "port" || s.name == "link":
		return "PATH"
	case s.name == "mapping":
		return "FILE"
	}
	return "VALUE"
}
