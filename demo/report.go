package main

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
)

// reportPage is the HTML report's template: the figures, the training
// curves, the retrieval answers with thumbnails and the probes' confusion
// matrices. Images are embedded as data URIs (the curves PNG is copied
// beside the page), so the folder can be opened or shared as is.
var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"jpeg": func(b []byte) template.URL {
		return template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b))
	},
	"shade": func(v, total int) template.CSS {
		a := 0.0
		if total > 0 {
			a = float64(v) / float64(total)
		}
		return template.CSS(fmt.Sprintf("background: rgba(40, 110, 200, %.2f)", a))
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mocoedge demo report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f4f4f4; }
.q img, .n img { width: 64px; height: 64px; image-rendering: pixelated; display: block; }
.n { display: inline-block; margin: 0 6px; font-size: 12px; text-align: center; }
.q { display: inline-block; margin-right: 18px; font-size: 12px; text-align: center; }
.row { margin: 12px 0; padding: 8px; border-bottom: 1px solid #eee; }
</style></head><body>
<h1>mocoedge demo</h1>
<p>{{if .S.Quick}}Quick run (DEMO_QUICK=1). {{end}}Total {{printf "%.0f" .S.Seconds}} s. The daemon embedded {{.S.Frames}} frames on the {{.S.Provider}} execution provider.</p>
<table>
<tr><th></th><th>MoCo-pretrained encoder</th><th>random-init encoder</th></tr>
<tr><th>kNN top-1, CIFAR-10 test</th><td>{{printf "%.1f%%" .S.KNNPretrained}}</td><td>{{printf "%.1f%%" .S.KNNRandom}}</td></tr>
<tr><th>linear probe on the device ({{.S.Labels}} labels over MQTT), held-out test images</th><td>{{pct .S.Pretrained.Accuracy}}</td><td>{{pct .S.Random.Accuracy}}</td></tr>
</table>
<h2>Pretraining</h2>
<img src="curves.png" alt="loss and kNN curves" style="max-width: 100%">
<h2>Retrieval over MQTT (top 5 from the camera's key queue)</h2>
{{range .S.Retrievals}}<div class="row"><span class="q"><img src="{{jpeg .Query}}" alt="query"><br>query: {{.Class}}</span>
{{range .Results}}<span class="n"><img src="{{jpeg .Thumbnail}}" alt="entry {{.ID}}"><br>#{{.ID}} {{printf "%.2f" .Score}}<br>{{.Class}}{{if .Label}} (labelled){{end}}</span>{{end}}</div>
{{end}}
{{range .Probes}}{{$p := .}}<h2>Confusion matrix: probe on the {{.Encoder}} encoder ({{pct .Accuracy}})</h2>
<table><tr><th>true \ predicted</th>{{range .Classes}}<th>{{.}}</th>{{end}}<th>unknown</th></tr>
{{range $i, $row := .Rows}}<tr><th>{{index $p.Classes $i}}</th>{{range $row.Cells}}<td style="{{shade . $row.Total}}">{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h2>MQTT messages seen by the dashboard</h2>
<table><tr><th>type</th><th>messages</th></tr>{{range .Messages}}<tr><th>{{.Kind}}</th><td>{{.N}}</td></tr>{{end}}</table>
</body></html>
`))

// writeReport writes demo-report/index.html and copies the curves beside
// it.
func (d *demo) writeReport(s *summary) error {
	type row struct {
		Cells []int
		Total int
	}
	type probeView struct {
		Encoder  string
		Accuracy float64
		Classes  []string
		Rows     []row
	}
	type result struct {
		ID           uint64
		Score        float64
		Label, Class string
		Thumbnail    []byte
	}
	type answer struct {
		Query   []byte
		Class   string
		Results []result
	}
	type count struct {
		Kind string
		N    int
	}
	view := struct {
		S struct {
			Quick                    bool
			Seconds                  float64
			Frames, Labels           int
			Provider                 string
			KNNPretrained, KNNRandom float64
			Pretrained, Random       struct{ Accuracy float64 }
			Retrievals               []answer
		}
		Probes   []probeView
		Messages []count
	}{}
	view.S.Quick, view.S.Seconds, view.S.Frames, view.S.Labels, view.S.Provider = s.quick, s.seconds, s.frames, s.labels, s.provider
	view.S.KNNPretrained, view.S.KNNRandom = s.knnPretrained, s.knnRandom
	view.S.Pretrained.Accuracy, view.S.Random.Accuracy = s.pretrained.accuracy, s.random.accuracy
	for _, r := range s.retrievals {
		a := answer{Query: r.query.data, Class: r.query.class}
		for _, n := range r.results {
			a.Results = append(a.Results, result{ID: n.ID, Score: n.Score, Label: n.Label, Class: n.class, Thumbnail: n.thumbnail})
		}
		view.S.Retrievals = append(view.S.Retrievals, a)
	}
	for _, p := range []probeScore{s.pretrained, s.random} {
		v := probeView{Encoder: p.encoder, Accuracy: p.accuracy, Classes: p.classes}
		for _, cells := range p.confusion {
			t := 0
			for _, c := range cells {
				t += c
			}
			v.Rows = append(v.Rows, row{Cells: cells, Total: t})
		}
		view.Probes = append(view.Probes, v)
	}
	for k, n := range s.messages {
		view.Messages = append(view.Messages, count{k, n})
	}
	sort.Slice(view.Messages, func(i, j int) bool { return view.Messages[i].Kind < view.Messages[j].Kind })

	if png, err := os.ReadFile(s.curves); err == nil {
		if err := os.WriteFile(filepath.Join(d.o.report, "curves.png"), png, 0o644); err != nil {
			return err
		}
	}
	path := filepath.Join(d.o.report, "index.html")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := reportPage.Execute(f, view); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	s.reportPath = path
	return nil
}
