package mqtt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Command verbs accepted on PREFIX/DEVICE/cmd/VERB.
const (
	VerbLabel    = "label"
	VerbTrain    = "train"
	VerbQuery    = "query"
	VerbReload   = "reload"
	VerbSnapshot = "snapshot"
	VerbConfig   = "config"
)

// Verbs lists the command verbs.
func Verbs() []string {
	return []string{VerbLabel, VerbTrain, VerbQuery, VerbReload, VerbSnapshot, VerbConfig}
}

// Handler runs commands received over MQTT. HandleCommand gets a command
// already parsed and validated (exactly one of Command's verb fields is set)
// and returns the fields of a successful result, merged into the published
// {"id","request","ok":true,...}; a handler must not use those four keys
// (they are set by the client and win). An error becomes ok:false with the
// error's text; a panic is recovered and reported the same way. Commands
// run on a few worker goroutines, so HandleCommand may be called
// concurrently; ctx ends when the client closes.
type Handler interface {
	HandleCommand(ctx context.Context, cmd Command) (result map[string]any, err error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, cmd Command) (map[string]any, error)

// HandleCommand calls f.
func (f HandlerFunc) HandleCommand(ctx context.Context, cmd Command) (map[string]any, error) {
	return f(ctx, cmd)
}

// Command is a parsed command. Verb and Request are always set; so is the
// one pointer field that matches Verb.
type Command struct {
	// Verb is one of the Verb* constants.
	Verb string
	// Request is the caller's request id, echoed in the result.
	Request string
	// Label is set for VerbLabel.
	Label *LabelCommand
	// Train is set for VerbTrain.
	Train *TrainCommand
	// Query is set for VerbQuery.
	Query *QueryCommand
	// Reload is set for VerbReload.
	Reload *ReloadCommand
	// Snapshot is set for VerbSnapshot.
	Snapshot *SnapshotCommand
	// Config is set for VerbConfig.
	Config *ConfigCommand
}

// LabelCommand labels a key queue entry, given by id or as the latest frame
// of a source (exactly one of the two).
type LabelCommand struct {
	// Request is the request id.
	Request string `json:"request"`
	// ID is the key queue entry to label.
	ID *uint64 `json:"id,omitempty"`
	// Source names a source whose latest frame is labelled.
	Source string `json:"source,omitempty"`
	// Label is the label (1-64 bytes, no control characters).
	Label string `json:"label"`
}

// TrainCommand asks the probe to train now.
type TrainCommand struct {
	// Request is the request id.
	Request string `json:"request"`
}

// QueryCommand asks for the k nearest key queue entries of an image (given
// inline) or of a key queue entry (exactly one of the two), optionally
// filtered. The result goes to events/retrieval (and its summary to the
// command result).
type QueryCommand struct {
	// Request is the request id.
	Request string `json:"request"`
	// Image is a JPEG or PNG image, base64 in the JSON, decoded here.
	Image []byte `json:"-"`
	// ID is a key queue entry to use as the query.
	ID *uint64 `json:"id,omitempty"`
	// K is the number of results (0: retrieval.k).
	K int `json:"k,omitempty"`
	// Source keeps only entries of this source.
	Source string `json:"source,omitempty"`
	// Label keeps only entries with this label.
	Label string `json:"label,omitempty"`
	// Since keeps only entries captured at or after this time.
	Since *time.Time `json:"-"`
	// Until keeps only entries captured before this time.
	Until *time.Time `json:"-"`
}

// ReloadCommand loads another model from the model folder.
type ReloadCommand struct {
	// Request is the request id.
	Request string `json:"request"`
	// Path is the ONNX file, relative to the model folder (or absolute
	// inside it). The handler must resolve it with SafeModelPath.
	Path string `json:"path"`
}

// SnapshotCommand keeps the latest frame of a source in the key queue.
type SnapshotCommand struct {
	// Request is the request id.
	Request string `json:"request"`
	// Source is the source name.
	Source string `json:"source"`
}

// ConfigCommand changes settings at run time. Set holds only keys of the
// allow-list (see ConfigKeys), with values converted to the key's type:
// float64, int, bool or time.Duration.
type ConfigCommand struct {
	// Request is the request id.
	Request string `json:"request"`
	// Set maps setting keys to their new values.
	Set map[string]any `json:"-"`
}

// Configuration keys a config command may set, and their value types.
const (
	// ConfigProbeUnknownBelow is probe.unknown_below: a number in [0, 1].
	ConfigProbeUnknownBelow = "probe.unknown_below"
	// ConfigTelemetryInterval is mqtt.telemetry_interval: a duration string
	// ("10s"), at least 1s.
	ConfigTelemetryInterval = "mqtt.telemetry_interval"
	// ConfigPredictionsMinInterval is mqtt.predictions.min_interval: a
	// duration string, zero or more.
	ConfigPredictionsMinInterval = "mqtt.predictions.min_interval"
	// ConfigPredictionsOnChange is mqtt.predictions.on_change: a bool.
	ConfigPredictionsOnChange = "mqtt.predictions.on_change"
	// ConfigRetrievalK is retrieval.k: an integer of at least 1.
	ConfigRetrievalK = "retrieval.k"
	// ConfigSourceFPSPrefix starts sources.NAME.fps, a source's frame-rate
	// cap: a number of at least 0 (0: no cap).
	ConfigSourceFPSPrefix = "sources."
)

// ConfigKeys lists the keys a config command may set ("sources.NAME.fps"
// stands for every source name).
func ConfigKeys() []string {
	return []string{ConfigProbeUnknownBelow, ConfigTelemetryInterval, ConfigPredictionsMinInterval,
		ConfigPredictionsOnChange, ConfigRetrievalK, "sources.NAME.fps"}
}

// SourceFPSKey returns the config key of a source's frame-rate cap, and
// SourceOfFPSKey the reverse.
func SourceFPSKey(source string) string { return ConfigSourceFPSPrefix + source + ".fps" }

// SourceOfFPSKey returns the source name of a "sources.NAME.fps" key.
func SourceOfFPSKey(key string) (string, bool) {
	if !strings.HasPrefix(key, ConfigSourceFPSPrefix) || !strings.HasSuffix(key, ".fps") {
		return "", false
	}
	name := key[len(ConfigSourceFPSPrefix) : len(key)-len(".fps")]
	if !nameRE.MatchString(name) {
		return "", false
	}
	return name, true
}

// ErrCommand marks a command refused before it reached the handler.
var ErrCommand = errors.New("bad command")

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	requestRE = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// maxK bounds k in a query; the daemon applies retrieval.max_k too.
const maxK = 10000

func cmdError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCommand, fmt.Sprintf(format, args...))
}

