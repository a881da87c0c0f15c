package config

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// WriteDefault writes the default configuration as commented YAML (what
// `edge config --print-default` prints): every key with its description
// above it, and a commented example of sources with one source of each
// kind. Load reads it back to exactly Default().
func WriteDefault(w io.Writer) error {
	header := []string{
		"Configuration of the mocoedge edge daemon; every key is at its default.",
		"Layers, each overriding the one before: built-in defaults < this file <",
		"MOCOEDGE_* environment variables < command-line flags. A key left out (or",
		"given no value) keeps its default; unknown keys are errors. See docs/config.md.",
	}
	return Default().write(w, header, true)
}

// WriteYAML writes c as commented YAML (what `edge config --print` prints,
// after Validate and Redacted). Load reads it back to c.
func (c Config) WriteYAML(w io.Writer) error {
	return c.write(w, []string{"Effective configuration of the mocoedge edge daemon."}, false)
}

// Redacted returns a copy of c safe to print or log: the MQTT password and
// the passwords inside broker and source URLs become "***".
func (c Config) Redacted() Config {
	if c.MQTT.Password != "" {
		c.MQTT.Password = "***"
	}
	brokers := strings.Split(c.MQTT.Broker, ",")
	for i, b := range brokers {
		brokers[i] = redactURL(b)
	}
	c.MQTT.Broker = strings.Join(brokers, ",")
	c.Sources = slices.Clone(c.Sources)
	for i := range c.Sources {
		c.Sources[i].Input = redactURL(c.Sources[i].Input)
		c.Sources[i].URL = redactURL(c.Sources[i].URL)
	}
	return c
}

// redactURL replaces the password of URL s, if it has one, with "***".
func redactURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	// url.Redacted writes the password as "xxxxx"; say "***" as elsewhere.
	return strings.Replace(u.Redacted(), ":xxxxx@", ":***@", 1)
}

// write encodes c with its docs as comments, after the header lines.
func (c Config) write(w io.Writer, header []string, example bool) error {
	root := encodeSection(reflect.ValueOf(c), true)
	if example {
		for i := 0; i < len(root.Content); i += 2 {
			if k := root.Content[i]; k.Value == "sources" {
				ex, err := sourcesExample()
				if err != nil {
					return err
				}
				k.HeadComment += "\n" + ex
			}
		}
	}
	body, err := encode(root)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	for _, line := range header {
		out.WriteString("# " + line + "\n")
	}
	// A blank line before each top-level key's comment, for the eye.
	prev := ""
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "#") && !strings.HasPrefix(prev, "#") {
			out.WriteString("\n")
		}
		out.WriteString(line)
		prev = line
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// sourcesExample is the commented example under the sources key.
func sourcesExample() (string, error) {
	v := reflect.ValueOf(exampleSources())
	root := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "sources"},
		encodeValue(v, false),
	}}
	text, err := encode(root)
	if err != nil {
		return "", err
	}
	lines := []string{"#", "# Keys of each source:"}
	st := reflect.TypeFor[Source]()
	for i := range st.NumField() {
		lines = append(lines, "#   "+yamlName(st.Field(i))+": "+st.Field(i).Tag.Get("doc"))
	}
	lines = append(lines, "#", "# Example, one source of each kind (replace `sources: []` with it;",
		"# the bridge kind needs bridge.enabled: true):", "#")
	for line := range strings.Lines(text) {
		lines = append(lines, "# "+strings.TrimRight(line, "\n"))
	}
	return strings.Join(lines, "\n"), nil
}

// exampleSources is one source of each kind, as the default file shows them.
func exampleSources() []Source {
	return []Source{
		{Name: "photos", Kind: KindFiles, Path: "/srv/photos/*.jpg", Interval: Duration(2 * time.Second), Loop: true},
		{Name: "inbox", Kind: KindWatch, Path: "/srv/inbox"},
		{Name: "door", Kind: KindFFmpeg, Input: "rtsp://192.168.1.20:554/stream1", FPS: 5,
			Args: []string{"-rtsp_transport", "tcp"}},
		{Name: "csi0", Kind: KindGStreamer, FPS: 10,
			Pipeline: "nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=1280,height=720 ! nvvidconv"},
		{Name: "yard", Kind: KindMJPEG, URL: "http://192.168.1.21/video.mjpg"},
		{Name: "board", Kind: KindBridge},
	}
}

// encode writes a node tree as YAML indented by two spaces.
func encode(n *yaml.Node) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return "", fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("encode config: %w", err)
	}
	return b.String(), nil
}

// encodeSection encodes struct v as a mapping; with docs, each key carries
// its doc tag as a comment. Items of lists (sources) leave zero keys out.
func encodeSection(v reflect.Value, docs bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !docs && v.Field(i).IsZero() {
			continue
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: yamlName(sf)}
		if docs {
			k.HeadComment = sf.Tag.Get("doc")
		}
		n.Content = append(n.Content, k, encodeValue(v.Field(i), docs))
	}
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle
	}
	return n
}

// encodeValue encodes a section, a list of sections or a leaf.
func encodeValue(v reflect.Value, docs bool) *yaml.Node {
	t := v.Type()
	switch {
	case isSection(t):
		return encodeSection(v, docs)
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			n.Content = append(n.Content, encodeSection(v.Index(i), false))
		}
		if len(n.Content) == 0 {
			n.Style = yaml.FlowStyle
		}
		return n
	}
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		// Leaves are strings, numbers, booleans, durations, string
		// lists and maps: they always encode.
		panic(fmt.Sprintf("config: encode %s: %v", t, err))
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		n.Style = yaml.FlowStyle
	}
	return &n
}
