package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load returns the configuration built in layers: Default(), then the YAML
// file at path (none when path is ""), then the MOCOEDGE_* variables that
// env finds (pass os.LookupEnv; nil reads none), then checks the result.
//
// The file is strict: an unknown key, a repeated key or a value of the
// wrong type is an error naming the file, line and dotted key. A key left
// out, or given no value, keeps its default. Every scalar key and string
// list has a variable (see Reference); sources and maps are file only, and
// variables the schema does not name are ignored.
//
// The result is not resolved yet, so that flags registered with
// RegisterFlags may still change it: call Validate after parsing them.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	c, err := load(path, env)
	if err != nil {
		return Config{}, err
	}
	if err := c.check(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// load is Load without the checks.
func load(path string, env func(string) (string, bool)) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := c.decodeYAML(path, data); err != nil {
			return Config{}, err
		}
	}
	c.applySourceDefaults()
	if env != nil {
		if err := c.applyEnv(env); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// applyEnv sets every key whose MOCOEDGE_* variable env finds.
func (c *Config) applyEnv(env func(string) (string, bool)) error {
	root := reflect.ValueOf(c).Elem()
	var errs []error
	for _, f := range fields() {
		name := f.env()
		if name == "" {
			continue
		}
		s, ok := env(name)
		if !ok {
			continue
		}
		if err := setFromString(root.FieldByIndex(f.index), s); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", name, f.key, err))
		}
	}
	return errors.Join(errs...)
}

// decodeYAML overlays the YAML document data (from the file name) on c.
func (c *Config) decodeYAML(name string, data []byte) error {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file: all defaults
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s:%d: only one YAML document is allowed", name, extra.Line)
	}
	d := decoder{name: name}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	d.section(n, reflect.ValueOf(c).Elem(), "")
	return errors.Join(d.errs...)
}

// decoder walks a YAML node tree alongside the Config it fills, collecting
// every error with its line.
type decoder struct {
	name string
	errs []error
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("%s:%d: %s", d.name, n.Line, fmt.Sprintf(format, args...)))
}

// section decodes mapping n into struct v; prefix is the dotted key of v
// with a trailing dot ("" at the top).
func (d *decoder) section(n *yaml.Node, v reflect.Value, prefix string) {
	n = unalias(n)
	if isNull(n) {
		return // a section with every key commented out keeps its defaults
	}
	if n.Kind != yaml.MappingNode {
		what := strings.TrimSuffix(prefix, ".")
		if what == "" {
			what = "the file"
		}
		d.errorf(n, "%s: want a mapping of keys, got %s", what, describeNode(n))
		return
	}
	t := v.Type()
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := prefix + kn.Value
		sf, ok := fieldByName(t, kn.Value)
		if !ok || kn.Kind != yaml.ScalarNode {
			d.errorf(kn, "unknown key %s (known: %s)", key, strings.Join(keyNames(t), ", "))
			continue
		}
		if line, dup := seen[kn.Value]; dup {
			d.errorf(kn, "%s is set twice (first on line %d)", key, line)
			continue
		}
		seen[kn.Value] = kn.Line
		d.value(vn, v.FieldByIndex(sf.Index), key)
	}
}

// value decodes n into v, the field at the dotted key.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	n = unalias(n)
	t := v.Type()
	switch {
	case isSection(t):
		d.section(n, v, key+".")
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		if isNull(n) {
			v.SetZero()
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "%s: want %s, got %s", key, describeType(t), describeNode(n))
			return
		}
		v.SetZero()
		if len(n.Content) > 0 {
			v.Set(reflect.MakeSlice(t, len(n.Content), len(n.Content)))
		}
		for i, item := range n.Content {
			d.section(item, v.Index(i), fmt.Sprintf("%s[%d].", key, i))
		}
	default:
		if err := decodeLeaf(n, v); err != nil {
			d.errorf(n, "%s: %v", key, err)
		}
	}
}

// decodeLeaf decodes scalar, list or map node n into v. A null keeps v.
func decodeLeaf(n *yaml.Node, v reflect.Value) error {
	if isNull(n) {
		return nil
	}
	t := v.Type()
	wrong := fmt.Errorf("want %s, got %s", describeType(t), describeNode(n))
	switch {
	case t == durationType():
		if n.Kind != yaml.ScalarNode {
			return wrong
		}
		return v.Addr().Interface().(*Duration).UnmarshalText([]byte(n.Value))
	case t.Kind() == reflect.String:
		// Any scalar is a string: a password of digits, a device id "42".
		if n.Kind != yaml.ScalarNode {
			return wrong
		}
		v.SetString(n.Value)
		return nil
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
		want := yaml.SequenceNode
		if t.Kind() == reflect.Map {
			want = yaml.MappingNode
		}
		if n.Kind != want {
			return wrong
		}
		p := reflect.New(t)
		if err := n.Decode(p.Interface()); err != nil {
			return wrong
		}
		v.SetZero()
		if p.Elem().Len() > 0 { // empty stays nil, as in Default()
			v.Set(p.Elem())
		}
		return nil
	default:
		// Only YAML's own type: yaml.v3 alone would truncate 1.5 to 1.
		tags := map[reflect.Kind][]string{reflect.Bool: {"!!bool"}, reflect.Int: {"!!int"},
			reflect.Int64: {"!!int"}, reflect.Float64: {"!!int", "!!float"}}[t.Kind()]
		if n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag()) {
			return wrong
		}
		p := reflect.New(t)
		if err := n.Decode(p.Interface()); err != nil {
			return wrong
		}
		v.Set(p.Elem())
		return nil
	}
}

// fieldByName finds the field of struct type t whose yaml key is name.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if sf := t.Field(i); yamlName(sf) == name {
			return sf, true
		}
	}
	return reflect.StructField{}, false
}

// unalias follows YAML aliases (*name) to the node they stand for.
func unalias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty value ("key:" or "key: ~").
func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describeNode names what the file gave, for error messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}
