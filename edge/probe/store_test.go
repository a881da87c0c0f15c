package probe_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/edge/probe"
)

// trained returns a small trained model.
func trained(t testing.TB, seed uint64) *probe.Model {
	t.Helper()
	examples, _ := clusters(seed, []int{8, 6, 7}, 10, 0.2)
	m, err := probe.Train(context.Background(), examples, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Model = "4f2a"
	return m
}

// sameModel compares every exported field (the weights by value).
func sameModel(t *testing.T, got, want *probe.Model) {
	t.Helper()
	g, w := *got, *want
	if !slices.Equal(g.Weights.Data().([]float32), w.Weights.Data().([]float32)) || !g.Weights.Shape().Eq(w.Weights.Shape()) {
		t.Errorf("weights differ")
	}
	if !g.Trained.Equal(w.Trained) {
		t.Errorf("trained %v, want %v", g.Trained, w.Trained)
	}
	g.Weights, w.Weights, g.Trained = nil, nil, w.Trained
	g.SetGEMM(nil)
	w.SetGEMM(nil)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got %+v\nwant %+v", g, w)
	}
}

func newStore(t *testing.T, keep int) (*probe.Store, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s, err := probe.OpenStore(filepath.Join(t.TempDir(), "probe"), probe.StoreOptions{Keep: keep, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

func TestStoreRoundTrip(t *testing.T) {
	s, _ := newStore(t, 0)
	if _, err := s.Latest(); !errors.Is(err, probe.ErrNoProbe) {
		t.Fatalf("empty store: %v", err)
	}
	m := trained(t, 1)
	v, err := s.Save(m)
	if err != nil {
		t.Fatal(err)
	}
	if v != 1 || m.Version != 1 {
		t.Errorf("first save: version %d (model %d), want 1", v, m.Version)
	}
	got, err := s.Latest()
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, got, m)
	x := make([]float32, m.Dim)
	x[3] = 1
	if a, b := must(m.Predict(x)), must(got.Predict(x)); !reflect.DeepEqual(a, b) {
		t.Errorf("predictions differ after the round trip: %+v vs %+v", b, a)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "probe-v1.json")); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want the one probe file", len(entries))
	}
}

