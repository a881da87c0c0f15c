package config

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadFile: values from the file land in their fields; what the file
// leaves out (or gives no value) keeps its default.
func TestLoadFile(t *testing.T) {
	path := writeFile(t, `
device_id: 42
model:
  path: /models/r18.onnx
  providers: [cuda, cpu]
  tensorrt:
    fp16: false
batch:
  max: 16
  max_wait: 25ms
mqtt:
  password: 1234
  home_assistant:
probe:
  l2: 1e-2
  max_epochs: ~
bridge:
  enabled: true
  port: /dev/ttyACM0
  buttons: {1: cat, "2": dog}
  leds: {cat: 3}
`[1:])
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DeviceID = "42"
	want.Model.Path = "/models/r18.onnx"
	want.Model.Providers = []string{"cuda", "cpu"}
	want.Model.TensorRT.FP16 = false
	want.Batch.Max = 16
	want.Batch.MaxWait = Duration(25 * time.Millisecond)
	want.MQTT.Password = "1234"
	want.Probe.L2 = 0.01
	want.Bridge = BridgeLink{Enabled: true, Port: "/dev/ttyACM0", Baud: 921600,
		Buttons: map[string]string{"1": "cat", "2": "dog"}, LEDs: map[string]int{"cat": 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

// TestLoadSources: sources from the file get their per-kind defaults;
// YAML anchors and aliases work.
func TestLoadSources(t *testing.T) {
	path := writeFile(t, `
sources:
  - &cam {name: cam0, kind: ffmpeg, input: /dev/video0, fps: 2.5}
  - name: shots
    kind: files
    path: /srv/*.jpg
    buffer: 5
    interval: 0
  - {name: csi, kind: gstreamer, pipeline: nvarguscamerasrc, width: 320, command: /opt/gst}
`[1:])
	got, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		{Name: "cam0", Kind: "ffmpeg", Input: "/dev/video0", FPS: 2.5, Width: 640, Height: 480, Buffer: 2, Command: "ffmpeg"},
		{Name: "shots", Kind: "files", Path: "/srv/*.jpg", Buffer: 5},
		{Name: "csi", Kind: "gstreamer", Pipeline: "nvarguscamerasrc", Width: 320, Height: 480, Buffer: 2, Command: "/opt/gst"},
	}
	if !reflect.DeepEqual(got.Sources, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got.Sources, want)
	}
}

// TestLoadFileErrors: each mistake in the file is an error naming the
// file, the line and the dotted key.
func TestLoadFileErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "mqtt:\n  brokr: tcp://x:1883\n",
			[]string{"edge.yaml:2: unknown key mqtt.brokr (known: broker, embedded_addr, username,"}},
		{"unknown top key", "modle: {}\n", []string{"edge.yaml:1: unknown key modle (known: device_id,"}},
		{"unknown nested key", "model:\n  tensorrt:\n    fp61: true\n",
			[]string{"edge.yaml:3: unknown key model.tensorrt.fp61 (known: fp16, cache_dir,"}},
		{"unknown source key", "sources:\n  - name: a\n    kind: files\n    path: x\n  - name: b\n    kidn: watch\n",
			[]string{"edge.yaml:6: unknown key sources[1].kidn (known: name, kind, path,"}},
		{"not an integer", "batch:\n  max: many\n", []string{`edge.yaml:2: batch.max: want an integer, got "many"`}},
		{"float for integer", "batch:\n  max: 1.5\n", []string{`batch.max: want an integer, got "1.5"`}},
		{"not a bool", "queue:\n  every_frame: maybe\n", []string{`edge.yaml:2: queue.every_frame: want true or false, got "maybe"`}},
		{"not a number", "probe:\n  l2: small\n", []string{`probe.l2: want a number, got "small"`}},
		{"duration without unit", "batch:\n  max_wait: 10\n", []string{`edge.yaml:2: batch.max_wait: want a duration such as "10ms" or "1m30s", got "10"`}},
		{"duration garbage", "mqtt:\n  outbox:\n    max_age: a day\n", []string{`edge.yaml:3: mqtt.outbox.max_age: want a duration`}},
		{"list for string", "http:\n  addr: [a, b]\n", []string{"edge.yaml:2: http.addr: want a string, got a list"}},
		{"scalar for list", "model:\n  providers: cpu\n", []string{`model.providers: want a list of strings, got "cpu"`}},
		{"bad map value", "bridge:\n  leds: {cat: red}\n", []string{"edge.yaml:2: bridge.leds: want a mapping to integers, got a mapping"}},
		{"scalar for section", "log: debug\n", []string{`edge.yaml:1: log: want a mapping of keys, got "debug"`}},
		{"scalar for sources", "sources: cam0\n", []string{`edge.yaml:1: sources: want a list of mappings, got "cam0"`}},
		{"scalar source", "sources:\n  - cam0\n", []string{`edge.yaml:2: sources[0]: want a mapping of keys, got "cam0"`}},
		{"list at top", "- a\n", []string{"edge.yaml:1: the file: want a mapping of keys, got a list"}},
		{"repeated key", "http:\n  addr: a:1\n  addr: b:2\n", []string{"edge.yaml:3: http.addr is set twice (first on line 2)"}},
		{"syntax", "a: [\n", []string{"edge.yaml: yaml:"}},
		{"two documents", "log: {}\n---\nlog: {}\n", []string{"edge.yaml:2: only one YAML document is allowed"}},
		{"every error at once", "batch:\n  max: x\n  queue: y\nprobe:\n  foldz: 3\n",
			[]string{"edge.yaml:2: batch.max", "edge.yaml:3: batch.queue", "edge.yaml:5: unknown key probe.foldz"}},
		{"validation after the file", "batch:\n  max: 0\n", []string{"batch.max: must be at least 1 (got 0)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.yaml), nil)
			wantErr(t, err, tc.want...)
		})
	}
}

