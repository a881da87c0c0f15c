package engine

import (
	"testing"

	"github.com/mocoedge/mocoedge/models"
)

func mustArch(t testing.TB, name string, width float64, classes int) *models.Arch {
	t.Helper()
	a, err := models.New(name, width, classes)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
