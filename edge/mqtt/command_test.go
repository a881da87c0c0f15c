package mqtt

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var jpegB64 = base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff\xe0fake-jpeg"))
var pngB64 = base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfake-png"))

func TestParseCommandGood(t *testing.T) {
	cases := []struct {
		verb, payload string
		check         func(Command) bool
	}{
		{"label", `{"request":"r1","id":42,"label":"cat"}`, func(c Command) bool { return *c.Label.ID == 42 && c.Label.Label == "cat" }},
		{"label", `{"request":"r1","source":"cam0","label":"dog"}`, func(c Command) bool { return c.Label.Source == "cam0" }},
		{"train", `{"request":"r2"}`, func(c Command) bool { return c.Train != nil }},
		{"query", `{"request":"r3","image":"` + jpegB64 + `","k":5,"source":"cam0","label":"cat"}`,
			func(c Command) bool { return c.Query.K == 5 && isJPEG(c.Query.Image) && c.Query.Label == "cat" }},
		{"query", `{"request":"r3","image":"` + pngB64 + `"}`, func(c Command) bool { return isPNG(c.Query.Image) }},
		{"query", `{"request":"r3","id":7,"since":"2024-01-01T00:00:00Z"}`,
			func(c Command) bool { return *c.Query.ID == 7 && c.Query.Since.Year() == 2024 }},
		{"reload", `{"request":"r4","path":"models/b.onnx"}`, func(c Command) bool { return c.Reload.Path == "models/b.onnx" }},
		{"snapshot", `{"request":"r5","source":"cam_1"}`, func(c Command) bool { return c.Snapshot.Source == "cam_1" }},
		{"config", `{"request":"r6","set":{"probe.unknown_below":0.4,"mqtt.telemetry_interval":"5s",
			"mqtt.predictions.min_interval":"0s","mqtt.predictions.on_change":true,"retrieval.k":12,"sources.cam0.fps":2.5}}`,
			func(c Command) bool {
				s := c.Config.Set
				return s["probe.unknown_below"] == 0.4 && s["mqtt.telemetry_interval"] == 5*time.Second &&
					s["mqtt.predictions.min_interval"] == time.Duration(0) && s["mqtt.predictions.on_change"] == true &&
					s["retrieval.k"] == 12 && s["sources.cam0.fps"] == 2.5
			}},
	}
	for _, tc := range cases {
		cmd, err := ParseCommand(tc.verb, []byte(tc.payload), 0)
		if err != nil {
			t.Errorf("%s %s: %v", tc.verb, tc.payload, err)
			continue
		}
		if cmd.Verb != tc.verb || cmd.Request == "" || !tc.check(cmd) {
			t.Errorf("%s %s: parsed as %+v", tc.verb, tc.payload, cmd)
		}
	}
}

