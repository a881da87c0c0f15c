package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/keyqueue"
)

// ModelPath resolves a model path given by a command or an HTTP request:
// relative paths are taken inside model.dir (default: the folder of
// model.path), and a path that leads outside that folder, through ".." or
// a symbolic link, is refused with ErrBadRequest. An empty path means the
// configured model.path.
func (a *Agent) ModelPath(p string) (string, error) {
	if p == "" {
		if a.cfg.Model.Path == "" {
			return "", fmt.Errorf("%w: no model path given and model.path is not set", ErrBadRequest)
		}
		return a.cfg.Model.Path, nil
	}
	dir := a.cfg.Model.Dir
	if dir == "" && a.cfg.Model.Path != "" {
		dir = filepath.Dir(a.cfg.Model.Path)
	}
	if dir == "" {
		return "", fmt.Errorf("%w: set model.dir to allow loading models by path", ErrBadRequest)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("model.dir %s: %w", dir, err)
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(root, p)
	}
	full = filepath.Clean(full)
	resolved := full
	if r, err := filepath.EvalSymlinks(full); err == nil {
		resolved = r
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: model path %q is outside the model folder %s", ErrBadRequest, p, root)
	}
	return resolved, nil
}

// Reload loads the model at path (see ModelPath) with full validation and
// swaps it in; on failure the previous model keeps serving and the error
// says why. After a swap to a different model, the key queue is re-embedded
// in the background (ReembedProgress reports it).
func (a *Agent) Reload(ctx context.Context, path string) (infer.ModelInfo, error) {
	full, err := a.ModelPath(path)
	if err != nil {
		return infer.ModelInfo{}, err
	}
	old, _ := a.engine.Model()
	m, err := a.engine.Reload(ctx, full)
	if err != nil {
		a.log.Error("model reload refused; the previous model keeps serving", "path", full, "err", err)
		return infer.ModelInfo{}, err
	}
	a.log.Info("model reloaded", "path", full, "name", m.Name, "sha256", m.SHA256, "provider", m.Provider)
	if m.SHA256 != old.SHA256 {
		a.reembed.start(a, m)
	}
	return m, nil
}

// ReembedProgress reports the background re-embedding of the key queue
// after a model change.
type ReembedProgress struct {
	// Model is the model the queue is being re-embedded for.
	Model string `json:"model,omitempty"`
	// Running is true while the job runs.
	Running bool `json:"running"`
	// Done and Total count entries; Failed counts entries that could not be
	// re-embedded (no thumbnail, say).
	Done   int `json:"done"`
	Total  int `json:"total"`
	Failed int `json:"failed"`
	// Started and Finished bound the job.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Error is why the job stopped early, if it did.
	Error string `json:"error,omitempty"`
}

// reembedJob runs at most one re-embedding at a time; a newer model
// cancels the running one.
type reembedJob struct {
	mu       sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	progress ReembedProgress
}

// ReembedProgress returns the state of the latest re-embedding job.
func (a *Agent) ReembedProgress() ReembedProgress {
	a.reembed.mu.Lock()
	defer a.reembed.mu.Unlock()
	return a.reembed.progress
}

// cancelAndWait stops the running job, if any, and waits for it.
func (j *reembedJob) cancelAndWait() {
	j.mu.Lock()
	cancel, done := j.cancel, j.done
	j.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// start begins re-embedding the queue for model m.
func (j *reembedJob) start(a *Agent, m infer.ModelInfo) {
	j.cancelAndWait()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	j.mu.Lock()
	j.cancel, j.done = cancel, done
	j.progress = ReembedProgress{Model: m.SHA256, Running: true, Started: time.Now()}
	j.mu.Unlock()
	go func() {
		defer close(done)
		err := a.reembedQueue(ctx, m)
		j.mu.Lock()
		j.progress.Running = false
		j.progress.Finished = time.Now()
		if err != nil {
			j.progress.Error = err.Error()
		}
		p := j.progress
		j.mu.Unlock()
		a.log.Info("key queue re-embedded", "model", m.SHA256, "done", p.Done, "failed", p.Failed,
			"took", p.Finished.Sub(p.Started).Round(time.Millisecond), "err", p.Error)
	}()
}

// reembedQueue appends, for every entry of another model, a copy embedded
// by model m from its thumbnail, with the same time, source and label. The
// originals are the oldest entries, so they are the first evicted; until
// then retrieval ignores them (it compares only the serving model's
// vectors).
func (a *Agent) reembedQueue(ctx context.Context, m infer.ModelInfo) error {
	mid, err := keyqueue.ParseModelID(m.SHA256)
	if err != nil {
		return err
	}
	entries, err := a.queue.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("read key queue: %w", err)
	}
	var todo []keyqueue.Entry
	for _, e := range entries {
		if e.Model != mid {
			todo = append(todo, e)
		}
	}
	a.reembed.mu.Lock()
	a.reembed.progress.Total = len(todo)
	a.reembed.mu.Unlock()
	a.log.Info("re-embedding the key queue for the new model", "entries", len(todo))
	last := time.Now()
	for i, e := range todo {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok := a.reembedEntry(ctx, e, m)
		a.reembed.mu.Lock()
		a.reembed.progress.Done = i + 1
		if !ok {
			a.reembed.progress.Failed++
		}
		a.reembed.mu.Unlock()
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			a.log.Info("re-embedding the key queue", "done", i+1, "total", len(todo))
		}
	}
	return nil
}

// reembedEntry re-embeds one entry; it reports whether it succeeded.
func (a *Agent) reembedEntry(ctx context.Context, e keyqueue.Entry, m infer.ModelInfo) bool {
	thumb, err := a.queue.Thumbnail(e.ID)
	if err != nil {
		return false // evicted meanwhile, or stored without a thumbnail
	}
	for {
		em, err := a.embedFrame(ctx, sourceFrame(e.Source, thumb, e.Time), false)
		if errors.Is(err, ErrBusy) {
			select {
			case <-time.After(5 * time.Millisecond):
				continue
			case <-ctx.Done():
				return false
			}
		}
		if err != nil || em.Model != m.SHA256 {
			return false
		}
		em.Thumbnail = thumb
		if _, err := a.append(em, e.Label); err != nil {
			a.log.Warn("re-embedded entry not stored", "id", e.ID, "err", err)
			return false
		}
		return true
	}
}
