package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/jsonl"
)

// options are every setting of every verb, after defaults, environment and
// flags.
type options struct {
	logLevel slog.Level
	logJSON  bool

	// run
	port           string
	usb            *bridge.USBID
	baud           int
	heartbeat      time.Duration
	silentAfter    int
	recycleAfter   int
	commandTimeout time.Duration
	frames         jsonl.FrameMode
	frameDir       string
	frameQueue     int
	mapping        string
	statsEvery     time.Duration

	// simulate
	pty          bool
	link         string
	deviceID     string
	firmware     string
	triggerEvery time.Duration
	buttonEvery  time.Duration
	cameraEvery  time.Duration
	cameraDir    string
	ber          float64
	garbageEvery time.Duration
}

// setting is one option: its flag, its environment variable, its default
// and a line of help. This table is the only place they are defined; flags,
// environment and --help all come from it.
type setting struct {
	name  string
	env   string
	def   string
	usage string
	verbs []string // the verbs that take it
	bool  bool     // a switch: --name alone means true
	set   func(o *options, v string) error
}

const (
	verbRun      = "run"
	verbList     = "list"
	verbSimulate = "simulate"
)

// settings returns the table. It is a function, not a variable, so that
// nothing in the package is mutable.
func settings() []setting {
	allVerbs := []string{verbRun, verbList, verbSimulate}
	return []setting{
		{name: "log-level", env: "MOCOEDGE_LOG_LEVEL", def: "info", verbs: allVerbs,
			usage: "log level on stderr: debug, info, warn or error",
			set: func(o *options, v string) error {
				return o.logLevel.UnmarshalText([]byte(v))
			}},
		{name: "json", env: "MOCOEDGE_LOG_JSON", def: "false", verbs: allVerbs, bool: true,
			usage: "logs as JSON on stderr (and, for list, JSON lines on stdout)",
			set:   func(o *options, v string) (err error) { o.logJSON, err = strconv.ParseBool(v); return err }},

		{name: "port", env: "MOCOEDGE_BRIDGE_PORT", verbs: []string{verbRun},
			usage: "serial port path, e.g. /dev/ttyACM0 or a /dev/serial/by-id/ link",
			set:   func(o *options, v string) error { o.port = v; return nil }},
		{name: "usb", env: "MOCOEDGE_BRIDGE_USB", verbs: []string{verbRun},
			usage: "serial port by USB id, VID:PID[:SERIAL] in hex, found again at every reconnect",
			set: func(o *options, v string) error {
				if v == "" {
					o.usb = nil
					return nil
				}
				id, err := bridge.ParseUSBID(v)
				o.usb = &id
				return err
			}},
		{name: "baud", env: "MOCOEDGE_BRIDGE_BAUD", def: strconv.Itoa(bridge.DefaultBaud), verbs: []string{verbRun},
			usage: "serial speed in baud (8N1)",
			set:   func(o *options, v string) error { return positiveInt(&o.baud, v) }},
		{name: "heartbeat", env: "MOCOEDGE_BRIDGE_HEARTBEAT", def: bridge.DefaultHeartbeat.String(), verbs: []string{verbRun, verbSimulate},
			usage: "heartbeat interval, and the unit of the watchdog's periods",
			set:   func(o *options, v string) error { return positiveDuration(&o.heartbeat, v) }},
		{name: "silent-after", env: "MOCOEDGE_BRIDGE_SILENT_AFTER", def: strconv.Itoa(bridge.DefaultSilentAfter), verbs: []string{verbRun},
			usage: "heartbeat intervals without a frame before the board is reported silent",
			set:   func(o *options, v string) error { return positiveInt(&o.silentAfter, v) }},
		{name: "recycle-after", env: "MOCOEDGE_BRIDGE_RECYCLE_AFTER", def: strconv.Itoa(bridge.DefaultRecycleAfter), verbs: []string{verbRun},
			usage: "heartbeat intervals without a frame before the port is closed and opened again",
			set:   func(o *options, v string) error { return positiveInt(&o.recycleAfter, v) }},
		{name: "command-timeout", env: "MOCOEDGE_BRIDGE_COMMAND_TIMEOUT", def: bridge.DefaultCommandTimeout.String(), verbs: []string{verbRun},
			usage: "bound on one LED or relay command, retries included",
			set:   func(o *options, v string) error { return positiveDuration(&o.commandTimeout, v) }},
		{name: "frames", env: "MOCOEDGE_BRIDGE_FRAMES", def: "meta", verbs: []string{verbRun},
			usage: "camera frames on stdout: meta (a line without the picture), data (with the JPEG in base64) or off",
			set:   func(o *options, v string) (err error) { o.frames, err = jsonl.ParseFrameMode(v); return err }},
		{name: "frame-dir", env: "MOCOEDGE_BRIDGE_FRAME_DIR", verbs: []string{verbRun},
			usage: "directory to write every camera frame to as a JPEG file",
			set:   func(o *options, v string) error { o.frameDir = v; return nil }},
		{name: "frame-queue", env: "MOCOEDGE_BRIDGE_FRAME_QUEUE", def: strconv.Itoa(bridge.DefaultFrameQueue), verbs: []string{verbRun},
			usage: "camera frames waiting for stdout before the oldest is dropped",
			set:   func(o *options, v string) error { return positiveInt(&o.frameQueue, v) }},
		{name: "mapping", env: "MOCOEDGE_BRIDGE_MAPPING", verbs: []string{verbRun},
			usage: "JSON file mapping predictions to LED/relay commands and buttons to actions",
			set:   func(o *options, v string) error { o.mapping = v; return nil }},
		{name: "stats-every", env: "MOCOEDGE_BRIDGE_STATS_EVERY", def: "0s", verbs: []string{verbRun},
			usage: "interval of stats lines on stdout (0: only on request)",
			set:   func(o *options, v string) error { return nonNegativeDuration(&o.statsEvery, v) }},

		{name: "pty", env: "MOCOEDGE_SIM_PTY", def: "true", verbs: []string{verbSimulate}, bool: true,
			usage: "play the board on a new pseudo-terminal and print its path on stdout (the only mode so far)",
			set:   func(o *options, v string) (err error) { o.pty, err = strconv.ParseBool(v); return err }},
		{name: "link", env: "MOCOEDGE_SIM_LINK", verbs: []string{verbSimulate},
			usage: "also make this path a symlink to the pseudo-terminal, for a stable --port",
			set:   func(o *options, v string) error { o.link = v; return nil }},
		{name: "id", env: "MOCOEDGE_SIM_ID", def: "sim-0001", verbs: []string{verbSimulate},
			usage: "the simulated board's device id",
			set:   func(o *options, v string) error { o.deviceID = v; return nil }},
		{name: "firmware", env: "MOCOEDGE_SIM_FIRMWARE", def: "sim-1.0.0", verbs: []string{verbSimulate},
			usage: "the simulated board's firmware version",
			set:   func(o *options, v string) error { o.firmware = v; return nil }},
		{name: "trigger-every", env: "MOCOEDGE_SIM_TRIGGER_EVERY", def: "5s", verbs: []string{verbSimulate},
			usage: "interval between triggers from input 0 (0: none)",
			set:   func(o *options, v string) error { return nonNegativeDuration(&o.triggerEvery, v) }},
		{name: "button-every", env: "MOCOEDGE_SIM_BUTTON_EVERY", def: "0s", verbs: []string{verbSimulate},
			usage: "interval between button presses, cycling 0 short, 1 short, 0 long (0: none)",
			set:   func(o *options, v string) error { return nonNegativeDuration(&o.buttonEvery, v) }},
		{name: "camera-every", env: "MOCOEDGE_SIM_CAMERA_EVERY", def: "1s", verbs: []string{verbSimulate},
			usage: "interval between camera frames (0: none)",
			set:   func(o *options, v string) error { return nonNegativeDuration(&o.cameraEvery, v) }},
		{name: "camera-dir", env: "MOCOEDGE_SIM_CAMERA_DIR", verbs: []string{verbSimulate},
			usage: "folder of .jpg files the camera cycles through (default: generated pictures)",
			set:   func(o *options, v string) error { o.cameraDir = v; return nil }},
		{name: "ber", env: "MOCOEDGE_SIM_BER", def: "0", verbs: []string{verbSimulate},
			usage: "bit error rate on the line to the host, e.g. 1e-4",
			set: func(o *options, v string) error {
				f, err := strconv.ParseFloat(v, 64)
				if err == nil && (f < 0 || f >= 1) {
					err = errors.New("not in [0, 1)")
				}
				o.ber = f
				return err
			}},
		{name: "garbage-every", env: "MOCOEDGE_SIM_GARBAGE_EVERY", def: "0s", verbs: []string{verbSimulate},
			usage: "interval between bursts of 64 random bytes on the line (0: none)",
			set:   func(o *options, v string) error { return nonNegativeDuration(&o.garbageEvery, v) }},
	}
}

