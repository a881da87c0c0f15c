package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mocoedge/mocoedge/internal/freeport"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/api"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/internal/progress"
	"golang.org/x/sync/errgroup"
)

// deviceID is the demo device's MQTT id.
const deviceID = "demo"

// daemon is the running `edge run` process and its two doors.
type daemon struct {
	cmd  *exec.Cmd
	done chan error
	log  string // its log file
	http *api.Client
	dash *dashboard
}

// edge runs the daemon stage: start, index the camera, label, train,
// measure against the random-init baseline, query, stop.
func (d *demo) edge(ctx context.Context, set *imageSet, sum *summary) error {
	sb, err := startBoard(ctx)
	if err != nil {
		return err
	}
	defer sb.stop()
	dm, err := d.startDaemon(ctx, sb.port())
	if err != nil {
		return err
	}
	defer dm.stop()

	if err := d.indexCamera(ctx, dm, set); err != nil {
		return err
	}
	if err := d.label(ctx, dm, set, sum); err != nil {
		return err
	}
	if sum.boardLabels, err = d.boardSession(ctx, dm, sb, set); err != nil {
		return err
	}
	if sum.pretrained, err = d.trainAndMeasure(ctx, dm, set, "pretrained"); err != nil {
		return err
	}
	sum.leds = d.boardLEDsAfter(ctx, sb, set)
	if err := d.door(ctx, dm, set); err != nil {
		return err
	}
	if err := d.queries(ctx, dm, set, sum); err != nil {
		return err
	}
	// The baseline: the same labels (carried over by the re-embedding that
	// follows a reload) on the features of an untrained encoder.
	if err := d.reload(ctx, dm, "random.onnx"); err != nil {
		return err
	}
	if sum.random, err = d.trainAndMeasure(ctx, dm, set, "random-init"); err != nil {
		return err
	}
	if err := waitFor(ctx, "telemetry", 30*time.Second, func() bool { return len(dm.dash.eventsOf("telemetry")) > 0 }); err != nil {
		return err
	}
	h, err := dm.http.Health(ctx)
	if err != nil {
		return err
	}
	for _, p := range h.Pipeline {
		sum.frames += int(p.Embedded)
	}
	sum.provider = string(h.Provider)
	if err := dm.stop(); err != nil {
		return err
	}
	sum.messages = dm.dash.seen()
	return nil
}

// startDaemon writes the daemon's configuration, starts `edge run` and
// waits until its API answers and the dashboard is connected.
func (d *demo) startDaemon(ctx context.Context, boardPort string) (*daemon, error) {
	httpAddr, err := freeport.Addr()
	if err != nil {
		return nil, err
	}
	mqttAddr, err := freeport.Addr()
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.DeviceID = deviceID
	cfg.DataDir = filepath.Join(d.o.out, "edge")
	cfg.Model.Path = filepath.Join(d.models, "encoder.onnx")
	cfg.HTTP.Addr = httpAddr
	cfg.MQTT.EmbeddedAddr = mqttAddr
	cfg.MQTT.TelemetryInterval = config.Duration(2 * time.Second)
	cfg.Queue.Capacity = 10_000
	cfg.Probe.AutoTrain = 0
	door := filepath.Join(d.o.out, "door")
	if err := os.MkdirAll(door, 0o755); err != nil {
		return nil, err
	}
	cfg.Sources = []config.Source{
		{Name: "camera", Kind: config.KindFiles, Path: filepath.Join(d.o.out, "camera")},
		{Name: "door", Kind: config.KindWatch, Path: door},
		{Name: "board", Kind: config.KindBridge},
	}
	cfg.Bridge.Enabled, cfg.Bridge.Port = true, boardPort
	cfg.Bridge.Buttons, cfg.Bridge.LEDs = boardButtons, boardLEDs
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	cfgPath := filepath.Join(d.o.out, "edge.yaml")
	var buf bytes.Buffer
	if err := cfg.WriteYAML(&buf); err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfgPath, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}

	logPath := filepath.Join(d.o.out, "edge.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// The daemon runs until stop; ctx's end stops it through stop, not by
	// killing it, so that it drains and says "stopped" on MQTT.
	cmd := exec.Command(filepath.Join(d.o.bin, "edge"), "run", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start edge (is it built? run `make build`): %w", err)
	}
	dm := &daemon{cmd: cmd, done: make(chan error, 1), log: logPath, http: api.NewClient(httpAddr)}
	go func() { dm.done <- cmd.Wait(); logFile.Close() }()
	fmt.Fprintf(d.stdout, "edge daemon: pid %d, HTTP %s, MQTT tcp://%s, log %s\n", cmd.Process.Pid, httpAddr, mqttAddr, logPath)

	err = waitFor(ctx, "the daemon's API", time.Minute, func() bool {
		select {
		case <-dm.done:
			return true
		default:
		}
		h, err := dm.http.Health(ctx)
		return err == nil && h.Status == "ok"
	})
	if err == nil && cmd.ProcessState != nil {
		err = errors.New("edge run exited at start")
	}
	if err != nil {
		dm.stop()
		return nil, fmt.Errorf("%w; see %s", err, logPath)
	}
	if dm.dash, err = connectDashboard(ctx, "tcp://"+mqttAddr, "mocoedge/"+deviceID+"/"); err != nil {
		dm.stop()
		return nil, err
	}
	return dm, nil
}

