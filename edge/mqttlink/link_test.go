package mqttlink_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/mqtt/mqtttest"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/mqttlink"
	"github.com/mocoedge/mocoedge/internal/repo"
)

// result waits for the result of request on cmd/verb/result.
func result(t *testing.T, in *mqtttest.Inbox, verb, request string) map[string]any {
	t.Helper()
	var got map[string]any
	agenttest.WaitFor(t, verb+" result "+request, 60*time.Second, func() bool {
		for _, m := range in.Get("cmd/" + verb + "/result") {
			if m["request"] == request {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// TestCommandsOverMQTT drives a running agent through the embedded broker
// the way a dashboard would: label frames by queue id and by source, train
// the probe, query by image, change settings, reload a bad path; and checks
// the results, the retrieval and prediction events and telemetry.
func TestCommandsOverMQTT(t *testing.T) {
	all, err := repo.CIFAR10Files("test.tar.gz", 10000)
	if err != nil {
		t.Fatal(err)
	}
	// Six images of each class.
	var files []repo.ArchiveFile
	perClass := map[string]int{}
	for _, f := range all {
		if c := path.Base(path.Dir(f.Name)); perClass[c] < 6 {
			perClass[c]++
			files = append(files, f)
		}
	}
	var images [][]byte
	for _, f := range files {
		images = append(images, f.Data)
	}
	dir := t.TempDir()
	agenttest.WriteImages(t, dir, images)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log, _ := agenttest.Logger(t)
	broker, err := mqtt.StartBroker(ctx, "127.0.0.1:0", "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()

	cfg := agenttest.Config(t, agenttest.ExportCIFAR(t), config.Source{Name: "cam", Kind: "files", Path: dir})
	cfg.DeviceID = "dev1"
	cfg.MQTT.Broker = broker.URL()
	cfg.MQTT.Predictions.MinInterval = 0
	cfg.Probe.AutoTrain = 0
	link := mqttlink.New(log, 200*time.Millisecond)
	link.AddCounters(func() map[string]any { return map[string]any{"bridge.frames_in": 42} })
	r := agenttest.Start(t, cfg, agent.Options{Observers: []agent.Observer{link}})
	client, err := mqtt.New(mqtt.Options{Config: cfg.MQTT, DeviceID: "dev1", DataDir: cfg.DataDir, Logger: log, Handler: link})
	if err != nil {
		t.Fatal(err)
	}
	link.Attach(r.Agent, client)
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	go link.Run(ctx)

	in := mqtttest.Subscribe(t, broker.URL(), "dev1")
	send := func(verb string, v any) { in.Send(t, verb, v) }
	agenttest.WaitFor(t, "60 entries", 60*time.Second, func() bool { return r.Queue().Len() == 60 })

	// Label every image with its class through MQTT, by queue id (found by
	// querying with the image itself).
	for i, f := range files {
		res, err := r.Query(ctx, agent.QueryRequest{Image: f.Data, K: 1})
		if err != nil || len(res.Results) != 1 {
			t.Fatalf("find image %d: %v", i, err)
		}
		class := path.Base(path.Dir(f.Name))
		send("label", map[string]any{"request": fmt.Sprintf("l%d", i), "id": res.Results[0].ID, "label": class})
	}
	for i := range files {
		if res := result(t, in, "label", fmt.Sprintf("l%d", i)); res["ok"] != true {
			t.Fatalf("label %d: %v", i, res)
		}
	}
	send("train", map[string]any{"request": "t1"})
	train := result(t, in, "train", "t1")
	if train["ok"] != true || train["version"] != float64(1) {
		t.Fatalf("train: %v", train)
	}
	t.Logf("probe trained over MQTT: %v", train)

	// A frame stored now gets a prediction event.
	if _, err := r.Store(ctx, "cam", images[0], time.Now()); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitFor(t, "a prediction event", 30*time.Second, func() bool {
		return len(in.Get("events/prediction")) > 0
	})
	p := in.Get("events/prediction")[0]
	if p["source"] != "cam" || p["label"] == "" || p["id"] == "" {
		t.Errorf("prediction event: %v", p)
	}

	send("query", map[string]any{"request": "q1", "image": base64.StdEncoding.EncodeToString(images[7]), "k": 3})
	if q := result(t, in, "query", "q1"); q["ok"] != true || q["results"] != float64(3) {
		t.Errorf("query result: %v", q)
	}
	agenttest.WaitFor(t, "a retrieval event", 30*time.Second, func() bool {
		for _, m := range in.Get("events/retrieval") {
			if m["request"] == "q1" {
				res := m["results"].([]any)
				return len(res) == 3 && res[0].(map[string]any)["score"].(float64) > 0.999
			}
		}
		return false
	})

	send("config", map[string]any{"request": "c1", "set": map[string]any{"retrieval.k": 2, "probe.unknown_below": 0.9}})
	if c := result(t, in, "config", "c1"); c["ok"] != true {
		t.Errorf("config: %v", c)
	}
	if p := r.ProbeInfo(); p.Unknown != 0.9 {
		t.Errorf("unknown_below after config: %v", p.Unknown)
	}
	send("config", map[string]any{"request": "c2", "set": map[string]any{"sources.cam.fps": 5}})
	if c := result(t, in, "config", "c2"); c["ok"] != false || !strings.Contains(fmt.Sprint(c["error"]), "files source") {
		t.Errorf("fps of a files source: %v", c)
	}
	send("reload", map[string]any{"request": "r1", "path": "../../etc/passwd"})
	if c := result(t, in, "reload", "r1"); c["ok"] != false || !strings.Contains(fmt.Sprint(c["error"]), "leaves the model folder") {
		t.Errorf("reload traversal: %v", c)
	}
	send("snapshot", map[string]any{"request": "s1", "source": "cam"})
	if c := result(t, in, "snapshot", "s1"); c["ok"] != true {
		t.Errorf("snapshot: %v", c)
	}
	send("label", map[string]any{"request": "l-bad", "id": 99999, "label": "cat"})
	if c := result(t, in, "label", "l-bad"); c["ok"] != false || !strings.Contains(fmt.Sprint(c["error"]), "99999") {
		t.Errorf("label of a missing entry: %v", c)
	}

	agenttest.WaitFor(t, "telemetry", 30*time.Second, func() bool {
		for _, m := range in.Get("telemetry") {
			counters, _ := m["counters"].(map[string]any)
			if m["probe_version"] == float64(1) && m["queue_size"].(float64) >= 60 &&
				counters["bridge.frames_in"] == float64(42) && counters["bad_frames.cam"] != nil {
				return true
			}
		}
		return false
	})
}
