package pretrain

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// Record is one line of metrics.jsonl: a logged training step, or an
// evaluation (then KNNTop1 is set and Loss is zero).
type Record struct {
	Epoch   float64  `json:"epoch"` // fractional: 1.5 is half-way through the second epoch
	Step    int64    `json:"step"`
	Loss    float64  `json:"loss,omitempty"`
	LR      float64  `json:"lr,omitempty"`
	ImgPerS float64  `json:"img_per_s,omitempty"`
	KNNTop1 *float64 `json:"knn_top1,omitempty"`
	Elapsed float64  `json:"seconds"`
}

// metricsLog appends records to DIR/metrics.jsonl, flushed after each line
// so a crash loses at most the line being written.
type metricsLog struct {
	f *os.File
	w *bufio.Writer
}

func openMetrics(path string) (*metricsLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics %s: %w", path, err)
	}
	return &metricsLog{f: f, w: bufio.NewWriter(f)}, nil
}

func (m *metricsLog) add(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := m.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return m.w.Flush()
}

func (m *metricsLog) close() error {
	if err := m.w.Flush(); err != nil {
		m.f.Close()
		return err
	}
	return m.f.Close()
}

// readMetrics returns the records of a metrics.jsonl file.
func readMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line torn by a crash: skip it
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
