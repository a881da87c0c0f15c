package firmware

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCUnit runs the C unit tests: COBS, CRC and frames against the golden
// vectors of the Go tests and the vectors the Go encoder wrote, and the
// firmware's state machine on a fake HAL.
func TestCUnit(t *testing.T) {
	tests := []struct {
		name     string
		flags    []string
		optional bool // skip when the toolchain lacks it
	}{
		{"O2", []string{"-O2"}, false},
		{"sanitizers", []string{"-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := gcc(t)
			bin := unitTestBinary(t)
			if tt.optional {
				bin = filepath.Join(buildDir, "fwtest-"+tt.name)
				args := append(append(append([]string{}, warnFlags...), tt.flags...), "-Isrc", "-o", bin)
				args = append(args, sources(t, "src/mp_*.c", "src/fw*.c", "test/*.c")...)
				if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
					t.Skipf("gcc cannot build with %s here: %v\n%s", strings.Join(tt.flags, " "), err, out)
				}
			}
			out, err := exec.Command(bin, vectorsPath).CombinedOutput()
			if err != nil {
				t.Fatalf("C unit tests failed: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "PASS") {
				t.Fatalf("C unit tests: %s", out)
			}
			t.Log(strings.TrimSpace(string(out)))
		})
	}
}
