package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/infer"
)

// Client talks to a running daemon's API; the CLI verbs use it.
type Client struct {
	// Base is the API's base URL, e.g. http://127.0.0.1:8080.
	Base string
	// HTTP is the client used (default: one with a 60 s timeout).
	HTTP *http.Client
}

// NewClient returns a Client for addr, a host:port or a URL.
func NewClient(addr string) *Client {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// Error is an error answer from the daemon.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message is the daemon's error text.
	Message string
}

// Error returns the daemon's message with the status.
func (e *Error) Error() string {
	return fmt.Sprintf("daemon answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Health returns the daemon's /healthz answer (also when it is 503).
func (c *Client) Health(ctx context.Context) (agent.Health, error) {
	var h agent.Health
	err := c.do(ctx, http.MethodGet, "/healthz", "", nil, &h)
	if e, ok := err.(*Error); ok && e.Status == http.StatusServiceUnavailable && h.Status != "" {
		return h, nil
	}
	return h, err
}

// QueryImage searches with an image (JPEG or PNG bytes).
func (c *Client) QueryImage(ctx context.Context, image []byte, k int, sources, labels []string) (agent.QueryResult, error) {
	q := url.Values{}
	if k > 0 {
		q.Set("k", strconv.Itoa(k))
	}
	q["source"], q["label"] = sources, labels
	var res agent.QueryResult
	err := c.do(ctx, http.MethodPost, "/v1/query?"+q.Encode(), "application/octet-stream", bytes.NewReader(image), &res)
	return res, err
}

// QueryID searches with a stored entry.
func (c *Client) QueryID(ctx context.Context, id uint64, k int, sources, labels []string) (agent.QueryResult, error) {
	body, _ := json.Marshal(queryBody{ID: id, K: k, Source: sources, Label: labels})
	var res agent.QueryResult
	err := c.do(ctx, http.MethodPost, "/v1/query", "application/json", bytes.NewReader(body), &res)
	return res, err
}

// Label labels an entry, or the latest frame of a source.
func (c *Client) Label(ctx context.Context, req LabelRequest) (LabelResult, error) {
	body, _ := json.Marshal(req)
	var res LabelResult
	err := c.do(ctx, http.MethodPost, "/v1/label", "application/json", bytes.NewReader(body), &res)
	return res, err
}

// Snapshot stores the current frame of a source.
func (c *Client) Snapshot(ctx context.Context, source string) (SnapshotResult, error) {
	body, _ := json.Marshal(SnapshotRequest{Source: source})
	var res SnapshotResult
	err := c.do(ctx, http.MethodPost, "/v1/snapshot", "application/json", bytes.NewReader(body), &res)
	return res, err
}

// Reload asks the daemon to load a model (empty: model.path again).
func (c *Client) Reload(ctx context.Context, path string) (infer.ModelInfo, error) {
	body, _ := json.Marshal(ReloadRequest{Path: path})
	var m infer.ModelInfo
	err := c.do(ctx, http.MethodPost, "/v1/reload", "application/json", bytes.NewReader(body), &m)
	return m, err
}

// Probe returns the serving probe's description.
func (c *Client) Probe(ctx context.Context) (agent.ProbeInfo, error) {
	var p agent.ProbeInfo
	err := c.do(ctx, http.MethodGet, "/v1/probe", "", nil, &p)
	return p, err
}

// Train trains the probe now.
func (c *Client) Train(ctx context.Context) (agent.ProbeInfo, error) {
	var p agent.ProbeInfo
	err := c.do(ctx, http.MethodPost, "/v1/probe/train", "", nil, &p)
	return p, err
}

// Predict asks the probe to name an image (JPEG or PNG bytes).
func (c *Client) Predict(ctx context.Context, image []byte) (agent.Prediction, error) {
	var p agent.Prediction
	err := c.do(ctx, http.MethodPost, "/v1/predict", "application/octet-stream", bytes.NewReader(image), &p)
	return p, err
}

// Thumbnail returns an entry's JPEG thumbnail.
func (c *Client) Thumbnail(ctx context.Context, id uint64) ([]byte, error) {
	var raw []byte
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/queue/%d/thumbnail", id), "", nil, &raw)
	return raw, err
}

// Do sends a request to path with an optional JSON body and decodes the
// JSON answer into out (for routes other components add).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	return c.do(ctx, method, path, ct, body, out)
}

// do sends one request and decodes the answer into out (raw bytes when
// out is *[]byte).
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return fmt.Errorf("edge API request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("edge daemon at %s (is `edge run` running? --addr sets where): %w", c.Base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", c.Base, err)
	}
	if raw, ok := out.(*[]byte); ok && resp.StatusCode == http.StatusOK {
		*raw = data
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		if out != nil {
			json.Unmarshal(data, out)
		}
		return &Error{Status: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer from %s%s: %w", c.Base, path, err)
	}
	return nil
}
