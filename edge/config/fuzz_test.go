package config

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzLoad: arbitrary bytes as the file never panic; what loads and checks
// out writes back (WriteYAML) to YAML that loads to the same Config.
func FuzzLoad(f *testing.F) {
	var b bytes.Buffer
	if err := WriteDefault(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	b.Reset()
	if err := full().WriteYAML(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	for _, seed := range []string{
		"", "~", "- a", "a: [", "mqtt:\n  brokr: x\n", "batch: {max: 1.5, max_wait: 10}\n",
		"sources:\n  - &a {name: a, kind: files, path: x}\n  - *a\n", "x: &x [*x]\n",
		"bridge:\n  leds: {a: 1, b: x}\n", "log: {level: debug}\n---\nlog: {}\n",
		"probe: {l2: .nan, unknown_below: .inf}\n", "model: {providers: [cpu, cpu]}\n",
		"http: {addr: ':8080', addr: ':9090'}\n", "<<: {a: 1}\n", "? [a]\n: b\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if err := c.decodeYAML("fuzz.yaml", data); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		c.applySourceDefaults()
		if c.check() != nil {
			return
		}
		var out bytes.Buffer
		if err := c.WriteYAML(&out); err != nil {
			t.Fatalf("WriteYAML: %v", err)
		}
		back := Default()
		if err := back.decodeYAML("back.yaml", out.Bytes()); err != nil {
			t.Fatalf("written config does not load: %v\n%s", err, out.Bytes())
		}
		back.applySourceDefaults()
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v\n%s", c, back, out.Bytes())
		}
	})
}
