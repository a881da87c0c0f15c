package config

//go:generate go run ./internal/genref ../../docs/config.md

import (
	"fmt"
	"reflect"
	"strings"
)

// Reference returns the configuration reference in Markdown (the content of
// docs/config.md): how the layers combine, then a table of every key with
// its variable, default and description, generated from Config's tags.
func Reference() string {
	var b strings.Builder
	b.WriteString(`# Edge daemon configuration

<!-- Generated from edge/config by "go generate ./edge/config"; do not edit. -->

The ` + "`edge`" + ` daemon builds its configuration in layers, each overriding the one
before: the built-in defaults < the YAML file named by ` + "`--config FILE`" + ` (or
` + "`" + EnvConfig + "`" + `) < environment variables < command-line flags. Every key below
that has a variable also has a flag named by the dotted key (` + "`--mqtt.broker`" + `);
the variable is ` + "`" + EnvPrefix + "`" + ` followed by the key upper-cased with dots as
underscores (` + "`MOCOEDGE_MQTT_BROKER`" + `). In variables and flags lists are comma
separated; everywhere durations are Go durations ("10ms", "1m30s"). Keys
marked "file only" (sources, maps) are set in the file alone. A key left out of
the file keeps its default; unknown keys and bad values are errors that name the
key. ` + "`edge config --print-default`" + ` writes a commented file with every key.

| key | env | default | description |
| --- | --- | --- | --- |
`)
	def := reflect.ValueOf(Default())
	for _, f := range fields() {
		env := "`" + f.env() + "`"
		var value string
		switch {
		case f.fileOnly:
			env = "file only"
		case f.section:
			env = ""
		}
		switch {
		case f.section, f.typ.Kind() == reflect.Map:
		case strings.Contains(f.key, "[]"):
			value = sourceDefault(f.index[0])
		default:
			value = defaultCell(def.FieldByIndex(f.index))
		}
		key := "`" + f.key + "`"
		if f.section {
			key = "**" + key + "**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", key, env, cell(value), cell(f.doc))
	}
	return b.String()
}

// sourceDefault describes the default of Source field i, which may depend
// on the kind: "`2`" or "`640` (ffmpeg, gstreamer)".
func sourceDefault(i int) string {
	sf := reflect.TypeFor[Source]().Field(i)
	if name := yamlName(sf); name == "name" || name == "kind" {
		return "required"
	}
	kinds := map[string][]string{} // formatted default -> the kinds with it
	var order []string
	for _, kind := range Kinds() {
		c := Config{Sources: []Source{{Kind: kind}}}
		c.applySourceDefaults()
		v := reflect.ValueOf(c.Sources[0]).Field(i)
		s := defaultCell(v)
		if v.IsZero() {
			s = "" // shown only when every kind has it
		}
		if kinds[s] == nil {
			order = append(order, s)
		}
		kinds[s] = append(kinds[s], kind)
	}
	if len(order) == 1 && order[0] != "" {
		return order[0]
	}
	if len(order) == 1 {
		return defaultCell(reflect.New(sf.Type).Elem())
	}
	var parts []string
	for _, s := range order {
		if s != "" {
			parts = append(parts, s+" ("+strings.Join(kinds[s], ", ")+")")
		}
	}
	return strings.Join(parts, ", ")
}

// defaultCell formats a default value for the table.
func defaultCell(v reflect.Value) string {
	if v.Kind() == reflect.Slice && v.Len() == 0 {
		return "`[]`"
	}
	return code(formatValue(v))
}

// code formats a value as inline code; the empty string shows as `""`.
func code(s string) string {
	if s == "" {
		return "`\"\"`"
	}
	return "`" + s + "`"
}

// cell escapes a table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
