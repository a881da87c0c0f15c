package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/edge/api"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/internal/testmodel"
)

// serve starts an agent on 16 CIFAR-10 images and the API in front of it.
func serve(t *testing.T) (*agenttest.Running, *httptest.Server, [][]byte) {
	t.Helper()
	images := testmodel.CIFARJPEGs(t, 16)
	dir := t.TempDir()
	agenttest.WriteImages(t, dir, images)
	cfg := agenttest.Config(t, agenttest.ExportCIFAR(t), config.Source{Name: "cam", Kind: "files", Path: dir})
	cfg.HTTP.MaxUploadBytes = 64 << 10
	r := agenttest.Start(t, cfg, agent.Options{Version: "test"})
	agenttest.WaitFor(t, "16 entries", 60*time.Second, func() bool { return r.Queue().Len() == 16 })
	reg := prometheus.NewRegistry()
	reg.MustRegister(agent.NewCollector(r.Agent))
	log, _ := agenttest.Logger(t)
	srv := httptest.NewServer(api.NewServer(r.Agent, reg, log))
	t.Cleanup(srv.Close)
	return r, srv, images
}

// call sends one request and returns the status and body.
func call(t *testing.T, method, url, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAPI checks every endpoint with good and bad requests; after each bad
// one the daemon still answers.
func TestAPI(t *testing.T) {
	_, srv, images := serve(t)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("image", "x.jpg")
	fw.Write(images[2])
	mw.Close()

	for _, c := range []struct {
		name, method, path, ctype string
		body                      []byte
		code                      int
		want                      string
	}{
		{"health", "GET", "/healthz", "", nil, 200, `"provider": "cpu"`},
		{"metrics", "GET", "/metrics", "", nil, 200, "mocoedge_queue_entries 16"},
		{"metrics model", "GET", "/metrics", "", nil, 200, "mocoedge_model_up 1"},
		{"query image", "POST", "/v1/query?k=3", "image/jpeg", images[1], 200, `"score": 1`},
		{"query multipart", "POST", "/v1/query", mw.FormDataContentType(), form.Bytes(), 200, `"results"`},
		{"query id", "POST", "/v1/query", "application/json", []byte(`{"id": 3, "k": 2}`), 200, `"results"`},
		{"query id with source filter", "POST", "/v1/query", "application/json", []byte(`{"id": 3, "source": ["cam"]}`), 200, `"source": "cam"`},
		{"query not an image", "POST", "/v1/query", "application/octet-stream", []byte("just some text, certainly not a JPEG"), 400, "bad image"},
		{"query truncated", "POST", "/v1/query", "image/jpeg", images[0][:200], 400, "bad image"},
		{"query huge header", "POST", "/v1/query", "image/jpeg", testmodel.HugeJPEG(t, 20000, 20000), 400, "20000x20000"},
		{"query empty", "POST", "/v1/query", "image/jpeg", nil, 400, "empty body"},
		{"query too large", "POST", "/v1/query", "image/jpeg", make([]byte, 100<<10), 413, "max_upload_bytes"},
		{"query bad json", "POST", "/v1/query", "application/json", []byte(`{"id": "three"}`), 400, "JSON body"},
		{"query unknown field", "POST", "/v1/query", "application/json", []byte(`{"idd": 3}`), 400, "unknown field"},
		{"query unknown id", "POST", "/v1/query", "application/json", []byte(`{"id": 999}`), 404, "evicted or never stored"},
		{"query bad k", "POST", "/v1/query?k=x", "image/jpeg", images[1], 400, "not a number"},
		{"query bad time", "POST", "/v1/query", "application/json", []byte(`{"id": 3, "from": "yesterday"}`), 400, "RFC 3339"},
		{"entry", "GET", "/v1/queue/4", "", nil, 200, `"source": "cam"`},
		{"thumbnail bad id", "GET", "/v1/queue/abc/thumbnail", "", nil, 400, "not a positive integer"},
		{"thumbnail unknown", "GET", "/v1/queue/999/thumbnail", "", nil, 404, "999"},
		{"label", "POST", "/v1/label", "application/json", []byte(`{"id": 2, "label": "cat"}`), 200, `"cat"`},
		{"label latest", "POST", "/v1/label", "application/json", []byte(`{"source": "cam", "label": "dog"}`), 200, `"dog"`},
		{"label nothing", "POST", "/v1/label", "application/json", []byte(`{"label": "dog"}`), 400, "entry id or a source"},
		{"label unknown source", "POST", "/v1/label", "application/json", []byte(`{"source": "nope", "label": "dog"}`), 404, "nope"},
		{"snapshot", "POST", "/v1/snapshot", "application/json", []byte(`{"source": "cam"}`), 200, `"id": 17`},
		{"snapshot unknown", "POST", "/v1/snapshot", "application/json", []byte(`{"source": "nope"}`), 404, "nope"},
		{"reload traversal", "POST", "/v1/reload", "application/json", []byte(`{"path": "../../etc/passwd"}`), 400, "outside the model folder"},
		{"reload missing", "POST", "/v1/reload", "application/json", []byte(`{"path": "missing.onnx"}`), 422, "model refused"},
		{"reload same", "POST", "/v1/reload", "", nil, 200, `"provider": "cpu"`},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, c.method, srv.URL+c.path, c.ctype, c.body)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Errorf("%s %s: %d %s\nwant %d with %q", c.method, c.path, code, body, c.code, c.want)
			}
			if code != 200 && code != 404 && !strings.Contains(body, `"error"`) {
				t.Errorf("error answer is not JSON {\"error\"}: %s", body)
			}
			if code, _ := call(t, "GET", srv.URL+"/healthz", "", nil); code != 200 {
				t.Errorf("daemon unhealthy after %s: %d", c.name, code)
			}
		})
	}

	// The thumbnail is a JPEG.
	code, body := call(t, "GET", srv.URL+"/v1/queue/1/thumbnail", "", nil)
	if _, err := jpeg.DecodeConfig(strings.NewReader(body)); code != 200 || err != nil {
		t.Errorf("thumbnail: %d, %v", code, err)
	}
}

