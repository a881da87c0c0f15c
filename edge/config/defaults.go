package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Values with a meaning of their own in string settings.
const (
	// BrokerEmbedded in mqtt.broker runs an MQTT broker inside the daemon.
	BrokerEmbedded = "embedded"
	// BrokerOff in mqtt.broker turns MQTT off.
	BrokerOff = "off"
	// CacheOff in model.tensorrt.cache_dir turns the engine cache off.
	CacheOff = "off"
)

// Source kinds, the values of sources[].kind.
const (
	KindFiles     = "files"
	KindWatch     = "watch"
	KindFFmpeg    = "ffmpeg"
	KindGStreamer = "gstreamer"
	KindMJPEG     = "mjpeg"
	KindBridge    = "bridge"
)

// Kinds lists the source kinds in the order the documentation shows them.
func Kinds() []string {
	return []string{KindFiles, KindWatch, KindFFmpeg, KindGStreamer, KindMJPEG, KindBridge}
}

// Default returns the built-in configuration: what a daemon started with no
// file, no MOCOEDGE_* variables and no flags runs with. Derived values
// (device_id, model.dir, model.tensorrt.cache_dir) stay empty until Resolve.
func Default() Config {
	return Config{
		DeviceID: "",
		DataDir:  "edge-data",
		Log:      Log{Level: "info", Format: "text"},
		Model: Model{
			Providers: []string{"tensorrt", "cuda", "cpu"},
			TensorRT:  TensorRT{FP16: true, CacheDir: "", TimingCache: true, WorkspaceMB: 1024},
		},
		Batch:   Batch{Max: 8, MaxWait: Duration(10 * time.Millisecond), Queue: 64, Runners: 2},
		Preproc: Preprocess{Workers: 0, TurboJPEG: "auto", MaxPixels: 40_000_000},
		Queue: Queue{
			Capacity:         100_000,
			SyncEvery:        64,
			SyncInterval:     Duration(time.Second),
			ThumbnailSize:    64,
			ThumbnailQuality: 80,
			EveryFrame:       true,
		},
		Retrieval: Retrieval{K: 5, MaxK: 100},
		HTTP:      HTTP{Addr: "127.0.0.1:8080", MaxUploadBytes: 20 << 20},
		MQTT: MQTT{
			Broker:            BrokerEmbedded,
			EmbeddedAddr:      "127.0.0.1:1883",
			TopicPrefix:       "mocoedge",
			TelemetryInterval: Duration(10 * time.Second),
			Outbox:            Outbox{MaxMessages: 10_000, MaxAge: Duration(24 * time.Hour)},
			Predictions:       Predictions{MinInterval: Duration(time.Second)},
			MaxPayloadBytes:   1 << 20,
			HomeAssistant:     HomeAssist{Prefix: "homeassistant"},
		},
		Probe:  Probe{L2: 1e-3, Unknown: 0.5, AutoTrain: 20, Folds: 5, MinPerClass: 2, MaxEpochs: 300},
		Bridge: BridgeLink{Baud: 921600},
	}
}

// Resolve fills the values derived from others: device_id from the host
// name, model.dir from model.path, model.tensorrt.cache_dir from data_dir
// (unless "off"), and each source's defaults (buffer, frame size, command).
// It is idempotent; Validate calls it, so call it yourself only to see the
// derived values without checking the rest.
func (c *Config) Resolve() error {
	if c.DeviceID == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("device_id: not set and the host name is unknown: %w", err)
		}
		c.DeviceID = SanitizeID(host)
		if c.DeviceID == "" {
			return fmt.Errorf("device_id: not set and the host name is empty")
		}
	}
	if c.Model.Dir == "" && c.Model.Path != "" {
		c.Model.Dir = filepath.Dir(c.Model.Path)
	}
	if c.Model.TensorRT.CacheDir == "" {
		c.Model.TensorRT.CacheDir = filepath.Join(c.DataDir, "trt-cache")
	}
	c.applySourceDefaults()
	return nil
}

// applySourceDefaults fills the per-kind defaults of every source whose
// value is zero.
func (c *Config) applySourceDefaults() {
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Buffer == 0 {
			s.Buffer = 2
		}
		switch s.Kind {
		case KindFFmpeg, KindGStreamer:
			if s.Width == 0 {
				s.Width = 640
			}
			if s.Height == 0 {
				s.Height = 480
			}
			if s.Command == "" {
				s.Command = map[string]string{KindFFmpeg: "ffmpeg", KindGStreamer: "gst-launch-1.0"}[s.Kind]
			}
		}
	}
}

// EngineCacheDir is the engine cache root to use: CacheDir after Resolve,
// or "" when the cache is off.
func (t TensorRT) EngineCacheDir() string {
	if t.CacheDir == CacheOff {
		return ""
	}
	return t.CacheDir
}

// maxIDLen bounds device ids (an MQTT client id and topic segment).
const maxIDLen = 64

// SanitizeID turns s (a host name) into a valid device id by replacing
// every character other than ASCII letters, digits, - and _ with - and
// keeping at most 64 characters.
func SanitizeID(s string) string {
	s = strings.Map(func(r rune) rune {
		if isIDRune(r) {
			return r
		}
		return '-'
	}, s)
	if len(s) > maxIDLen {
		s = s[:maxIDLen]
	}
	return s
}

func isIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// validID reports whether s is a non-empty run of letters, digits, - and _.
func validID(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return !isIDRune(r) }) < 0
}