func TestStoreVersions(t *testing.T) {
	s, _ := newStore(t, 3)
	var last *probe.Model
	for i := 1; i <= 6; i++ {
		last = trained(t, uint64(i))
		v, err := s.Save(last)
		if err != nil {
			t.Fatal(err)
		}
		if v != i {
			t.Errorf("save %d got version %d", i, v)
		}
	}
	versions, err := s.Versions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(versions, []int{4, 5, 6}) {
		t.Errorf("versions %v, want the last 3", versions)
	}
	got, err := s.Latest()
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, got, last)
	old, err := s.Load(5)
	if err != nil || old.Version != 5 {
		t.Errorf("load 5: %v", err)
	}
	if _, err := s.Load(2); !errors.Is(err, probe.ErrNoProbe) {
		t.Errorf("pruned version: %v", err)
	}
	// A reopened store continues the numbering.
	s2, err := probe.OpenStore(s.Dir(), probe.StoreOptions{Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s2.Save(trained(t, 9)); err != nil || v != 7 {
		t.Errorf("save after reopening: version %d, %v", v, err)
	}
}

func TestStoreCorrupt(t *testing.T) {
	s, logs := newStore(t, 2)
	good := trained(t, 1)
	if _, err := s.Save(good); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(trained(t, 2)); err != nil {
		t.Fatal(err)
	}
	// Damage version 2 in ways JSON alone would not catch, then truncate a third.
	data, err := os.ReadFile(s.Path(2))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(`"bias":[`)) + len(`"bias":[`)
	for data[i] < '1' || data[i] > '9' { // the first non-zero digit of the first bias
		i++
	}
	flipped := slices.Clone(data)
	flipped[i] = '1' + (data[i]-'1'+4)%9
	if err := os.WriteFile(s.Path(2), flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(3), data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[int]string{2: "checksum", 3: "probe-v3.json"} {
		if _, err := s.Load(v); !errors.Is(err, probe.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("load %d: %v, want ErrCorrupt mentioning %q", v, err, want)
		}
	}
	got, err := s.Latest()
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 {
		t.Errorf("latest is version %d, want 1 (2 and 3 are corrupt)", got.Version)
	}
	sameModel(t, got, good)
	for _, name := range []string{"probe-v2.json", "probe-v3.json"} {
		if !strings.Contains(logs.String(), name) {
			t.Errorf("log does not report %s:\n%s", name, logs)
		}
	}
	// Saving numbers past the corrupt files and never deletes them.
	for want := 4; want <= 6; want++ {
		if v, err := s.Save(trained(t, uint64(want))); err != nil || v != want {
			t.Fatalf("save: version %d, %v; want %d", v, err, want)
		}
	}
	versions, _ := s.Versions()
	if !slices.Equal(versions, []int{2, 3, 5, 6}) {
		t.Errorf("versions %v, want the corrupt 2 and 3 kept and 5, 6", versions)
	}
	// A file holding another version than its name says is corrupt too.
	if err := os.Rename(s.Path(5), s.Path(8)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(8); !errors.Is(err, probe.ErrCorrupt) {
		t.Errorf("renamed file: %v", err)
	}
	if got, err := s.Latest(); err != nil || got.Version != 6 {
		t.Errorf("latest after a renamed file: %v", err)
	}
	// Nothing valid left.
	for _, v := range []int{6, 8} {
		if err := os.WriteFile(s.Path(v), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Latest(); !errors.Is(err, probe.ErrNoProbe) || !errors.Is(err, probe.ErrCorrupt) {
		t.Errorf("all corrupt: %v", err)
	}
}

func TestStoreIgnoresOtherNames(t *testing.T) {
	s, _ := newStore(t, 0)
	for _, name := range []string{"probe-v01.json", "probe-v.json", "probe-v2.json.tmp", ".probe-v3.json.123.tmp", "probe-vx.json", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.Versions(); err != nil || len(v) != 0 {
		t.Errorf("versions %v, %v", v, err)
	}
	if v, err := s.Save(trained(t, 1)); err != nil || v != 1 {
		t.Errorf("save: %d, %v", v, err)
	}
}

// FuzzLoad feeds arbitrary bytes to the probe file parser: it must never
// panic, and whatever it accepts must encode and decode to the same model.
func FuzzLoad(f *testing.F) {
	m := trained(f, 1)
	valid, err := probe.Encode(m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/3])
	f.Add([]byte(`{"format":"mocoedge-probe","format_version":1,"sha256":"","probe":{}}`))
	f.Add([]byte(`{"format":"mocoedge-probe","format_version":1,"probe":null}`))
	f.Add([]byte{})
	body := valid[bytes.Index(valid, []byte(`"probe":`))+len(`"probe":`) : bytes.LastIndexByte(valid, '}')]
	f.Add(body)
	f.Add([]byte(`{"classes":["a","b"],"counts":[1,1],"dim":1,"weights":[1,2],"bias":[0,0],"temperature":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// data as a whole file, and as the model body of a file with the
		// right checksum so that the checks behind it are reached too.
		check(t, data)
		sum := sha256.Sum256(data)
		check(t, fmt.Appendf(nil, `{"format":"mocoedge-probe","format_version":1,"sha256":"%x","probe":%s}`, sum, data))
	})
}

// check decodes data and, when that succeeds, encodes and decodes it again.
func check(t *testing.T, data []byte) {
	m, err := probe.Decode(data)
	if err != nil {
		if !errors.Is(err, probe.ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
		return
	}
	again, err := probe.Encode(m)
	if err != nil {
		t.Fatalf("accepted model does not encode: %v", err)
	}
	m2, err := probe.Decode(again)
	if err != nil {
		t.Fatalf("re-encoded model does not decode: %v", err)
	}
	sameModel(t, m2, m)
	x := make([]float32, m.Dim)
	x[0] = 1
	if _, err := m.Predict(x); err != nil {
		t.Fatalf("accepted model cannot predict: %v", err)
	}
}
