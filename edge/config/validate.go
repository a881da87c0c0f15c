package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Validate resolves the derived values (see Resolve) and checks every
// setting. The error joins one line per bad value, each naming the dotted
// key and what it accepts, e.g. "batch.max: must be at least 1 (got 0)".
func (c *Config) Validate() error {
	var errs []error
	if err := c.Resolve(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(append(errs, c.problems()...)...)
}

// checker collects validation errors.
type checker struct{ errs []error }

func (k *checker) add(key, format string, args ...any) {
	k.errs = append(k.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (k *checker) atLeast(key string, got, min int64) {
	if got < min {
		k.add(key, "must be at least %d (got %d)", min, got)
	}
}

func (k *checker) positive(key string, got Duration) {
	if got <= 0 {
		k.add(key, "must be a positive duration such as \"1s\" (got %s)", got)
	}
}

func (k *checker) notNegative(key string, got Duration) {
	if got < 0 {
		k.add(key, "must not be negative (got %s)", got)
	}
}

func (k *checker) oneOf(key, what, got string, known ...string) {
	if !slices.Contains(known, got) {
		k.add(key, "unknown %s %q (known: %s)", what, got, strings.Join(known, ", "))
	}
}

// addr checks a host:port listen address with a numeric port.
func (k *checker) addr(key, addr string) {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		k.add(key, "want host:port such as 127.0.0.1:8080 (got %q)", addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		k.add(key, "want a port number from 0 to 65535 (got %q)", port)
	}
}

// check validates c without changing it; empty derived values (device_id,
// cache_dir) count as their defaults.
func (c *Config) check() error { return errors.Join(c.problems()...) }

// problems lists every bad value of c, one error each.
func (c *Config) problems() []error {
	var k checker
	if c.DeviceID != "" && (!validID(c.DeviceID) || len(c.DeviceID) > maxIDLen) {
		k.add("device_id", "want 1 to %d letters, digits, - and _ (got %q)", maxIDLen, c.DeviceID)
	}
	if c.DataDir == "" {
		k.add("data_dir", "must not be empty")
	}
	k.oneOf("log.level", "level", c.Log.Level, "debug", "info", "warn", "error")
	k.oneOf("log.format", "format", c.Log.Format, "text", "json")
	c.checkModel(&k)

	k.atLeast("batch.max", int64(c.Batch.Max), 1)
	k.notNegative("batch.max_wait", c.Batch.MaxWait)
	k.atLeast("batch.queue", int64(c.Batch.Queue), 1)
	k.atLeast("batch.runners", int64(c.Batch.Runners), 1)
	if c.Batch.Max >= 1 && c.Batch.Runners >= 1 && c.Batch.Queue >= 1 && c.Batch.Queue < c.Batch.Max*c.Batch.Runners {
		k.add("batch.queue", "must hold a batch for every runner: at least batch.max × batch.runners = %d (got %d)", c.Batch.Max*c.Batch.Runners, c.Batch.Queue)
	}

	k.atLeast("preprocess.workers", int64(c.Preproc.Workers), 0)
	switch tj := c.Preproc.TurboJPEG; {
	case tj == "auto" || tj == "on" || tj == "off":
	case strings.Contains(tj, "/") || strings.Contains(tj, ".so"):
	default:
		k.add("preprocess.turbojpeg", "want auto, on, off or a library path (got %q)", tj)
	}
	k.atLeast("preprocess.max_pixels", int64(c.Preproc.MaxPixels), 1)

	c.checkSources(&k)

	k.atLeast("queue.capacity", int64(c.Queue.Capacity), 1)
	k.atLeast("queue.sync_every", int64(c.Queue.SyncEvery), 1)
	k.positive("queue.sync_interval", c.Queue.SyncInterval)
	k.atLeast("queue.thumbnail_size", int64(c.Queue.ThumbnailSize), 0)
	if q := c.Queue.ThumbnailQuality; q < 1 || q > 100 {
		k.add("queue.thumbnail_quality", "must be from 1 to 100 (got %d)", q)
	}

	k.atLeast("retrieval.k", int64(c.Retrieval.K), 1)
	if c.Retrieval.MaxK < c.Retrieval.K {
		k.add("retrieval.max_k", "must be at least retrieval.k = %d (got %d)", c.Retrieval.K, c.Retrieval.MaxK)
	}

	if c.HTTP.Addr != "" {
		k.addr("http.addr", c.HTTP.Addr)
	}
	k.atLeast("http.max_upload_bytes", c.HTTP.MaxUploadBytes, 1)

	c.checkMQTT(&k)
	c.checkProbe(&k)
	c.checkBridge(&k)
	return k.errs
}

// knownProviders lists the execution providers model.providers accepts.
func knownProviders() []string { return []string{"tensorrt", "cuda", "cpu"} }

func (c *Config) checkModel(k *checker) {
	m := c.Model
	providers := knownProviders()
	if len(m.Providers) == 0 {
		k.add("model.providers", "must name at least one of %s", strings.Join(providers, ", "))
	}
	for i, p := range m.Providers {
		key := fmt.Sprintf("model.providers[%d]", i)
		if !slices.Contains(providers, p) {
			k.add(key, "unknown provider %q (known: %s)", p, strings.Join(providers, ", "))
		} else if j := slices.Index(m.Providers, p); j < i {
			k.add(key, "%q is listed twice (also model.providers[%d])", p, j)
		}
	}
	k.atLeast("model.tensorrt.workspace_mb", int64(m.TensorRT.WorkspaceMB), 1)
	k.atLeast("model.cuda_device", int64(m.CUDADevice), 0)
	k.atLeast("model.threads", int64(m.Threads), 0)
}

func (c *Config) checkSources(k *checker) {
	names := make(map[string]int)
	for i, s := range c.Sources {
		key := func(name string) string { return fmt.Sprintf("sources[%d].%s", i, name) }
		switch j, dup := names[s.Name]; {
		case !validID(s.Name):
			k.add(key("name"), "want letters, digits, - and _ only (got %q)", s.Name)
		case dup:
			k.add(key("name"), "%q used twice (also sources[%d].name)", s.Name, j)
		default:
			names[s.Name] = i
		}
		if !slices.Contains(Kinds(), s.Kind) {
			k.add(key("kind"), "unknown kind %q (known: %s)", s.Kind, strings.Join(Kinds(), ", "))
			continue
		}
		// The field each kind needs; the others must stay empty.
		need := map[string]string{KindFiles: "path", KindWatch: "path", KindFFmpeg: "input",
			KindGStreamer: "pipeline", KindMJPEG: "url"}[s.Kind]
		for _, f := range []struct{ name, value string }{
			{"path", s.Path}, {"input", s.Input}, {"pipeline", s.Pipeline}, {"url", s.URL},
		} {
			switch {
			case f.name == need && f.value == "":
				k.add(key(f.name), "required by kind %s", s.Kind)
			case f.name != need && f.value != "":
				k.add(key(f.name), "not used by kind %s (only by %s)", s.Kind, usedBy(f.name))
			}
		}
		if s.Kind == KindMJPEG && s.URL != "" {
			if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				k.add(key("url"), "want an http:// or https:// URL (got %q)", redactURL(s.URL))
			}
		}
		if s.Kind == KindBridge && !c.Bridge.Enabled {
			k.add(key("kind"), "kind bridge needs bridge.enabled: true")
		}
		if s.Kind == KindFFmpeg || s.Kind == KindGStreamer {
			k.atLeast(key("width"), int64(s.Width), 1)
			k.atLeast(key("height"), int64(s.Height), 1)
		} else {
			if s.Command != "" {
				k.add(key("command"), "not used by kind %s (only by ffmpeg and gstreamer)", s.Kind)
			}
		}
		if len(s.Args) > 0 && s.Kind != KindFFmpeg {
			k.add(key("args"), "not used by kind %s (only by ffmpeg)", s.Kind)
		}
		if !(s.FPS >= 0) || math.IsInf(s.FPS, 0) {
			k.add(key("fps"), "must be 0 (no cap) or a positive number (got %g)", s.FPS)
		}
		k.notNegative(key("interval"), s.Interval)
		k.atLeast(key("buffer"), int64(s.Buffer), 1)
	}
}

// usedBy names the kinds that use a kind-specific source field.
func usedBy(field string) string {
	return map[string]string{"path": "files and watch", "input": "ffmpeg", "pipeline": "gstreamer", "url": "mjpeg"}[field]
}

func (c *Config) checkMQTT(k *checker) {
	m := c.MQTT
	brokerSchemes := []string{"tcp", "ssl", "ws", "wss", "mqtt", "mqtts"}
	switch m.Broker {
	case BrokerOff:
	case BrokerEmbedded:
		k.addr("mqtt.embedded_addr", m.EmbeddedAddr)
		if host, _, err := net.SplitHostPort(m.EmbeddedAddr); err == nil && !isLoopback(host) &&
			(m.Username == "" || m.Password == "") {
			k.add("mqtt.embedded_addr", "%q is reachable beyond this machine: set mqtt.username and mqtt.password", m.EmbeddedAddr)
		}
	default:
		for i, b := range strings.Split(m.Broker, ",") {
			b = strings.TrimSpace(b)
			u, err := url.Parse(b)
			if err != nil || !slices.Contains(brokerSchemes, u.Scheme) || u.Host == "" {
				k.add("mqtt.broker", "URL %d: want embedded, off or URLs such as tcp://host:1883 with scheme %s (got %q)",
					i+1, strings.Join(brokerSchemes, ", "), redactURL(b))
			}
		}
	}
	switch {
	case m.TLS.Cert != "" && m.TLS.Key == "":
		k.add("mqtt.tls.key", "required with mqtt.tls.cert")
	case m.TLS.Cert == "" && m.TLS.Key != "":
		k.add("mqtt.tls.cert", "required with mqtt.tls.key")
	}
	if p := m.TopicPrefix; p == "" || strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		k.add("mqtt.topic_prefix", "want a topic without +, # or a leading or trailing / (got %q)", p)
	}
	k.positive("mqtt.telemetry_interval", m.TelemetryInterval)
	k.atLeast("mqtt.outbox.max_messages", int64(m.Outbox.MaxMessages), 1)
	k.positive("mqtt.outbox.max_age", m.Outbox.MaxAge)
	k.notNegative("mqtt.predictions.min_interval", m.Predictions.MinInterval)
	k.atLeast("mqtt.max_payload_bytes", int64(m.MaxPayloadBytes), 1)
	if m.HomeAssistant.Enabled && (m.HomeAssistant.Prefix == "" || strings.ContainsAny(m.HomeAssistant.Prefix, "+#")) {
		k.add("mqtt.home_assistant.prefix", "want a topic without + or # (got %q)", m.HomeAssistant.Prefix)
	}
}

// isLoopback reports whether a listen host stays on this machine; an empty
// host listens on every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) checkProbe(k *checker) {
	p := c.Probe
	if !(p.L2 >= 0) || math.IsInf(p.L2, 0) {
		k.add("probe.l2", "must be 0 or a positive number (got %g)", p.L2)
	}
	if !(p.Unknown >= 0 && p.Unknown <= 1) {
		k.add("probe.unknown_below", "must be from 0 to 1 (got %g)", p.Unknown)
	}
	k.atLeast("probe.auto_train_after", int64(p.AutoTrain), 0)
	k.atLeast("probe.folds", int64(p.Folds), 2)
	k.atLeast("probe.min_per_class", int64(p.MinPerClass), 1)
	k.atLeast("probe.max_epochs", int64(p.MaxEpochs), 1)
}

func (c *Config) checkBridge(k *checker) {
	b := c.Bridge
	if b.Enabled && b.Port == "" {
		k.add("bridge.port", "required when bridge.enabled is true (a serial port path or usb:VID:PID)")
	}
	k.atLeast("bridge.baud", int64(b.Baud), 1)
	if b.Snapshot != "" && !slices.ContainsFunc(c.Sources, func(s Source) bool { return s.Name == b.Snapshot }) {
		k.add("bridge.snapshot", "no source is named %q", b.Snapshot)
	}
	for _, id := range sortedKeys(b.Buttons) {
		if b.Buttons[id] == "" {
			k.add("bridge.buttons."+id, "needs a label")
		}
	}
	for _, label := range sortedKeys(b.LEDs) {
		k.atLeast("bridge.leds."+label, int64(b.LEDs[label]), 0)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
