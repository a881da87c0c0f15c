package config

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestValidate: each bad value is an error naming its dotted key and what
// is accepted.
func TestValidate(t *testing.T) {
	cam := func(name string) Source { return Source{Name: name, Kind: KindFFmpeg, Input: "/dev/video0"} }
	cases := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"device id", func(c *Config) { c.DeviceID = "jetson/1" }, []string{`device_id: want 1 to 64 letters, digits, - and _ (got "jetson/1")`}},
		{"data dir", func(c *Config) { c.DataDir = "" }, []string{"data_dir: must not be empty"}},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, []string{`log.level: unknown level "loud" (known: debug, info, warn, error)`}},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, []string{`log.format: unknown format "xml" (known: text, json)`}},
		{"no providers", func(c *Config) { c.Model.Providers = nil }, []string{"model.providers: must name at least one of tensorrt, cuda, cpu"}},
		{"bad provider", func(c *Config) { c.Model.Providers = []string{"cpu", "TensorRT"} },
			[]string{`model.providers[1]: unknown provider "TensorRT" (known: tensorrt, cuda, cpu)`}},
		{"repeated provider", func(c *Config) { c.Model.Providers = []string{"cuda", "cpu", "cuda"} },
			[]string{`model.providers[2]: "cuda" is listed twice (also model.providers[0])`}},
		{"workspace", func(c *Config) { c.Model.TensorRT.WorkspaceMB = 0 }, []string{"model.tensorrt.workspace_mb: must be at least 1 (got 0)"}},
		{"cuda device", func(c *Config) { c.Model.CUDADevice = -1 }, []string{"model.cuda_device: must be at least 0 (got -1)"}},
		{"threads", func(c *Config) { c.Model.Threads = -2 }, []string{"model.threads: must be at least 0 (got -2)"}},
		{"batch max", func(c *Config) { c.Batch.Max = 0 }, []string{"batch.max: must be at least 1 (got 0)"}},
		{"batch wait", func(c *Config) { c.Batch.MaxWait = Duration(-time.Millisecond) }, []string{"batch.max_wait: must not be negative (got -1ms)"}},
		{"batch queue", func(c *Config) { c.Batch.Queue = 0 }, []string{"batch.queue: must be at least 1 (got 0)"}},
		{"batch runners", func(c *Config) { c.Batch.Runners = 0 }, []string{"batch.runners: must be at least 1 (got 0)"}},
		{"batch queue below runners x max", func(c *Config) { c.Batch.Runners, c.Batch.Queue = 4, 16 }, []string{"batch.queue: must hold a batch for every runner: at least batch.max × batch.runners = 32 (got 16)"}},
		{"workers", func(c *Config) { c.Preproc.Workers = -1 }, []string{"preprocess.workers: must be at least 0"}},
		{"turbojpeg", func(c *Config) { c.Preproc.TurboJPEG = "yes" }, []string{`preprocess.turbojpeg: want auto, on, off or a library path (got "yes")`}},
		{"max pixels", func(c *Config) { c.Preproc.MaxPixels = 0 }, []string{"preprocess.max_pixels: must be at least 1"}},
		{"source kind", func(c *Config) { c.Sources = []Source{cam("a"), {Name: "b", Kind: "rtps"}} },
			[]string{`sources[1].kind: unknown kind "rtps" (known: files, watch, ffmpeg, gstreamer, mjpeg, bridge)`}},
		{"source name twice", func(c *Config) { c.Sources = []Source{cam("cam0"), cam("cam0")} },
			[]string{`sources[1].name: "cam0" used twice (also sources[0].name)`}},
		{"source name", func(c *Config) { c.Sources = []Source{cam("front door")} },
			[]string{`sources[0].name: want letters, digits, - and _ only (got "front door")`}},
		{"source no name", func(c *Config) { c.Sources = []Source{cam("")} }, []string{`sources[0].name: want letters`}},
		{"files needs path", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindFiles}} }, []string{"sources[0].path: required by kind files"}},
		{"watch needs path", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindWatch}} }, []string{"sources[0].path: required by kind watch"}},
		{"ffmpeg needs input", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindFFmpeg, Path: "/x"}} },
			[]string{"sources[0].input: required by kind ffmpeg", "sources[0].path: not used by kind ffmpeg (only by files and watch)"}},
		{"gstreamer needs pipeline", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindGStreamer}} },
			[]string{"sources[0].pipeline: required by kind gstreamer"}},
		{"mjpeg needs url", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindMJPEG}} }, []string{"sources[0].url: required by kind mjpeg"}},
		{"mjpeg url scheme", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindMJPEG, URL: "rtsp://u:pw@cam/x"}} },
			[]string{`sources[0].url: want an http:// or https:// URL (got "rtsp://u:***@cam/x")`}},
		{"bridge source", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindBridge}} },
			[]string{"sources[0].kind: kind bridge needs bridge.enabled: true"}},
		{"args only ffmpeg", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindFiles, Path: "x", Args: []string{"-y"}}} },
			[]string{"sources[0].args: not used by kind files (only by ffmpeg)"}},
		{"command", func(c *Config) { c.Sources = []Source{{Name: "a", Kind: KindWatch, Path: "x", Command: "ffmpeg"}} },
			[]string{"sources[0].command: not used by kind watch"}},
		{"source numbers", func(c *Config) {
			s := cam("a")
			s.Width, s.Height, s.FPS, s.Interval, s.Buffer = -1, -1, math.NaN(), Duration(-time.Second), -1
			c.Sources = []Source{s}
		}, []string{"sources[0].width: must be at least 1", "sources[0].height: must be at least 1",
			"sources[0].fps: must be 0 (no cap) or a positive number (got NaN)", "sources[0].interval: must not be negative",
			"sources[0].buffer: must be at least 1 (got -1)"}},
		{"queue", func(c *Config) { c.Queue = Queue{} }, []string{"queue.capacity: must be at least 1", "queue.sync_every: must be at least 1",
			`queue.sync_interval: must be a positive duration such as "1s" (got 0s)`, "queue.thumbnail_quality: must be from 1 to 100 (got 0)"}},
		{"thumbnail quality", func(c *Config) { c.Queue.ThumbnailQuality = 101 }, []string{"queue.thumbnail_quality: must be from 1 to 100 (got 101)"}},
		{"thumbnail size", func(c *Config) { c.Queue.ThumbnailSize = -1 }, []string{"queue.thumbnail_size: must be at least 0"}},
		{"retrieval", func(c *Config) { c.Retrieval = Retrieval{K: 10, MaxK: 5} }, []string{"retrieval.max_k: must be at least retrieval.k = 10 (got 5)"}},
		{"retrieval k", func(c *Config) { c.Retrieval.K = 0 }, []string{"retrieval.k: must be at least 1 (got 0)"}},
		{"http addr", func(c *Config) { c.HTTP.Addr = "localhost" }, []string{`http.addr: want host:port such as 127.0.0.1:8080 (got "localhost")`}},
		{"http port", func(c *Config) { c.HTTP.Addr = "localhost:http" }, []string{`http.addr: want a port number from 0 to 65535 (got "http")`}},
		{"upload", func(c *Config) { c.HTTP.MaxUploadBytes = 0 }, []string{"http.max_upload_bytes: must be at least 1"}},
		{"broker scheme", func(c *Config) { c.MQTT.Broker = "tcp://a:1883, http://user:pw@b:80" },
			[]string{`mqtt.broker: URL 2: want embedded, off or URLs such as tcp://host:1883 with scheme tcp, ssl, ws, wss, mqtt, mqtts (got "http://user:***@b:80")`}},
		{"broker no host", func(c *Config) { c.MQTT.Broker = "tcp://" }, []string{"mqtt.broker: URL 1:"}},
		{"broker word", func(c *Config) { c.MQTT.Broker = "mosquitto" }, []string{`mqtt.broker: URL 1: want embedded, off or URLs`}},
		{"embedded beyond loopback", func(c *Config) { c.MQTT.EmbeddedAddr = "0.0.0.0:1883" },
			[]string{`mqtt.embedded_addr: "0.0.0.0:1883" is reachable beyond this machine: set mqtt.username and mqtt.password`}},
		{"embedded all interfaces", func(c *Config) { c.MQTT.EmbeddedAddr = ":1883"; c.MQTT.Username = "u" },
			[]string{`mqtt.embedded_addr: ":1883" is reachable beyond this machine`}},
		{"embedded addr", func(c *Config) { c.MQTT.EmbeddedAddr = "1883" }, []string{`mqtt.embedded_addr: want host:port`}},
		{"tls pair", func(c *Config) { c.MQTT.TLS.Cert = "c.pem" }, []string{"mqtt.tls.key: required with mqtt.tls.cert"}},
		{"tls key alone", func(c *Config) { c.MQTT.TLS.Key = "k.pem" }, []string{"mqtt.tls.cert: required with mqtt.tls.key"}},
		{"topic prefix", func(c *Config) { c.MQTT.TopicPrefix = "site/#" }, []string{`mqtt.topic_prefix: want a topic without +, # or a leading or trailing / (got "site/#")`}},
		{"mqtt durations", func(c *Config) {
			c.MQTT.TelemetryInterval, c.MQTT.Outbox.MaxAge, c.MQTT.Predictions.MinInterval = 0, 0, -1
		},
			[]string{"mqtt.telemetry_interval: must be a positive duration", "mqtt.outbox.max_age: must be a positive duration",
				"mqtt.predictions.min_interval: must not be negative"}},
		{"outbox", func(c *Config) { c.MQTT.Outbox.MaxMessages = 0 }, []string{"mqtt.outbox.max_messages: must be at least 1"}},
		{"payload", func(c *Config) { c.MQTT.MaxPayloadBytes = 0 }, []string{"mqtt.max_payload_bytes: must be at least 1"}},
		{"home assistant", func(c *Config) { c.MQTT.HomeAssistant = HomeAssist{Enabled: true} }, []string{`mqtt.home_assistant.prefix: want a topic`}},
		{"probe", func(c *Config) { c.Probe = Probe{L2: -1, Unknown: 1.5, AutoTrain: -1} },
			[]string{"probe.l2: must be 0 or a positive number (got -1)", "probe.unknown_below: must be from 0 to 1 (got 1.5)",
				"probe.auto_train_after: must be at least 0", "probe.folds: must be at least 2 (got 0)",
				"probe.min_per_class: must be at least 1", "probe.max_epochs: must be at least 1"}},
		{"probe NaN", func(c *Config) { c.Probe.Unknown = math.NaN() }, []string{"probe.unknown_below: must be from 0 to 1 (got NaN)"}},
		{"bridge", func(c *Config) {
			c.Bridge = BridgeLink{Enabled: true, Snapshot: "cam9", Buttons: map[string]string{"1": ""}, LEDs: map[string]int{"cat": -1}}
		},
			[]string{"bridge.port: required when bridge.enabled is true", "bridge.baud: must be at least 1 (got 0)",
				`bridge.snapshot: no source is named "cam9"`, "bridge.buttons.1: needs a label", "bridge.leds.cat: must be at least 0 (got -1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(&c)
			err := c.Validate()
			wantErr(t, err, tc.want...)
			if n := errLines(err); n != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%v", n, len(tc.want), err)
			}
		})
	}
}

