package pretrain

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mocoedge/mocoedge/trainer/moco"
)

// SpecName is the file in a run folder that records how the run was
// started, so that `trainer pretrain --resume DIR` continues it without
// its flags being repeated.
const SpecName = "run.json"

// Spec is what run.json records: the MoCo configuration and the data
// options of a run. Run writes it at every start, resumed ones included.
type Spec struct {
	Config            moco.Config `json:"config"`
	Data              string      `json:"data"`
	Eval              string      `json:"eval,omitempty"`
	Limit             int         `json:"limit,omitempty"`
	EvalLimit         int         `json:"eval_limit,omitempty"`
	EvalEvery         int         `json:"eval_every,omitempty"`
	KNNBeforeTraining bool        `json:"knn_init,omitempty"`
	LogEvery          int         `json:"log_every,omitempty"`
}

// Spec returns the part of o that run.json records.
func (o Options) Spec() Spec {
	return Spec{Config: o.Config, Data: o.Data, Eval: o.Eval, Limit: o.Limit, EvalLimit: o.EvalLimit,
		EvalEvery: o.EvalEvery, KNNBeforeTraining: o.KNNBeforeTraining, LogEvery: o.LogEvery}
}

// ReadSpec reads dir's run.json. A folder without one gives an error that
// wraps fs.ErrNotExist (runs started before run.json existed).
func ReadSpec(dir string) (Spec, error) {
	path := filepath.Join(dir, SpecName)
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("read run spec: %w", err)
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return Spec{}, fmt.Errorf("%s is damaged (%w); resume with the run's flags instead (--recipe, --data, --eval and the overrides it was started with)", path, err)
	}
	if s.Data == "" {
		return Spec{}, fmt.Errorf("%s names no training data; resume with the run's flags instead (--recipe, --data, ...)", path)
	}
	return s, nil
}

// writeSpec writes s to dir's run.json through a temporary file and a
// rename, so a crash leaves the old file or the new one, never half of one.
func writeSpec(dir string, s Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, SpecName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write run spec: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write run spec: %w", err)
	}
	return nil
}