// ParseCommand decodes and validates the payload of cmd/VERB. Decoding is
// strict: one JSON object, no unknown fields, exact types, no trailing data,
// at most maxBytes bytes (maxBytes <= 0: DefaultMaxPayloadBytes). Errors wrap
// ErrCommand. On an error the returned Command still carries Verb and, when
// it could be read, Request, so the refusal can echo it.
func ParseCommand(verb string, payload []byte, maxBytes int) (Command, error) {
	cmd := Command{Verb: verb}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxPayloadBytes
	}
	if len(payload) > maxBytes {
		return cmd, cmdError("payload of %d bytes is over the limit of %d", len(payload), maxBytes)
	}
	cmd.Request = peekRequest(payload)
	var err error
	switch verb {
	case VerbLabel:
		cmd.Label, err = parseLabel(payload)
	case VerbTrain:
		cmd.Train = new(TrainCommand)
		err = decodeStrict(payload, cmd.Train)
		if err == nil {
			err = checkRequest(cmd.Train.Request)
		}
	case VerbQuery:
		cmd.Query, err = parseQuery(payload)
	case VerbReload:
		cmd.Reload, err = parseReload(payload)
	case VerbSnapshot:
		cmd.Snapshot, err = parseSnapshot(payload)
	case VerbConfig:
		cmd.Config, err = parseConfig(payload)
	default:
		return cmd, cmdError("unknown verb %q (want one of %s)", verb, strings.Join(Verbs(), ", "))
	}
	if err != nil {
		cmd.Label, cmd.Train, cmd.Query, cmd.Reload, cmd.Snapshot, cmd.Config = nil, nil, nil, nil, nil, nil
		return cmd, err
	}
	return cmd, nil
}

