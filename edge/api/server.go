// Package api is the edge daemon's local HTTP API and its client: health,
// Prometheus metrics, retrieval queries, queue thumbnails, labels,
// snapshots and model reloads. The `edge` CLI verbs that talk to a running
// daemon (query, label, snapshot, reload) are thin clients of it.
//
// Every error answer is JSON, {"error": "..."}, with a status that says
// whose fault it is: 400 for a malformed request or an image that cannot be
// decoded, 404 for an unknown entry or source, 413 for an upload over
// http.max_upload_bytes, 409 when the probe lacks labels to train, 422 for
// a refused model, 503 when no model serves
// or the pipeline is full (with Retry-After).
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/probe"
	"github.com/mocoedge/mocoedge/edge/retrieval"
)

// Server answers the HTTP API for one agent.
type Server struct {
	a        *agent.Agent
	log      *slog.Logger
	mux      *http.ServeMux
	maxBytes int64
	extra    []Route
}

// Route is an extra endpoint another component (the probe) adds to the
// API.
type Route struct {
	// Pattern is an http.ServeMux pattern such as "POST /v1/probe/train".
	Pattern string
	// Handler answers it.
	Handler http.Handler
}

// NewServer returns the API for a, with its metrics registered in reg
// (plus Go's runtime collectors) and the extra routes added.
func NewServer(a *agent.Agent, reg *prometheus.Registry, log *slog.Logger, routes ...Route) *Server {
	s := &Server{a: a, log: log, mux: http.NewServeMux(), maxBytes: a.Config().HTTP.MaxUploadBytes}
	if s.maxBytes <= 0 {
		s.maxBytes = 20 << 20
	}
	s.mux.HandleFunc("GET /healthz", s.health)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	s.mux.HandleFunc("POST /v1/query", s.query)
	s.mux.HandleFunc("GET /v1/queue/{id}", s.entry)
	s.mux.HandleFunc("GET /v1/queue/{id}/thumbnail", s.thumbnail)
	s.mux.HandleFunc("POST /v1/label", s.label)
	s.mux.HandleFunc("POST /v1/snapshot", s.snapshot)
	s.mux.HandleFunc("POST /v1/reload", s.reload)
	s.mux.HandleFunc("GET /v1/probe", s.probeInfo)
	s.mux.HandleFunc("POST /v1/probe/train", s.train)
	s.mux.HandleFunc("POST /v1/predict", s.predict)
	for _, r := range routes {
		s.mux.Handle(r.Pattern, r.Handler)
	}
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ListenAndServe serves the API on addr until ctx ends, then shuts down
// gracefully (requests in flight get five seconds).
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves the API on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.log.Info("HTTP API listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("HTTP API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("HTTP API shutdown: %w", err)
	}
	return nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	h := s.a.Health()
	code := http.StatusOK
	if h.Model == nil {
		code = http.StatusServiceUnavailable
	}
	WriteJSON(w, code, h)
}

// queryBody is the JSON form of POST /v1/query.
type queryBody struct {
	ID     uint64   `json:"id"`
	Image  string   `json:"image"` // base64 JPEG or PNG
	K      int      `json:"k"`
	Source []string `json:"source"`
	Label  []string `json:"label"`
	From   string   `json:"from"`
	To     string   `json:"to"`
}

// query answers POST /v1/query: the body is an image (image/jpeg,
// image/png, application/octet-stream), a multipart form with an "image"
// file, or JSON {"id"|"image", "k", "source", "label", "from", "to"}. The
// URL's k, source, label, from and to apply to image bodies.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxBytes)
	var b queryBody
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
		if err := decodeJSON(r.Body, &b); err != nil {
			s.fail(w, err)
			return
		}
	case ct == "multipart/form-data":
		f, _, err := r.FormFile("image")
		if err != nil {
			s.fail(w, bodyErr(err, "multipart form needs an \"image\" file"))
			return
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			s.fail(w, bodyErr(err, "read image"))
			return
		}
		b.Image = base64.StdEncoding.EncodeToString(data)
	default:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			s.fail(w, bodyErr(err, "read image"))
			return
		}
		if len(data) == 0 {
			s.fail(w, fmt.Errorf("%w: empty body: send an image, a multipart form or JSON with an id", agent.ErrBadRequest))
			return
		}
		b.Image = base64.StdEncoding.EncodeToString(data)
	}
	if ct != "application/json" {
		q := r.URL.Query()
		if v := q.Get("k"); v != "" {
			k, err := strconv.Atoi(v)
			if err != nil {
				s.fail(w, fmt.Errorf("%w: k=%q is not a number", agent.ErrBadRequest, v))
				return
			}
			b.K = k
		}
		b.Source, b.Label, b.From, b.To = q["source"], q["label"], q.Get("from"), q.Get("to")
	}
	req, err := b.request()
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := s.a.Query(r.Context(), req)
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// request checks the body and turns it into an agent.QueryRequest.
func (b queryBody) request() (agent.QueryRequest, error) {
	req := agent.QueryRequest{ID: b.ID, K: b.K, Filter: retrieval.Filter{Sources: b.Source, Labels: b.Label}}
	if b.Image != "" {
		data, err := base64.StdEncoding.DecodeString(b.Image)
		if err != nil {
			return req, fmt.Errorf("%w: image is not base64: %v", agent.ErrBadRequest, err)
		}
		req.Image = data
	}
	for _, t := range []struct {
		name string
		v    string
		dst  *time.Time
	}{{"from", b.From, &req.Filter.From}, {"to", b.To, &req.Filter.To}} {
		if t.v == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339Nano, t.v)
		if err != nil {
			return req, fmt.Errorf("%w: %s=%q is not an RFC 3339 time", agent.ErrBadRequest, t.name, t.v)
		}
		*t.dst = tm
	}
	return req, nil
}

