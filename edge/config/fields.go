package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// EnvPrefix starts every environment variable the configuration reads.
const EnvPrefix = "MOCOEDGE_"

// EnvConfig names the configuration file when no --config flag is given.
const EnvConfig = EnvPrefix + "CONFIG"

// durationType is Duration's type: such leaves read Go duration strings.
func durationType() reflect.Type { return reflect.TypeFor[Duration]() }

// field is one key of the schema, found by reflection over Config's tags.
type field struct {
	key      string       // dotted key: "mqtt.outbox.max_age", "sources[].name"
	doc      string       // the doc tag
	index    []int        // field path from Config (from Source for sources[] keys)
	typ      reflect.Type // the field's type
	section  bool         // a struct or a list of structs: its keys follow
	fileOnly bool         // set only in the file: no variable, no flag
}

// env returns the variable that sets f, or "" for file-only keys and sections.
func (f field) env() string {
	if f.section || f.fileOnly {
		return ""
	}
	return envName(f.key)
}

// envName maps a dotted key to its variable: mqtt.broker -> MOCOEDGE_MQTT_BROKER.
func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// fields lists every key of the schema in declaration order, sections
// before their keys.
func fields() []field {
	var out []field
	walkType(reflect.TypeFor[Config](), "", nil, false, &out)
	return out
}

func walkType(t reflect.Type, prefix string, index []int, fileOnly bool, out *[]field) {
	for i := range t.NumField() {
		sf := t.Field(i)
		f := field{
			key:      prefix + yamlName(sf),
			doc:      sf.Tag.Get("doc"),
			index:    append(append([]int(nil), index...), i),
			typ:      sf.Type,
			fileOnly: fileOnly,
		}
		switch {
		case isSection(sf.Type):
			f.section = true
			*out = append(*out, f)
			walkType(sf.Type, f.key+".", f.index, fileOnly, out)
		case sf.Type.Kind() == reflect.Slice && isSection(sf.Type.Elem()):
			f.section, f.fileOnly = true, true
			*out = append(*out, f)
			walkType(sf.Type.Elem(), f.key+"[].", nil, true, out)
		case sf.Type.Kind() == reflect.Map:
			f.fileOnly = true
			*out = append(*out, f)
		default:
			*out = append(*out, f)
		}
	}
}

// isSection reports whether t is a struct of keys rather than a leaf.
func isSection(t reflect.Type) bool { return t.Kind() == reflect.Struct }

// yamlName is the key of a struct field in the file.
func yamlName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
	return name
}

// keyNames lists the yaml keys of struct type t, for "known: ..." hints.
func keyNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = yamlName(t.Field(i))
	}
	return names
}

// formatValue writes a leaf the way environment variables and flags take
// it: lists comma separated, durations as Go duration strings.
func formatValue(v reflect.Value) string {
	if v.Type() == durationType() {
		return Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

// setFromString parses s into the leaf v (addressable), the way
// environment variables and flags are read.
func setFromString(v reflect.Value, s string) error {
	if v.Type() == durationType() {
		return v.Addr().Interface().(*Duration).UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer, got %q", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", s)
		}
		v.SetFloat(x)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", v.Type())
		}
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// describeType names what a leaf of type t accepts, for error messages.
func describeType(t reflect.Type) string {
	if t == durationType() {
		return `a duration such as "10ms"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Slice:
		if isSection(t.Elem()) {
			return "a list of mappings"
		}
		return "a list of " + plural(t.Elem())
	case reflect.Map:
		return "a mapping to " + plural(t.Elem())
	case reflect.Struct:
		return "a mapping of keys"
	}
	return t.String()
}

// plural names values of a scalar type t in the plural: "strings", "integers".
func plural(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "strings"
	case reflect.Int, reflect.Int64:
		return "integers"
	}
	return t.String() + " values"
}