// peekRequest reads the "request" field of a payload, leniently, for
// echoing it in a refusal; "" when it cannot be read or is not a valid id.
func peekRequest(payload []byte) string {
	var p struct {
		Request any `json:"request"`
	}
	if json.NewDecoder(bytes.NewReader(payload)).Decode(&p) != nil {
		return ""
	}
	if s, ok := p.Request.(string); ok && requestRE.MatchString(s) {
		return s
	}
	return ""
}

func decodeStrict(payload []byte, v any) error {
	if !utf8.Valid(payload) {
		return cmdError("payload is not UTF-8")
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return cmdError("payload must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cmdError("%v", jsonReason(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return cmdError("data after the JSON object")
	}
	return nil
}

// jsonReason shortens encoding/json's errors to what the sender needs.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimPrefix(te.Field, "QueryCommand.")
		return fmt.Sprintf("field %q must be %s, not %s", field, jsonType(te.Type.String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "invalid JSON: unexpected end of the payload"
	}
	return err.Error()
}

func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "map"):
		return "an object"
	case strings.Contains(goType, "uint"):
		return "a non-negative integer"
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "bool"):
		return "a boolean"
	case strings.Contains(goType, "float"):
		return "a number"
	}
	return goType
}

func checkRequest(r string) error {
	if r == "" {
		return cmdError(`"request" is required`)
	}
	if !requestRE.MatchString(r) {
		return cmdError(`"request" must be 1-128 printable ASCII characters without spaces`)
	}
	return nil
}

func checkSource(field, s string) error {
	if !nameRE.MatchString(s) {
		return cmdError("%q must be a source name (1-64 letters, digits, - or _)", field)
	}
	return nil
}

func checkLabel(field, l string) error {
	if l == "" || len(l) > 64 {
		return cmdError("%q must be 1-64 bytes", field)
	}
	for _, r := range l {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return cmdError("%q must not contain control characters", field)
		}
	}
	if strings.TrimSpace(l) != l {
		return cmdError("%q must not start or end with spaces", field)
	}
	return nil
}

func parseLabel(payload []byte) (*LabelCommand, error) {
	var c LabelCommand
	if err := decodeStrict(payload, &c); err != nil {
		return nil, err
	}
	if err := checkRequest(c.Request); err != nil {
		return nil, err
	}
	switch {
	case c.ID != nil && c.Source != "":
		return nil, cmdError(`give "id" or "source", not both`)
	case c.ID == nil && c.Source == "":
		return nil, cmdError(`"id" (a key queue entry) or "source" (its latest frame) is required`)
	case c.ID != nil && *c.ID == 0:
		return nil, cmdError(`"id" must be a key queue id (1 or more)`)
	case c.Source != "":
		if err := checkSource("source", c.Source); err != nil {
			return nil, err
		}
	}
	if err := checkLabel("label", c.Label); err != nil {
		return nil, err
	}
	return &c, nil
}

