package config

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestWriteDefaultRoundTrip: the commented default file loads back to
// exactly Default(), and documents every key.
func TestWriteDefaultRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDefault(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	got, err := Load(writeFile(t, text), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("loaded\n%+v\nwant\n%+v", got, Default())
	}
	for _, f := range fields() {
		name := f.key[strings.LastIndex(f.key, ".")+1:]
		if !strings.Contains(text, "# "+f.doc+"\n") && !strings.Contains(text, "#   "+name+": "+f.doc+"\n") {
			t.Errorf("no comment for %s", f.key)
		}
	}
	for _, kind := range Kinds() {
		if !strings.Contains(text, "#     kind: "+kind+"\n") {
			t.Errorf("the sources example has no %s source", kind)
		}
	}
}

// TestSourcesExample: the commented sources example, uncommented, is a
// valid configuration.
func TestSourcesExample(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDefault(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	var ex []string
	for i, line := range lines {
		if line == "# sources:" {
			for _, l := range lines[i:] {
				if !strings.HasPrefix(l, "#") {
					break
				}
				ex = append(ex, strings.TrimPrefix(l, "# "))
			}
			break
		}
	}
	if len(ex) < 10 {
		t.Fatalf("no example found:\n%s", b.String())
	}
	file := "bridge: {enabled: true, port: /dev/ttyACM0}\n" + strings.Join(ex, "\n") + "\n"
	c, err := Load(writeFile(t, file), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := exampleSources()
	(&Config{Sources: want}).applySourceDefaults()
	if !reflect.DeepEqual(c.Sources, want) {
		t.Errorf("example loaded as\n%+v\nwant\n%+v", c.Sources, want)
	}
}

// full is a configuration with every kind of value set away from its default.
func full() Config {
	c := Default()
	c.DeviceID = "edge-7"
	c.DataDir = "/var/lib/mocoedge"
	c.Log = Log{Level: "debug", Format: "json"}
	c.Model.Path = "/models/r18.onnx"
	c.Model.Providers = []string{"cpu"}
	c.Model.Threads = 3
	c.Batch.MaxWait = Duration(1500 * time.Microsecond)
	c.Sources = exampleSources()
	c.Sources[0].Name = "yes" // a string YAML 1.1 would read as a bool
	c.Sources[3].Pipeline = "v4l2src device=/dev/video0 ! videoconvert\n  ! videoscale"
	c.MQTT.Broker = "ssl://user:pw@broker:8883,tcp://other:1883"
	c.MQTT.Username, c.MQTT.Password = "user", "0123"
	c.MQTT.TLS.InsecureSkipVerify = true
	c.Probe.L2 = 1e-5
	c.HTTP.MaxUploadBytes = 1 << 40
	c.Bridge = BridgeLink{Enabled: true, Port: "usb:2e8a:000a", Baud: 115200, Snapshot: "door",
		Buttons: map[string]string{"1": "cat", "2": "on"}, LEDs: map[string]int{"cat": 2}}
	return c
}

// TestWriteYAMLRoundTrip: the effective configuration loads back to itself.
func TestWriteYAMLRoundTrip(t *testing.T) {
	want := full()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := want.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Load(writeFile(t, b.String()), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded\n%+v\nwant\n%+v\nfrom\n%s", got, want, b.String())
	}
}

// TestRedacted: passwords are hidden in the copy and kept in the original.
func TestRedacted(t *testing.T) {
	c := full()
	c.Sources[2].Input = "rtsp://admin:hunter2@192.168.1.20/stream"
	c.Sources[4].URL = "http://viewer:pw@cam/video.mjpg"
	r := c.Redacted()
	var b bytes.Buffer
	if err := r.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"0123", "hunter2", ":pw@"} {
		if strings.Contains(b.String(), secret) {
			t.Errorf("redacted config shows %q:\n%s", secret, b.String())
		}
	}
	if r.MQTT.Password != "***" || r.MQTT.Broker != "ssl://user:***@broker:8883,tcp://other:1883" ||
		r.Sources[2].Input != "rtsp://admin:***@192.168.1.20/stream" || r.Sources[4].URL != "http://viewer:***@cam/video.mjpg" {
		t.Errorf("redacted: %q %q %q %q", r.MQTT.Password, r.MQTT.Broker, r.Sources[2].Input, r.Sources[4].URL)
	}
	if c.MQTT.Password != "0123" || c.Sources[2].Input != "rtsp://admin:hunter2@192.168.1.20/stream" {
		t.Error("Redacted changed the original")
	}
	if d := Default().Redacted(); !reflect.DeepEqual(d, Default()) {
		t.Error("redacting a config without secrets changed it")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	wantErr(t, WriteDefault(failWriter{}), "write config: disk full")
}

// TestDuration: the text and YAML forms of Duration.
func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Millisecond: "10ms", 24 * time.Hour: "24h", time.Minute: "1m", 90 * time.Second: "1m30s",
		time.Hour + 5*time.Second: "1h0m5s", 2*time.Hour + 30*time.Minute: "2h30m", 0: "0s",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("%v: String %q, want %q", d, got, want)
		}
		var back Duration
		if err := back.UnmarshalText([]byte(want)); err != nil || back.D() != d {
			t.Errorf("%q parsed as %v, %v", want, back, err)
		}
		out, err := yaml.Marshal(struct{ D Duration }{Duration(d)})
		if err != nil || string(out) != "d: "+want+"\n" {
			t.Errorf("yaml %q, %v", out, err)
		}
	}
	var d Duration
	for _, bad := range []string{"10", "1.5", "ten", ""} {
		wantErr(t, d.UnmarshalText([]byte(bad)), "want a duration such as", bad)
	}
	var s struct{ D Duration }
	if err := yaml.Unmarshal([]byte("d: 250ms\n"), &s); err != nil || s.D.D() != 250*time.Millisecond {
		t.Errorf("yaml: %v %v", s.D, err)
	}
	wantErr(t, yaml.Unmarshal([]byte("d: 10\n"), &s), "line 1", `got "10"`)
	wantErr(t, yaml.Unmarshal([]byte("d: [1s]\n"), &s), "line 1", "got a list")
}
