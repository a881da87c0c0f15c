package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary act as fwbridge, for the tests that need a
// real process (signals).
func TestMain(m *testing.M) {
	if os.Getenv("FWBRIDGE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// envOf returns a lookup over a fixed environment.
func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func runCLI(t *testing.T, env func(string) (string, bool), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, env, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring; for code 2, the whole stderr is one line
	}{
		{"no verb", nil, nil, exitUsage, "", "Usage:"},
		{"top help", nil, []string{"--help"}, exitOK, "fwbridge run", ""},
		{"help verb", nil, []string{"help"}, exitOK, "fwbridge simulate", ""},
		{"run help", nil, []string{"run", "--help"}, exitOK, "MOCOEDGE_BRIDGE_USB", ""},
		{"run -h", nil, []string{"run", "-h"}, exitOK, "--frame-dir DIR", ""},
		{"list help", nil, []string{"list", "--help"}, exitOK, "MOCOEDGE_LOG_LEVEL", ""},
		{"simulate help", nil, []string{"simulate", "--help"}, exitOK, "MOCOEDGE_SIM_TRIGGER_EVERY", ""},
		{"sim alias", nil, []string{"sim", "--help"}, exitOK, "fwbridge simulate", ""},
		{"unknown verb", nil, []string{"frob"}, exitUsage, "", `unknown verb "frob"`},
		{"unknown flag", nil, []string{"run", "--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{"bad value", nil, []string{"run", "--port", "/x", "--baud", "fast"}, exitUsage, "", `invalid value "fast" for flag -baud`},
		{"bad duration", nil, []string{"simulate", "--trigger-every", "-1s"}, exitUsage, "", "negative"},
		{"stray argument", nil, []string{"list", "extra"}, exitUsage, "", `unexpected argument "extra"`},
		{"no port", nil, []string{"run"}, exitUsage, "", "no serial port"},
		{"port and usb", nil, []string{"run", "--port", "/x", "--usb", "2e8a:000a"}, exitUsage, "", "pick one"},
		{"bad usb", nil, []string{"run", "--usb", "pico"}, exitUsage, "", "VID:PID"},
		{"bad env", []string{"MOCOEDGE_BRIDGE_HEARTBEAT", "often"}, []string{"run", "--port", "/x"}, exitUsage, "", "MOCOEDGE_BRIDGE_HEARTBEAT"},
		{"bad log level", []string{"MOCOEDGE_LOG_LEVEL", "loud"}, []string{"list"}, exitUsage, "", "MOCOEDGE_LOG_LEVEL"},
		{"bad frames", nil, []string{"run", "--port", "/x", "--frames", "all"}, exitUsage, "", "meta, data or off"},
		{"recycle before silent", nil, []string{"run", "--port", "/x", "--silent-after", "5", "--recycle-after", "2"}, exitUsage, "", "recycle after"},
		{"missing mapping", nil, []string{"run", "--port", "/x", "--mapping", "/nonexistent.json"}, exitFail, "", "no such file"},
		{"frame dir missing", nil, []string{"run", "--port", "/x", "--frame-dir", "/nonexistent"}, exitUsage, "", "not a directory"},
		{"bad sim id", nil, []string{"simulate", "--id", ""}, exitUsage, "", "empty device id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, envOf(tt.env...), tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d with %q / %q", code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			if tt.code == exitUsage && len(tt.args) > 0 && strings.Count(errOut, "\n") != 1 {
				t.Fatalf("usage error is not one line: %q", errOut)
			}
		})
	}
}

func TestEnvAndFlagsPrecedence(t *testing.T) {
	o, _, err := parse(verbRun, []string{"--baud", "115200"}, envOf(
		"MOCOEDGE_BRIDGE_BAUD", "9600", "MOCOEDGE_BRIDGE_HEARTBEAT", "250ms", "MOCOEDGE_LOG_JSON", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if o.baud != 115200 || o.heartbeat.String() != "250ms" || !o.logJSON || o.silentAfter != 3 {
		t.Fatalf("options %+v", o)
	}
}

func TestSettingsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range settings() {
		if seen[s.name] || seen[s.env] {
			t.Errorf("setting %s or %s defined twice", s.name, s.env)
		}
		seen[s.name], seen[s.env] = true, true
		if !strings.HasPrefix(s.env, "MOCOEDGE_") || s.usage == "" || len(s.verbs) == 0 {
			t.Errorf("setting %+v", s)
		}
		if err := s.set(&options{}, s.def); s.def != "" && err != nil {
			t.Errorf("default of %s: %v", s.name, err)
		}
	}
}

func TestList(t *testing.T) {
	code, out, errOut := runCLI(t, envOf(), "list", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var p portLine
		if err := json.Unmarshal([]byte(line), &p); err != nil || p.Path == "" {
			t.Fatalf("line %q: %v", line, err)
		}
	}
	if code, _, errOut := runCLI(t, envOf(), "list"); code != exitOK {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
}