func parseQuery(payload []byte) (*QueryCommand, error) {
	var raw struct {
		QueryCommand
		Image *string `json:"image,omitempty"`
		Since *string `json:"since,omitempty"`
		Until *string `json:"until,omitempty"`
	}
	if err := decodeStrict(payload, &raw); err != nil {
		return nil, err
	}
	c := raw.QueryCommand
	if err := checkRequest(c.Request); err != nil {
		return nil, err
	}
	switch {
	case raw.Image != nil && c.ID != nil:
		return nil, cmdError(`give "image" or "id", not both`)
	case raw.Image == nil && c.ID == nil:
		return nil, cmdError(`"image" (base64 JPEG or PNG) or "id" (a key queue entry) is required`)
	case c.ID != nil && *c.ID == 0:
		return nil, cmdError(`"id" must be a key queue id (1 or more)`)
	}
	if raw.Image != nil {
		img, err := base64.StdEncoding.DecodeString(*raw.Image)
		if err != nil {
			return nil, cmdError(`"image" is not standard base64: %v`, err)
		}
		if !isJPEG(img) && !isPNG(img) {
			return nil, cmdError(`"image" is neither a JPEG nor a PNG`)
		}
		c.Image = img
	}
	if c.K < 0 || c.K > maxK {
		return nil, cmdError(`"k" must be between 1 and %d`, maxK)
	}
	if c.Source != "" {
		if err := checkSource("source", c.Source); err != nil {
			return nil, err
		}
	}
	if c.Label != "" {
		if err := checkLabel("label", c.Label); err != nil {
			return nil, err
		}
	}
	for _, tv := range []struct {
		name string
		in   *string
		out  **time.Time
	}{{"since", raw.Since, &c.Since}, {"until", raw.Until, &c.Until}} {
		if tv.in == nil {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, *tv.in)
		if err != nil {
			return nil, cmdError("%q must be an RFC 3339 time such as 2024-05-01T12:00:00Z", tv.name)
		}
		*tv.out = &ts
	}
	if c.Since != nil && c.Until != nil && !c.Until.After(*c.Since) {
		return nil, cmdError(`"until" must be after "since"`)
	}
	return &c, nil
}

func isJPEG(b []byte) bool { return len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }

func isPNG(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }

func parseReload(payload []byte) (*ReloadCommand, error) {
	var c ReloadCommand
	if err := decodeStrict(payload, &c); err != nil {
		return nil, err
	}
	if err := checkRequest(c.Request); err != nil {
		return nil, err
	}
	if c.Path == "" {
		return nil, cmdError(`"path" is required`)
	}
	if len(c.Path) > 1024 || strings.ContainsRune(c.Path, 0) {
		return nil, cmdError(`"path" is not a usable file name`)
	}
	// Refuse what can never be inside the model folder now; the handler
	// checks against the folder itself with SafeModelPath.
	if !filepath.IsAbs(c.Path) && !filepath.IsLocal(c.Path) {
		return nil, cmdError(`"path" %q leaves the model folder`, c.Path)
	}
	return &c, nil
}

func parseSnapshot(payload []byte) (*SnapshotCommand, error) {
	var c SnapshotCommand
	if err := decodeStrict(payload, &c); err != nil {
		return nil, err
	}
	if err := checkRequest(c.Request); err != nil {
		return nil, err
	}
	if c.Source == "" {
		return nil, cmdError(`"source" is required`)
	}
	if err := checkSource("source", c.Source); err != nil {
		return nil, err
	}
	return &c, nil
}

func parseConfig(payload []byte) (*ConfigCommand, error) {
	var raw struct {
		Request string                     `json:"request"`
		Set     map[string]json.RawMessage `json:"set"`
	}
	if err := decodeStrict(payload, &raw); err != nil {
		return nil, err
	}
	if err := checkRequest(raw.Request); err != nil {
		return nil, err
	}
	if len(raw.Set) == 0 {
		return nil, cmdError(`"set" must be an object with at least one setting (allowed: %s)`, strings.Join(ConfigKeys(), ", "))
	}
	keys := make([]string, 0, len(raw.Set))
	for k := range raw.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := &ConfigCommand{Request: raw.Request, Set: make(map[string]any, len(raw.Set))}
	for _, k := range keys {
		v, err := configValue(k, raw.Set[k])
		if err != nil {
			return nil, err
		}
		c.Set[k] = v
	}
	return c, nil
}