// TestValidateAccepts: good values of the kinds the rules allow.
func TestValidateAccepts(t *testing.T) {
	c := Default()
	c.DeviceID = "jetson-01_a"
	c.Preproc.TurboJPEG = "/usr/lib/aarch64-linux-gnu/libturbojpeg.so.0"
	c.HTTP.Addr = ""
	c.MQTT.Broker = "tcp://a:1883, ssl://b:8883,ws://c/mqtt,wss://d,mqtt://e,mqtts://f"
	c.MQTT.TLS.Cert, c.MQTT.TLS.Key = "c.pem", "k.pem"
	c.Sources = exampleSources()
	c.Bridge = BridgeLink{Enabled: true, Port: "usb:2e8a:000a", Baud: 115200, Snapshot: "door",
		Buttons: map[string]string{"1": "cat"}, LEDs: map[string]int{"cat": 2}}
	c.Model.TensorRT.CacheDir = CacheOff
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Model.TensorRT.CacheDir != CacheOff || c.Model.TensorRT.EngineCacheDir() != "" {
		t.Errorf("off cache resolved to %q", c.Model.TensorRT.CacheDir)
	}
	for _, broker := range []string{BrokerOff, BrokerEmbedded} {
		c := Default()
		c.MQTT.Broker = broker
		c.MQTT.EmbeddedAddr = "0.0.0.0:1883"
		c.MQTT.Username, c.MQTT.Password = "u", "p"
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", broker, err)
		}
	}
	for _, addr := range []string{"localhost:1883", "[::1]:1883", "127.0.0.2:0"} {
		c := Default()
		c.MQTT.EmbeddedAddr = addr
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

// TestResolve: derived values are filled once and Resolve is idempotent.
func TestResolve(t *testing.T) {
	c := Default()
	c.DataDir = "/var/lib/mocoedge"
	c.Model.Path = "/models/r18.onnx"
	c.Sources = []Source{{Name: "cam", Kind: KindGStreamer, Pipeline: "videotestsrc"}, {Name: "files", Kind: KindFiles, Path: "x"}}
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if c.DeviceID != SanitizeID(host) || !regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`).MatchString(c.DeviceID) {
		t.Errorf("device_id %q from host %q", c.DeviceID, host)
	}
	if c.Model.Dir != "/models" {
		t.Errorf("model.dir %q", c.Model.Dir)
	}
	if want := filepath.Join("/var/lib/mocoedge", "trt-cache"); c.Model.TensorRT.CacheDir != want || c.Model.TensorRT.EngineCacheDir() != want {
		t.Errorf("cache_dir %q", c.Model.TensorRT.CacheDir)
	}
	if s := c.Sources[0]; s.Width != 640 || s.Height != 480 || s.Buffer != 2 || s.Command != "gst-launch-1.0" {
		t.Errorf("gstreamer defaults %+v", s)
	}
	if s := c.Sources[1]; s.Width != 0 || s.Command != "" || s.Buffer != 2 {
		t.Errorf("files defaults %+v", s)
	}
	before := c
	c.DataDir = "/elsewhere"
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if c.Model.TensorRT.CacheDir != before.Model.TensorRT.CacheDir || c.DeviceID != before.DeviceID {
		t.Error("a second Resolve changed derived values")
	}
}

func TestSanitizeID(t *testing.T) {
	for in, want := range map[string]string{
		"jetson":                "jetson",
		"jetson.local":          "jetson-local",
		"edge_01-b":             "edge_01-b",
		"café nano":             "caf--nano",
		strings.Repeat("a", 70): strings.Repeat("a", 64),
	} {
		if got := SanitizeID(in); got != want {
			t.Errorf("SanitizeID(%q) = %q, want %q", in, got, want)
		}
	}
}