func (s *Server) entry(w http.ResponseWriter, r *http.Request) {
	id, err := entryID(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	e, err := s.a.Entry(id)
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, e)
}

func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	id, err := entryID(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	b, err := s.a.Thumbnail(id)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "max-age=86400, immutable")
	w.Write(b)
}

// LabelRequest is the body of POST /v1/label: an entry id, or a source
// whose latest frame is labelled.
type LabelRequest struct {
	ID     uint64 `json:"id,omitempty"`
	Source string `json:"source,omitempty"`
	Label  string `json:"label"`
}

// LabelResult is the answer to a label request.
type LabelResult struct {
	ID    uint64 `json:"id"`
	Label string `json:"label"`
}

func (s *Server) label(w http.ResponseWriter, r *http.Request) {
	var req LabelRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, 1<<16), &req); err != nil {
		s.fail(w, err)
		return
	}
	id, err := s.a.ApplyLabel(req.ID, req.Source, req.Label)
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, LabelResult{ID: id, Label: req.Label})
}

// SnapshotRequest is the body of POST /v1/snapshot.
type SnapshotRequest struct {
	Source string `json:"source"`
}

// SnapshotResult is the answer to a snapshot: the stored entry.
type SnapshotResult struct {
	ID     uint64    `json:"id"`
	Source string    `json:"source"`
	Time   time.Time `json:"time"`
	Model  string    `json:"model"`
}

func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) {
	var req SnapshotRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, 1<<16), &req); err != nil {
		s.fail(w, err)
		return
	}
	e, err := s.a.Snapshot(r.Context(), req.Source)
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, SnapshotResult{ID: e.ID, Source: e.Source, Time: e.Time, Model: e.Model})
}

// ReloadRequest is the body of POST /v1/reload; an empty path reloads
// model.path.
type ReloadRequest struct {
	Path string `json:"path,omitempty"`
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	var req ReloadRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(http.MaxBytesReader(w, r.Body, 1<<16), &req); err != nil {
			s.fail(w, err)
			return
		}
	}
	m, err := s.a.Reload(r.Context(), req.Path)
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, m)
}

func (s *Server) probeInfo(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, s.a.ProbeInfo())
}

// train trains the probe now and answers with the new probe; too few
// labels is a 409 Conflict naming the classes that lack them.
func (s *Server) train(w http.ResponseWriter, r *http.Request) {
	p, err := s.a.TrainProbe(r.Context())
	if errors.Is(err, probe.ErrTooFewLabels) {
		WriteJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, p)
}

// predict answers POST /v1/predict: the body is an image; the answer is
// the probe's prediction for it.
func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBytes))
	if err != nil {
		s.fail(w, bodyErr(err, "read image"))
		return
	}
	p, err := s.a.Predict(r.Context(), data)
	if err != nil {
		s.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, p)
}

// entryID reads the {id} path segment.
func entryID(r *http.Request) (uint64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%w: entry id %q is not a positive integer", agent.ErrBadRequest, v)
	}
	return id, nil
}

// decodeJSON reads one JSON object, refusing unknown fields and trailing
// data.
func decodeJSON(r io.Reader, v any) error {
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return bodyErr(err, "JSON body")
	}
	if d.More() {
		return fmt.Errorf("%w: JSON body: data after the object", agent.ErrBadRequest)
	}
	return nil
}

// errTooLarge marks a body over the upload limit.
var errTooLarge = errors.New("request body too large")

// bodyErr classifies an error met while reading a body.
func bodyErr(err error, what string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: %s: over the limit of %d bytes (http.max_upload_bytes)", errTooLarge, what, mbe.Limit)
	}
	return fmt.Errorf("%w: %s: %v", agent.ErrBadRequest, what, err)
}

// fail writes err as a JSON error with the status its kind calls for.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, errTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, agent.ErrBadRequest), errors.Is(err, agent.ErrBadImage):
		code = http.StatusBadRequest
	case errors.Is(err, agent.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, infer.ErrModelRefused):
		code = http.StatusUnprocessableEntity
	case errors.Is(err, agent.ErrBusy), errors.Is(err, agent.ErrNoModel):
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	if code == http.StatusInternalServerError {
		s.log.Error("HTTP API request failed", "err", err)
	}
	WriteJSON(w, code, map[string]string{"error": strings.TrimSpace(err.Error())})
}

// WriteJSON writes v as an indented JSON answer with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