// TestLoadEdgeCases: empty files, comments only, a missing file.
func TestLoadEdgeCases(t *testing.T) {
	for _, content := range []string{"", "# nothing\n", "---\n", "~\n"} {
		got, err := Load(writeFile(t, content), nil)
		if err != nil {
			t.Errorf("%q: %v", content, err)
		} else if !reflect.DeepEqual(got, Default()) {
			t.Errorf("%q: not the defaults", content)
		}
	}
	got, err := Load("", nil)
	if err != nil || !reflect.DeepEqual(got, Default()) {
		t.Errorf("no file: %v", err)
	}
	_, err = Load("/nonexistent/edge.yaml", nil)
	wantErr(t, err, "read config", "/nonexistent/edge.yaml")
}

// TestEnv: MOCOEDGE_* variables override the file; bad values name the
// variable; variables the schema does not name are ignored.
func TestEnv(t *testing.T) {
	path := writeFile(t, "batch:\n  max: 16\nmqtt:\n  broker: tcp://file:1883\n")
	ok := []struct {
		name, value string
		check       func(c Config) bool
	}{
		{"MOCOEDGE_BATCH_MAX", "4", func(c Config) bool { return c.Batch.Max == 4 }},
		{"MOCOEDGE_MQTT_BROKER", "ssl://env:8883", func(c Config) bool { return c.MQTT.Broker == "ssl://env:8883" }},
		{"MOCOEDGE_HTTP_ADDR", "", func(c Config) bool { return c.HTTP.Addr == "" }},
		{"MOCOEDGE_MODEL_TENSORRT_FP16", "false", func(c Config) bool { return !c.Model.TensorRT.FP16 }},
		{"MOCOEDGE_MODEL_PROVIDERS", " cuda, cpu ,", func(c Config) bool {
			return reflect.DeepEqual(c.Model.Providers, []string{"cuda", "cpu"})
		}},
		{"MOCOEDGE_BATCH_MAX_WAIT", "1m30s", func(c Config) bool { return c.Batch.MaxWait.D() == 90*time.Second }},
		{"MOCOEDGE_PROBE_UNKNOWN_BELOW", "0.25", func(c Config) bool { return c.Probe.Unknown == 0.25 }},
		{"MOCOEDGE_HTTP_MAX_UPLOAD_BYTES", "1024", func(c Config) bool { return c.HTTP.MaxUploadBytes == 1024 }},
		{"MOCOEDGE_MQTT_PASSWORD", "s3cret", func(c Config) bool { return c.MQTT.Password == "s3cret" }},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			// Variables of other parts of the project are ignored.
			env := envOf(tc.name, tc.value, "MOCOEDGE_ORT_LIB", "/x.so", "MOCOEDGE_CIFAR10", "/d",
				"MOCOEDGE_BENCH_REPORT", "r", "MOCOEDGE_CUDA_LIBS", "/c", "MOCOEDGE_NO_SUCH_KEY", "zz",
				"MOCOEDGE_SOURCES", "x", "MOCOEDGE_BRIDGE_BUTTONS", "x")
			c, err := Load(path, env)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("%s=%q not applied: %+v", tc.name, tc.value, c)
			}
		})
	}
	bad := []struct{ name, value, want string }{
		{"MOCOEDGE_BATCH_MAX", "eight", `MOCOEDGE_BATCH_MAX (batch.max): want an integer, got "eight"`},
		{"MOCOEDGE_MODEL_TENSORRT_FP16", "yes please", `MOCOEDGE_MODEL_TENSORRT_FP16 (model.tensorrt.fp16): want true or false`},
		{"MOCOEDGE_BATCH_MAX_WAIT", "10", `MOCOEDGE_BATCH_MAX_WAIT (batch.max_wait): want a duration`},
		{"MOCOEDGE_PROBE_L2", "lots", `MOCOEDGE_PROBE_L2 (probe.l2): want a number`},
		{"MOCOEDGE_BATCH_MAX", "0", "batch.max: must be at least 1 (got 0)"},
		{"MOCOEDGE_MODEL_PROVIDERS", "cpu,gpu", `model.providers[1]: unknown provider "gpu" (known: tensorrt, cuda, cpu)`},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.name+"="+tc.value, func(t *testing.T) {
			_, err := Load(path, envOf(tc.name, tc.value))
			wantErr(t, err, tc.want)
		})
	}
}