// configValue converts one setting, strictly typed.
func configValue(key string, raw json.RawMessage) (any, error) {
	number := func(lo, hi float64) (float64, error) {
		var f float64
		if err := strictValue(raw, &f); err != nil {
			return 0, cmdError("%s must be a number", key)
		}
		if math.IsNaN(f) || f < lo || f > hi {
			return 0, cmdError("%s must be between %g and %g", key, lo, hi)
		}
		return f, nil
	}
	duration := func(lo time.Duration) (time.Duration, error) {
		var s string
		if err := strictValue(raw, &s); err != nil {
			return 0, cmdError(`%s must be a duration string such as "10s"`, key)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, cmdError("%s: %v", key, err)
		}
		if d < lo || d > 24*time.Hour {
			return 0, cmdError("%s must be between %v and 24h", key, lo)
		}
		return d, nil
	}
	switch key {
	case ConfigProbeUnknownBelow:
		return number(0, 1)
	case ConfigTelemetryInterval:
		return duration(time.Second)
	case ConfigPredictionsMinInterval:
		return duration(0)
	case ConfigPredictionsOnChange:
		var b bool
		if err := strictValue(raw, &b); err != nil {
			return nil, cmdError("%s must be true or false", key)
		}
		return b, nil
	case ConfigRetrievalK:
		var k int
		if err := strictValue(raw, &k); err != nil {
			return nil, cmdError("%s must be an integer", key)
		}
		if k < 1 || k > maxK {
			return nil, cmdError("%s must be between 1 and %d", key, maxK)
		}
		return k, nil
	}
	if _, ok := SourceOfFPSKey(key); ok {
		return number(0, 1000)
	}
	return nil, cmdError("setting %q cannot be changed over MQTT (allowed: %s)", key, strings.Join(ConfigKeys(), ", "))
}

func strictValue(raw json.RawMessage, v any) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return errors.New("null")
	}
	return json.Unmarshal(raw, v)
}

// SafeModelPath resolves p (relative to dir, or absolute) to a path inside
// the model folder dir. It refuses paths that leave dir lexically (".."),
// absolute paths outside it, and paths whose symbolic links resolve outside
// it. The file need not exist yet, but its folder must.
func SafeModelPath(dir, p string) (string, error) {
	if dir == "" {
		return "", errors.New("safe model path: no model folder configured")
	}
	if p == "" || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("safe model path: %q is not a usable file name", p)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("safe model path: %w", err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("safe model path: model folder: %w", err)
	}
	var full string
	if filepath.IsAbs(p) {
		full = filepath.Clean(p)
	} else {
		if !filepath.IsLocal(p) {
			return "", fmt.Errorf("safe model path: %q leaves the model folder %s", p, dir)
		}
		full = filepath.Join(root, p)
	}
	if !within(root, full) && !within(realRoot, full) {
		return "", fmt.Errorf("safe model path: %q is outside the model folder %s", p, dir)
	}
	// Resolve links: of the file when it exists, else of its folder.
	resolved, err := filepath.EvalSymlinks(full)
	if errors.Is(err, os.ErrNotExist) {
		var parent string
		parent, err = filepath.EvalSymlinks(filepath.Dir(full))
		resolved = filepath.Join(parent, filepath.Base(full))
	}
	if err != nil {
		return "", fmt.Errorf("safe model path: %w", err)
	}
	if !within(realRoot, resolved) {
		return "", fmt.Errorf("safe model path: %q resolves to %s, outside the model folder %s", p, resolved, dir)
	}
	return resolved, nil
}

// within tells whether path lies strictly inside root.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != "." && filepath.IsLocal(rel)
}
