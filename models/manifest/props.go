package manifest

import (
	"encoding/json"
	"strconv"
	"time"
)

// Props returns the manifest's fields as the ONNX model's metadata_props:
// every field but sha256 (a file cannot hold its own hash), scalars as
// text and the nested objects as JSON, under the manifest's own key names.
func (m *Manifest) Props() map[string]string {
	js := func(v any) string {
		b, _ := json.Marshal(v) // plain structs of numbers and strings always encode
		return string(b)
	}
	return map[string]string{
		"name":    m.Name,
		"arch":    m.Arch,
		"width":   strconv.FormatFloat(m.Width, 'g', -1, 64),
		"head":    m.Head,
		"method":  m.Method,
		"input":   js(m.Input),
		"outputs": js(m.Outputs),
		"trained": js(m.Trained),
		"created": m.Created.UTC().Format(time.RFC3339Nano),
	}
}