// TestFlags: every key with a variable has a flag named by its dotted key
// whose usage names the variable; parsing writes into the Config.
func TestFlags(t *testing.T) {
	c := Default()
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	for _, f := range fields() {
		fl := fs.Lookup(f.key)
		switch {
		case f.env() == "" && fl != nil:
			t.Errorf("file-only key %s has a flag", f.key)
		case f.env() != "" && fl == nil:
			t.Errorf("no flag --%s", f.key)
		case fl != nil && !strings.Contains(fl.Usage, f.env()) || fl != nil && !strings.HasPrefix(fl.Usage, f.doc):
			t.Errorf("--%s usage %q lacks the doc or %s", f.key, fl.Usage, f.env())
		}
	}
	if fl := fs.Lookup("http.addr"); fl.DefValue != "127.0.0.1:8080" {
		t.Errorf("--http.addr default %q", fl.DefValue)
	}
	err := fs.Parse([]string{"--http.addr", ":9000", "--model.tensorrt.fp16=false", "--queue.every_frame",
		"--model.providers=cpu", "--batch.max_wait", "5ms", "-probe.folds=3", "--model.path", "/m.onnx", "rest"})
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTP.Addr = ":9000"
	want.Model.TensorRT.FP16 = false
	want.Model.Providers = []string{"cpu"}
	want.Batch.MaxWait = Duration(5 * time.Millisecond)
	want.Probe.Folds = 3
	want.Model.Path = "/m.onnx"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("after flags\n%+v\nwant\n%+v", c, want)
	}
	if !reflect.DeepEqual(fs.Args(), []string{"rest"}) {
		t.Errorf("args left %q", fs.Args())
	}

	for _, tc := range []struct{ args []string }{{[]string{"--batch.max", "x"}}, {[]string{"--mqtt.outbox.max_age=7"}}} {
		c := Default()
		fs := flag.NewFlagSet("edge", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs)
		name := strings.TrimLeft(strings.SplitN(tc.args[0], "=", 2)[0], "-")
		wantErr(t, fs.Parse(tc.args), "-"+name)
	}
}