// stop sends SIGTERM and waits for the daemon to drain and exit; it is safe
// to call twice.
func (dm *daemon) stop() error {
	if dm.cmd == nil {
		return nil
	}
	defer func() { dm.cmd = nil }()
	if dm.dash != nil {
		defer dm.dash.close()
	}
	dm.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-dm.done:
		if err != nil {
			return fmt.Errorf("edge run did not stop cleanly: %w; see %s", err, dm.log)
		}
		return nil
	case <-time.After(30 * time.Second):
		dm.cmd.Process.Kill()
		return fmt.Errorf("edge run did not stop within 30 s of SIGTERM; see %s", dm.log)
	}
}

// indexCamera waits until the daemon has embedded every camera image.
func (d *demo) indexCamera(ctx context.Context, dm *daemon, set *imageSet) error {
	bar := progress.New(os.Stdout, d.log, "embedding the camera", "frames", len(set.camera), 5*time.Second)
	var n int
	err := waitFor(ctx, "the camera's frames in the key queue", 5*time.Minute, func() bool {
		h, err := dm.http.Health(ctx)
		if err != nil {
			return false
		}
		n = int(h.Pipeline["camera"].Embedded)
		bar.Update(n, "")
		return n >= len(set.camera)
	})
	bar.Done(n, "")
	return err
}

// label labels perClass camera images of each class over MQTT: each image
// is found in the queue by querying the daemon with it (its own entry comes
// back first, cosine 1), then labelled with cmd/label.
func (d *demo) label(ctx context.Context, dm *daemon, set *imageSet, sum *summary) error {
	per := map[string]int{}
	var todo []image
	for _, img := range set.camera {
		if per[img.class] < d.o.perClass {
			per[img.class]++
			todo = append(todo, img)
		}
	}
	bar := progress.New(os.Stdout, d.log, "labelling over MQTT", "labels", len(todo), 5*time.Second)
	for i, img := range todo {
		res, err := dm.http.QueryImage(ctx, img.data, 1, []string{"camera"}, nil)
		if err != nil {
			return fmt.Errorf("find %s in the queue: %w", img.name, err)
		}
		if len(res.Results) != 1 || res.Results[0].Score < 0.999 {
			return fmt.Errorf("find %s in the queue: got %+v", img.name, res.Results)
		}
		if _, err := dm.dash.must(ctx, "label", map[string]any{"id": res.Results[0].ID, "label": img.class}); err != nil {
			return err
		}
		bar.Update(i+1, img.class)
	}
	bar.Done(len(todo), "")
	sum.labels = len(todo)
	return nil
}

// probeScore is a probe's result on the held-out images.
type probeScore struct {
	encoder  string
	version  int
	heldOut  float64 // the probe's own held-out estimate on the labels
	accuracy float64 // on the held-out test images
	// confusion[i][j] counts images of class i predicted as class j
	// (the last column: "unknown").
	confusion [][]int
	classes   []string
}

