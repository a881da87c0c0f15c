package cuda

import (
	"os/exec"
	"testing"
)

func TestDevicecheckScriptIsShellcheckClean(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed")
	}
	if out, err := exec.Command(sc, "devicecheck.sh").CombinedOutput(); err != nil {
		t.Errorf("shellcheck devicecheck.sh: %v\n%s", err, out)
	}
	if out, err := exec.Command("bash", "-n", "devicecheck.sh").CombinedOutput(); err != nil {
		t.Errorf("bash -n devicecheck.sh: %v\n%s", err, out)
	}
}