// TestPrecedence: defaults < file < environment < flags, through both
// LoadWithFlags and the documented Load, RegisterFlags, Parse, Validate.
func TestPrecedence(t *testing.T) {
	path := writeFile(t, `
data_dir: /file
batch: {max: 2, queue: 20}
retrieval: {k: 7}
mqtt: {broker: "tcp://file:1883"}
http: {addr: "127.0.0.1:1000"}
`[1:])
	env := envOf("MOCOEDGE_BATCH_MAX", "3", "MOCOEDGE_MQTT_BROKER", "tcp://env:1883", "MOCOEDGE_RETRIEVAL_K", "9")
	args := []string{"--batch.max", "4", "--retrieval.k=11"}
	check := func(t *testing.T, c Config) {
		t.Helper()
		if c.Batch.Max != 4 || c.Retrieval.K != 11 { // flags win
			t.Errorf("flags lost: batch.max %d retrieval.k %d", c.Batch.Max, c.Retrieval.K)
		}
		if c.MQTT.Broker != "tcp://env:1883" { // env beats the file
			t.Errorf("mqtt.broker %q", c.MQTT.Broker)
		}
		if c.Batch.Queue != 20 || c.HTTP.Addr != "127.0.0.1:1000" || c.DataDir != "/file" { // the file beats defaults
			t.Errorf("file lost: %+v", c)
		}
		if c.Queue.Capacity != 100000 { // defaults remain
			t.Errorf("queue.capacity %d", c.Queue.Capacity)
		}
		if c.Model.TensorRT.CacheDir != "/file/trt-cache" || c.DeviceID == "" { // resolved
			t.Errorf("not resolved: cache_dir %q device_id %q", c.Model.TensorRT.CacheDir, c.DeviceID)
		}
	}
	for _, form := range [][]string{{"--config", path}, {"-config=" + path}} {
		t.Run("LoadWithFlags "+form[0], func(t *testing.T) {
			fs := flag.NewFlagSet("edge", flag.ContinueOnError)
			c, err := LoadWithFlags(fs, append(form, args...), env)
			if err != nil {
				t.Fatal(err)
			}
			check(t, c)
		})
	}
	t.Run("LoadWithFlags MOCOEDGE_CONFIG", func(t *testing.T) {
		fs := flag.NewFlagSet("edge", flag.ContinueOnError)
		env2 := func(name string) (string, bool) {
			if name == EnvConfig {
				return path, true
			}
			return env(name)
		}
		c, err := LoadWithFlags(fs, args, env2)
		if err != nil {
			t.Fatal(err)
		}
		check(t, c)
	})
	t.Run("manual flow", func(t *testing.T) {
		c, err := Load(path, env)
		if err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet("edge", flag.ContinueOnError)
		c.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		check(t, c)
	})
	t.Run("flag data_dir moves the cache", func(t *testing.T) {
		fs := flag.NewFlagSet("edge", flag.ContinueOnError)
		c, err := LoadWithFlags(fs, []string{"--config", path, "--data_dir", "/flag"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Model.TensorRT.CacheDir != "/flag/trt-cache" {
			t.Errorf("cache_dir %q", c.Model.TensorRT.CacheDir)
		}
	})
	t.Run("errors", func(t *testing.T) {
		fs := flag.NewFlagSet("edge", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		_, err := LoadWithFlags(fs, []string{"--config", path, "--batch.max", "0"}, nil)
		wantErr(t, err, "batch.max: must be at least 1 (got 0)")
		fs = flag.NewFlagSet("edge", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		_, err = LoadWithFlags(fs, []string{"--help"}, nil)
		if err != flag.ErrHelp {
			t.Errorf("--help: %v", err)
		}
	})
}