// trainAndMeasure trains the probe over MQTT and scores it on the held-out
// images through POST /v1/predict.
func (d *demo) trainAndMeasure(ctx context.Context, dm *daemon, set *imageSet, encoder string) (probeScore, error) {
	r, err := dm.dash.must(ctx, "train", nil)
	if err != nil {
		return probeScore{}, err
	}
	s := probeScore{encoder: encoder, classes: set.classes}
	if v, ok := r["version"].(float64); ok {
		s.version = int(v)
	}
	s.heldOut, _ = r["accuracy"].(float64)
	index := map[string]int{}
	for i, c := range set.classes {
		index[c] = i
	}
	s.confusion = make([][]int, len(set.classes))
	for i := range s.confusion {
		s.confusion[i] = make([]int, len(set.classes)+1)
	}
	bar := progress.New(os.Stdout, d.log, "scoring the "+encoder+" probe", "images", len(set.eval), 5*time.Second)
	// Eight requests at a time, so the daemon's batcher forms batches.
	preds := make([]agent.Prediction, len(set.eval))
	var next, done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range 8 {
		g.Go(func() error {
			for i := int(next.Add(1) - 1); i < len(set.eval); i = int(next.Add(1) - 1) {
				p, err := dm.http.Predict(gctx, set.eval[i].data)
				if err != nil {
					return fmt.Errorf("predict %s: %w", set.eval[i].name, err)
				}
				preds[i] = p
				bar.Update(int(done.Add(1)), "")
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return s, err
	}
	right := 0
	for i, img := range set.eval {
		p := preds[i]
		j, ok := index[p.Label]
		if !ok {
			j = len(set.classes) // unknown
		}
		// Accuracy counts the best class even when its score is below the
		// unknown threshold: the probe's top-1.
		if len(p.Top) > 0 && p.Top[0].Label == img.class {
			right++
		}
		s.confusion[index[img.class]][j]++
	}
	bar.Done(len(set.eval), "")
	s.accuracy = float64(right) / float64(len(set.eval))
	fmt.Fprintf(d.stdout, "probe v%d on the %s encoder: %.1f%% top-1 on %d held-out test images (its own held-out estimate %.1f%%)\n",
		s.version, encoder, 100*s.accuracy, len(set.eval), 100*s.heldOut)
	return s, nil
}

// door drops a few held-out images into the watched folder: the daemon
// picks them up as a live camera and publishes a prediction for each.
func (d *demo) door(ctx context.Context, dm *daemon, set *imageSet) error {
	dir := filepath.Join(d.o.out, "door")
	for i := 0; i < 5 && i < len(set.eval); i++ {
		img := set.eval[i*len(set.eval)/5]
		tmp := filepath.Join(dir, "."+img.name+".part")
		if err := os.WriteFile(tmp, img.data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, img.name)); err != nil {
			return err
		}
	}
	return waitFor(ctx, "prediction events for the door camera", time.Minute, func() bool {
		return len(dm.dash.eventsOf("events/prediction")) > 0
	})
}

// retrievalAnswer is one query and the neighbours it got over MQTT.
type retrievalAnswer struct {
	query   image
	results []retrievalResult
}

// retrievalResult is one neighbour, with its thumbnail from the HTTP API.
type retrievalResult struct {
	ID        uint64  `json:"id"`
	Score     float64 `json:"score"`
	Source    string  `json:"source"`
	Label     string  `json:"label"`
	thumbnail []byte
	class     string // the camera image's true class, known to the demo
}

// queries asks for the top 5 of a few held-out images over MQTT and
// collects the events/retrieval answers.
func (d *demo) queries(ctx context.Context, dm *daemon, set *imageSet, sum *summary) error {
	classOf := map[string]string{}
	for _, img := range set.camera {
		classOf[string(img.data)] = img.class
	}
	for q := 0; q < d.o.queries; q++ {
		img := set.eval[(q*len(set.eval)/d.o.queries+q*7)%len(set.eval)]
		r, err := dm.dash.must(ctx, "query", map[string]any{"image": base64.StdEncoding.EncodeToString(img.data), "k": 5, "source": "camera"})
		if err != nil {
			return err
		}
		req := fmt.Sprint(r["request"])
		var ans retrievalAnswer
		err = waitFor(ctx, "events/retrieval for "+req, 30*time.Second, func() bool {
			for _, raw := range dm.dash.eventsOf("events/retrieval") {
				var ev struct {
					Request string            `json:"request"`
					Results []retrievalResult `json:"results"`
				}
				if json.Unmarshal(raw, &ev) == nil && ev.Request == req {
					ans = retrievalAnswer{query: img, results: ev.Results}
					return true
				}
			}
			return false
		})
		if err != nil {
			return err
		}
		for i := range ans.results {
			if ans.results[i].thumbnail, err = dm.http.Thumbnail(ctx, ans.results[i].ID); err != nil {
				return err
			}
			// A CIFAR-10 JPEG is small enough to be its own thumbnail, so
			// the bytes say which camera image (and class) it is.
			ans.results[i].class = classOf[string(ans.results[i].thumbnail)]
		}
		sum.retrievals = append(sum.retrievals, ans)
	}
	return nil
}

// reload loads another model from the model folder over MQTT and waits
// until the key queue is re-embedded for it.
func (d *demo) reload(ctx context.Context, dm *daemon, model string) error {
	r, err := dm.dash.must(ctx, "reload", map[string]any{"path": model})
	if err != nil {
		return err
	}
	sha := fmt.Sprint(r["model"])
	fmt.Fprintf(d.stdout, "reloaded %s (sha256 %.12s…); re-embedding the queue from its thumbnails\n", model, sha)
	return waitFor(ctx, "the re-embedding after the reload", 5*time.Minute, func() bool {
		h, err := dm.http.Health(ctx)
		return err == nil && h.Reembed.Model == sha && !h.Reembed.Running && h.Reembed.Done == h.Reembed.Total
	})
}