func positiveInt(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err == nil && n <= 0 {
		err = errors.New("not positive")
	}
	*dst = n
	return err
}

func positiveDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = errors.New("not positive")
	}
	*dst = d
	return err
}

func nonNegativeDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	*dst = d
	return err
}

// verbSettings returns the settings verb takes.
func verbSettings(verb string) []setting {
	var out []setting
	for _, s := range settings() {
		if slices.Contains(s.verbs, verb) {
			out = append(out, s)
		}
	}
	return out
}

// parse fills options for verb from the defaults, then the environment,
// then args, and returns the remaining arguments. Errors are one line;
// flag.ErrHelp means --help was asked for.
func parse(verb string, args []string, env func(string) (string, bool)) (*options, []string, error) {
	o := &options{}
	set := verbSettings(verb)
	for _, s := range set {
		if err := s.set(o, s.def); err != nil {
			return nil, nil, fmt.Errorf("default of --%s: %w", s.name, err)
		}
	}
	for _, s := range set {
		if v, ok := env(s.env); ok {
			if err := s.set(o, v); err != nil {
				return nil, nil, fmt.Errorf("%s=%q: %w", s.env, v, err)
			}
		}
	}
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, s := range set {
		apply := func(v string) error { return s.set(o, v) }
		if s.bool {
			fs.BoolFunc(s.name, s.usage, func(v string) error { return apply(v) })
		} else {
			fs.Func(s.name, s.usage, apply)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, flag.ErrHelp
		}
		return nil, nil, errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return o, fs.Args(), nil
}