// TestClient drives the API through the client the CLI uses.
func TestClient(t *testing.T) {
	_, srv, images := serve(t)
	c := api.NewClient(srv.URL)
	ctx := context.Background()
	h, err := c.Health(ctx)
	if err != nil || h.Status != "ok" || h.Queue.Entries != 16 {
		t.Fatalf("health: %+v, %v", h, err)
	}
	res, err := c.QueryImage(ctx, images[5], 4, []string{"cam"}, nil)
	if err != nil || len(res.Results) != 4 || res.Results[0].Score < 0.9999 {
		t.Fatalf("query image: %+v, %v", res, err)
	}
	top := res.Results[0].ID
	if _, err := c.Label(ctx, api.LabelRequest{ID: top, Label: "five"}); err != nil {
		t.Fatal(err)
	}
	// Query by another entry: an entry used as the query is left out of
	// its own results, and with concurrent runners the image of entry 1
	// depends on which batch finished first.
	other := uint64(1)
	if top == other {
		other = 2
	}
	res, err = c.QueryID(ctx, other, 16, nil, []string{"five"})
	if err != nil || len(res.Results) != 1 || res.Results[0].ID != top {
		t.Fatalf("query by id with a label filter: %+v, %v", res, err)
	}
	th, err := c.Thumbnail(ctx, top)
	if err != nil || len(th) < 100 {
		t.Fatalf("thumbnail: %d bytes, %v", len(th), err)
	}
	_, err = c.Reload(ctx, "../x.onnx")
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 400 {
		t.Fatalf("reload outside the folder: %v", err)
	}
	if _, err := api.NewClient("127.0.0.1:1").Health(ctx); err == nil || !strings.Contains(err.Error(), "is `edge run` running?") {
		t.Errorf("no daemon: %v", err)
	}
	// The probe: too few labels is a 409 naming the problem; then two
	// classes of two entries each train version 1, which names images.
	if _, err := c.Train(ctx); !errors.As(err, &apiErr) || apiErr.Status != 409 || !strings.Contains(apiErr.Message, "too few labels") {
		t.Fatalf("train with one label: %v", err)
	}
	if _, err := c.Predict(ctx, images[0]); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("predict without a probe: %v", err)
	}
	if _, err := c.Label(ctx, api.LabelRequest{ID: top, Label: ""}); err != nil { // clear "five"
		t.Fatal(err)
	}
	for id, label := range map[uint64]string{2: "a", 3: "a", 4: "b", 6: "b"} {
		if _, err := c.Label(ctx, api.LabelRequest{ID: id, Label: label}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.Train(ctx)
	if err != nil || p.Version != 1 || len(p.Classes) != 2 || !p.Serving {
		t.Fatalf("train: %+v, %v", p, err)
	}
	if got, err := c.Probe(ctx); err != nil || got.Version != 1 {
		t.Fatalf("probe: %+v, %v", got, err)
	}
	pred, err := c.Predict(ctx, images[0])
	if err != nil || pred.ProbeVersion != 1 || pred.Label == "" || len(pred.Top) == 0 {
		t.Fatalf("predict: %+v, %v", pred, err)
	}
	var e map[string]any
	if err := c.Do(ctx, "GET", "/v1/queue/1", nil, &e); err != nil || e["id"] != json.Number("1") && e["id"] != float64(1) {
		t.Errorf("Do: %v %v", e, err)
	}
}
