package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/edge/retrieval"
	"github.com/mocoedge/mocoedge/edge/source"
)

// QueryRequest asks for the queue entries most similar to an image or to a
// stored entry.
type QueryRequest struct {
	// Image is JPEG or PNG bytes to search with; or
	Image []byte `json:"-"`
	// ID is a key queue entry to search with (its own vector, re-embedded
	// from its thumbnail when it belongs to another model).
	ID uint64 `json:"id,omitempty"`
	// K is the number of results (retrieval.k when 0; at most
	// retrieval.max_k).
	K int `json:"k,omitempty"`
	// Filter restricts the results by source, label and time.
	Filter retrieval.Filter `json:"filter"`
}

// QueryResult is the answer to a QueryRequest.
type QueryResult struct {
	// Model is the SHA-256 of the model whose vectors were compared.
	Model string `json:"model"`
	// Results are the most similar entries, best first.
	Results []retrieval.Result `json:"results"`
}

// Query runs a top-k cosine search over the key queue's vectors of the
// serving model. An entry used as the query is itself excluded from the
// results. Errors wrap ErrBadRequest, ErrNotFound, ErrBadImage, ErrBusy or
// ErrNoModel.
func (a *Agent) Query(ctx context.Context, r QueryRequest) (QueryResult, error) {
	k := r.K
	if k == 0 {
		k = int(a.retrievalK.Load())
	}
	if k < 1 || k > a.cfg.Retrieval.MaxK {
		return QueryResult{}, fmt.Errorf("%w: k must be in [1, %d] (got %d)", ErrBadRequest, a.cfg.Retrieval.MaxK, k)
	}
	if (r.Image == nil) == (r.ID == 0) {
		return QueryResult{}, fmt.Errorf("%w: give either an image or a queue id", ErrBadRequest)
	}
	var vec []float32
	var model string
	var err error
	if r.Image != nil {
		vec, model, err = a.EmbedImage(ctx, r.Image)
	} else {
		vec, model, err = a.entryVector(ctx, r.ID)
		k++ // the entry finds itself first
	}
	if err != nil {
		return QueryResult{}, err
	}
	mid, err := keyqueue.ParseModelID(model)
	if err != nil {
		return QueryResult{}, fmt.Errorf("model id: %w", err)
	}
	res, err := a.search.Search(ctx, mid, vec, k, r.Filter)
	if err != nil {
		if errors.Is(err, retrieval.ErrInvalidQuery) {
			return QueryResult{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		return QueryResult{}, fmt.Errorf("search: %w", err)
	}
	if r.ID != 0 {
		out := res[:0]
		for _, x := range res {
			if x.ID != r.ID {
				out = append(out, x)
			}
		}
		res = out[:min(len(out), k-1)]
	}
	if res == nil {
		res = []retrieval.Result{}
	}
	return QueryResult{Model: model, Results: res}, nil
}

// entryVector returns entry id's vector for the serving model: the stored
// one when the serving model computed it, else its thumbnail re-embedded.
func (a *Agent) entryVector(ctx context.Context, id uint64) ([]float32, string, error) {
	e, err := a.queue.Get(id)
	if err != nil {
		return nil, "", a.queueErr(id, err)
	}
	m, ok := a.engine.Model()
	if !ok {
		return nil, "", ErrNoModel
	}
	if e.Model.String() == m.SHA256 {
		return e.Vector, m.SHA256, nil
	}
	thumb, err := a.queue.Thumbnail(id)
	if err != nil {
		return nil, "", fmt.Errorf("%w: entry %d is from another model and %w", ErrNotFound, id, a.queueErr(id, err))
	}
	return a.EmbedImage(ctx, thumb)
}

// queueErr maps key queue errors to the agent's.
func (a *Agent) queueErr(id uint64, err error) error {
	switch {
	case errors.Is(err, keyqueue.ErrNotFound):
		return fmt.Errorf("%w: queue entry %d (evicted or never stored)", ErrNotFound, id)
	case errors.Is(err, keyqueue.ErrNoThumbnail):
		return fmt.Errorf("%w: queue entry %d has no thumbnail", ErrNotFound, id)
	}
	return fmt.Errorf("queue entry %d: %w", id, err)
}

// Entry describes a key queue entry without its vector.
type Entry struct {
	ID        uint64    `json:"id"`
	Time      time.Time `json:"time"`
	Source    string    `json:"source"`
	Model     string    `json:"model"`
	Label     string    `json:"label,omitempty"`
	Dim       int       `json:"dim"`
	Thumbnail int       `json:"thumbnail_bytes"`
}

// Entry returns queue entry id's description.
func (a *Agent) Entry(id uint64) (Entry, error) {
	e, err := a.queue.Get(id)
	if err != nil {
		return Entry{}, a.queueErr(id, err)
	}
	return Entry{ID: e.ID, Time: e.Time, Source: e.Source, Model: e.Model.String(), Label: e.Label,
		Dim: len(e.Vector), Thumbnail: e.ThumbnailSize}, nil
}

// Thumbnail returns queue entry id's JPEG thumbnail.
func (a *Agent) Thumbnail(id uint64) ([]byte, error) {
	b, err := a.queue.Thumbnail(id)
	if err != nil {
		return nil, a.queueErr(id, err)
	}
	return b, nil
}

// Label sets (or, with an empty label, clears) the label of queue entry id.
func (a *Agent) Label(id uint64, label string) error {
	if len(label) > 255 {
		return fmt.Errorf("%w: label of %d bytes (at most 255)", ErrBadRequest, len(label))
	}
	if err := a.queue.SetLabel(id, label); err != nil {
		return a.queueErr(id, err)
	}
	return nil
}

// LabelLatest labels the most recent embedded frame of source, storing it
// in the key queue first if it is not there yet, and returns its id.
func (a *Agent) LabelLatest(source, label string) (uint64, error) {
	if label == "" || len(label) > 255 {
		return 0, fmt.Errorf("%w: a label needs 1 to 255 bytes", ErrBadRequest)
	}
	e, ok := a.latest.get(source)
	if !ok {
		return 0, fmt.Errorf("%w: source %q has embedded no frame yet", ErrNotFound, source)
	}
	if e.ID != 0 {
		err := a.queue.SetLabel(e.ID, label)
		if err == nil {
			return e.ID, nil
		}
		if !errors.Is(err, keyqueue.ErrNotFound) {
			return 0, a.queueErr(e.ID, err)
		}
	}
	id, err := a.append(e, label)
	if err != nil {
		return 0, fmt.Errorf("store the latest frame of %s: %w", source, err)
	}
	e.ID = id
	a.latest.update(e)
	return id, nil
}

// Snapshot embeds the current frame of source and stores it in the key
// queue (whatever queue.every_frame says), returning the stored frame.
func (a *Agent) Snapshot(ctx context.Context, source string) (Embedded, error) {
	f, ok := a.hub.Latest(source)
	if !ok {
		return Embedded{}, fmt.Errorf("%w: source %q has no frame yet (or does not exist)", ErrNotFound, source)
	}
	e, err := a.embedFrame(ctx, f, true)
	if err != nil {
		return Embedded{}, err
	}
	if e.ID, err = a.append(e, ""); err != nil {
		return Embedded{}, fmt.Errorf("store snapshot of %s: %w", source, err)
	}
	a.latest.set(e)
	return e, nil
}

// Store embeds an image that arrived outside the sources (a board's
// camera frame on a trigger, say) as a frame of source and stores it in
// the key queue.
func (a *Agent) Store(ctx context.Context, source string, image []byte, t time.Time) (Embedded, error) {
	f := sourceFrame(source, image, t)
	e, err := a.embedFrame(ctx, f, true)
	if err != nil {
		return Embedded{}, err
	}
	if e.ID, err = a.append(e, ""); err != nil {
		return Embedded{}, fmt.Errorf("store frame of %s: %w", source, err)
	}
	a.predict(&e)
	a.latest.set(e)
	for _, o := range a.observers {
		o.Embedded(ctx, e)
	}
	return e, nil
}

// sourceFrame wraps image bytes as a frame of source.
func sourceFrame(name string, image []byte, t time.Time) source.Frame {
	return source.Frame{Source: name, Time: t, Image: image}
}

// ApplyLabel labels entry id, or, when id is 0, the latest frame of
// source; it returns the labelled entry's id. Label observers are told.
func (a *Agent) ApplyLabel(id uint64, source, label string) (uint64, error) {
	var err error
	switch {
	case id != 0 && source != "":
		return 0, fmt.Errorf("%w: give an entry id or a source, not both", ErrBadRequest)
	case id != 0:
		err = a.Label(id, label)
	case source != "":
		id, err = a.LabelLatest(source, label)
	default:
		return 0, fmt.Errorf("%w: give an entry id or a source to label", ErrBadRequest)
	}
	if err != nil {
		return 0, err
	}
	if label != "" {
		a.labelApplied()
	}
	if a.onLabel != nil {
		a.onLabel(id, label)
	}
	return id, nil
}
