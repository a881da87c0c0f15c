package cuda

import (
	"bytes"
	"regexp"
	"slices"
	"testing"
)

func TestCacheKey(t *testing.T) {
	a100, h100 := Arch{8, 0}, Arch{9, 0}
	k := CacheKey("kernel A", a100)
	if !regexp.MustCompile(`^[0-9a-f]{32}-sm_80$`).MatchString(k) {
		t.Errorf("key %q, want 32 hex digits and -sm_80", k)
	}
	if k != CacheKey("kernel A", a100) {
		t.Error("the key is not deterministic")
	}
	if k == CacheKey("kernel B", a100) || k == CacheKey("kernel A", h100) {
		t.Error("another source or device must give another key")
	}
	if got := (Arch{8, 6}).String(); got != "sm_86" {
		t.Errorf("Arch{8,6} = %q", got)
	}
	if !slices.Contains(nvrtcOptions(h100), "--gpu-architecture=sm_90") {
		t.Errorf("options %q do not target sm_90", nvrtcOptions(h100))
	}
	if slices.Contains(nvrtcOptions(h100), "--use_fast_math") {
		t.Error("fast math would break parity with the CPU")
	}
}

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir() + "/nested/cuda"
	key := CacheKey(kernelSource, Arch{8, 9})
	if b, err := readCache(dir, key); b != nil || err != nil {
		t.Fatalf("empty cache gave %v, %v", b, err)
	}
	cubin := []byte("\x7fELF fake cubin")
	if err := writeCache(dir, key, cubin); err != nil {
		t.Fatal(err)
	}
	b, err := readCache(dir, key)
	if err != nil || !bytes.Equal(b, cubin) {
		t.Fatalf("read back %q, %v", b, err)
	}
	if b, _ := readCache(dir, CacheKey(kernelSource, Arch{9, 0})); b != nil {
		t.Error("another device's key hit the cache")
	}
}