func TestParseCommandBad(t *testing.T) {
	big := `{"request":"big","label":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		verb, payload, request, reason string
	}{
		{"label", `{"request":"r1",`, "", "invalid JSON"},
		{"label", `not json`, "", "JSON object"},
		{"label", `[1,2]`, "", "JSON object"},
		{"label", `{"request":"r1","id":"42","label":"cat"}`, "r1", `"id" must be a non-negative integer`},
		{"label", `{"request":"r1","id":-1,"label":"cat"}`, "r1", "non-negative integer"},
		{"label", `{"request":"r1","id":1.5,"label":"cat"}`, "r1", "non-negative integer"},
		{"label", `{"request":"r1","label":"cat"}`, "r1", `"id"`},
		{"label", `{"request":"r1","id":3,"source":"cam0","label":"cat"}`, "r1", "not both"},
		{"label", `{"request":"r1","id":3}`, "r1", `"label" must be 1-64 bytes`},
		{"label", `{"request":"r1","id":3,"label":"a\nb"}`, "r1", "control"},
		{"label", `{"request":"r1","id":3,"label":"cat","extra":1}`, "r1", "unknown field"},
		{"label", `{"id":3,"label":"cat"}`, "", `"request" is required`},
		{"label", `{"request":5,"id":3,"label":"cat"}`, "", `"request" must be a string`},
		{"label", `{"request":"r1","id":3,"label":"cat"} {"x":1}`, "r1", "after the JSON"},
		{"train", `{"request":"r2","now":true}`, "r2", "unknown field"},
		{"train", `{"request":"has space"}`, "", "printable"},
		{"query", `{"request":"r3"}`, "r3", `"image"`},
		{"query", `{"request":"r3","image":"%%%"}`, "r3", "base64"},
		{"query", `{"request":"r3","image":"` + base64.StdEncoding.EncodeToString([]byte("GIF89a")) + `"}`, "r3", "neither a JPEG nor a PNG"},
		{"query", `{"request":"r3","id":1,"k":"5"}`, "r3", `"k" must be an integer`},
		{"query", `{"request":"r3","id":1,"k":-2}`, "r3", `"k"`},
		{"query", `{"request":"r3","id":1,"source":"../etc"}`, "r3", "source name"},
		{"query", `{"request":"r3","id":1,"since":12}`, "r3", `"since" must be a string`},
		{"query", `{"request":"r3","id":1,"since":"yesterday"}`, "r3", `"since" must be an RFC 3339 time`},
		{"query", `{"request":"r3","id":1,"since":"2024-01-02T00:00:00Z","until":"2024-01-01T00:00:00Z"}`, "r3", "after"},
		{"reload", `{"request":"r4"}`, "r4", `"path" is required`},
		{"reload", `{"request":"r4","path":"../../etc/passwd"}`, "r4", "leaves the model folder"},
		{"reload", `{"request":"r4","path":"a/../../b.onnx"}`, "r4", "leaves the model folder"},
		{"reload", `{"request":"r4","path":7}`, "r4", "must be a string"},
		{"snapshot", `{"request":"r5"}`, "r5", `"source" is required`},
		{"snapshot", `{"request":"r5","source":"a/b"}`, "r5", "source name"},
		{"config", `{"request":"r6"}`, "r6", `"set"`},
		{"config", `{"request":"r6","set":{}}`, "r6", `"set"`},
		{"config", `{"request":"r6","set":{"model.path":"/tmp/x.onnx"}}`, "r6", "cannot be changed"},
		{"config", `{"request":"r6","set":{"probe.unknown_below":"0.5"}}`, "r6", "must be a number"},
		{"config", `{"request":"r6","set":{"probe.unknown_below":2}}`, "r6", "between 0 and 1"},
		{"config", `{"request":"r6","set":{"mqtt.telemetry_interval":10}}`, "r6", "duration string"},
		{"config", `{"request":"r6","set":{"mqtt.telemetry_interval":"1ms"}}`, "r6", "between"},
		{"config", `{"request":"r6","set":{"mqtt.predictions.on_change":"yes"}}`, "r6", "true or false"},
		{"config", `{"request":"r6","set":{"retrieval.k":2.5}}`, "r6", "integer"},
		{"config", `{"request":"r6","set":{"retrieval.k":null}}`, "r6", "integer"},
		{"config", `{"request":"r6","set":{"sources.a/b.fps":1}}`, "r6", "cannot be changed"},
		{"config", `{"request":"r6","set":[1]}`, "r6", `"set" must be an object`},
		{"label", big, "", "over the limit"},
		{"shutdown", `{"request":"r7"}`, "r7", "unknown verb"},
		{"", `{"request":"r7"}`, "r7", "unknown verb"},
	}
	for _, tc := range cases {
		cmd, err := ParseCommand(tc.verb, []byte(tc.payload), 1<<20)
		name := tc.verb + " " + tc.payload
		if len(name) > 80 {
			name = name[:80]
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, ErrCommand) {
			t.Errorf("%s: error %v does not wrap ErrCommand", name, err)
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %q does not say %q", name, err, tc.reason)
		}
		if cmd.Request != tc.request || cmd.Verb != tc.verb {
			t.Errorf("%s: request %q verb %q, want %q %q", name, cmd.Request, cmd.Verb, tc.request, tc.verb)
		}
		if cmd.Label != nil || cmd.Train != nil || cmd.Query != nil || cmd.Reload != nil || cmd.Snapshot != nil || cmd.Config != nil {
			t.Errorf("%s: refused command carries a body", name)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	seeds := []struct{ verb, payload string }{
		{"label", `{"request":"r1","id":42,"label":"cat"}`},
		{"label", `{"request":"r1","source":"cam0","label":"dog"}`},
		{"train", `{"request":"r2"}`},
		{"query", `{"request":"r3","image":"` + jpegB64 + `","k":5}`},
		{"query", `{"request":"r3","id":7,"since":"2024-01-01T00:00:00Z","until":"2025-01-01T00:00:00Z"}`},
		{"reload", `{"request":"r4","path":"b.onnx"}`},
		{"reload", `{"request":"r4","path":"../x"}`},
		{"snapshot", `{"request":"r5","source":"cam0"}`},
		{"config", `{"request":"r6","set":{"retrieval.k":3,"sources.cam0.fps":1}}`},
		{"config", `{"request":"r6","set":{"mqtt.telemetry_interval":"2s"}}`},
		{"nope", `{}`},
		{"label", `{"request":"r1","id":1e400}`},
		{"label", "\xff\xfe"},
	}
	for _, s := range seeds {
		f.Add(s.verb, []byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, verb string, payload []byte) {
		cmd, err := ParseCommand(verb, payload, 4096)
		if cmd.Verb != verb {
			t.Fatalf("verb %q became %q", verb, cmd.Verb)
		}
		if err != nil {
			if !errors.Is(err, ErrCommand) {
				t.Fatalf("error %v does not wrap ErrCommand", err)
			}
			return
		}
		if len(payload) > 4096 {
			t.Fatal("accepted an oversized payload")
		}
		if !requestRE.MatchString(cmd.Request) {
			t.Fatalf("accepted request id %q", cmd.Request)
		}
		set := 0
		for _, p := range []bool{cmd.Label != nil, cmd.Train != nil, cmd.Query != nil, cmd.Reload != nil, cmd.Snapshot != nil, cmd.Config != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("%d verb bodies set", set)
		}
		if cmd.Reload != nil && !filepath.IsAbs(cmd.Reload.Path) && !filepath.IsLocal(cmd.Reload.Path) {
			t.Fatalf("accepted reload path %q", cmd.Reload.Path)
		}
	})
}

func TestSafeModelPath(t *testing.T) {
	root := t.TempDir()
	models := filepath.Join(root, "models")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(models, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(models, "a.onnx"), []byte("a"))
	writeFile(t, filepath.Join(outside, "evil.onnx"), []byte("e"))
	if err := os.Symlink(filepath.Join(outside, "evil.onnx"), filepath.Join(models, "link.onnx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(models, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(models, "a.onnx"), filepath.Join(models, "sub", "ok.onnx")); err != nil {
		t.Fatal(err)
	}
	good := map[string]string{
		"a.onnx":                        filepath.Join(models, "a.onnx"),
		"sub/new.onnx":                  filepath.Join(models, "sub", "new.onnx"),
		"sub/../a.onnx":                 filepath.Join(models, "a.onnx"),
		"sub/ok.onnx":                   filepath.Join(models, "a.onnx"),
		filepath.Join(models, "a.onnx"): filepath.Join(models, "a.onnx"),
		filepath.Join(models, "x", "..", "a.onnx"): filepath.Join(models, "a.onnx"),
	}
	for p, want := range good {
		got, err := SafeModelPath(models, p)
		if err != nil {
			t.Errorf("%q refused: %v", p, err)
			continue
		}
		if wantReal, _ := filepath.EvalSymlinks(filepath.Dir(want)); filepath.Join(wantReal, filepath.Base(want)) != got {
			t.Errorf("%q resolved to %s, want %s", p, got, want)
		}
	}
	bad := []string{
		"../outside/evil.onnx",
		"sub/../../outside/evil.onnx",
		filepath.Join(outside, "evil.onnx"),
		"/etc/passwd",
		"link.onnx",
		"linkdir/evil.onnx",
		"linkdir/new.onnx",
		".",
		"",
		"a\x00.onnx",
		models,
	}
	for _, p := range bad {
		if got, err := SafeModelPath(models, p); err == nil {
			t.Errorf("%q accepted as %s", p, got)
		}
	}
	if _, err := SafeModelPath("", "a.onnx"); err == nil {
		t.Error("empty model folder accepted")
	}
}
