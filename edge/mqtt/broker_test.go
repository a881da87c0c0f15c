package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedBroker(t *testing.T) {
	b, err := StartBroker(t.Context(), "127.0.0.1:0", "", "", quiet(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub := subscribe(t, b.URL(), "", "mocoedge/dev-emb/#")

	// "embedded" connects to tcp://embedded_addr: the same code path as
	// for Mosquitto.
	cfg := testConfig("embedded")
	cfg.EmbeddedAddr = b.Addr()
	h := new(recorder)
	c, _ := newTestClient(t, cfg, "dev-emb", t.TempDir(), h)
	if st := sub.nextJSON(t, "/status", 10*time.Second); st["state"] != "online" {
		t.Fatalf("status %v", st)
	}
	c.Prediction(Prediction{Frame: 3, Source: "cam0", Label: "cat", Score: 0.9, Top: []Score{{"cat", 0.9}, {"dog", 0.1}}})
	p := sub.nextJSON(t, "events/prediction", 10*time.Second)
	if p["label"] != "cat" || p["source"] != "cam0" || p["frame"] != float64(3) || len(p["top"].([]any)) != 2 {
		t.Fatalf("prediction %v", p)
	}
	c.Retrieval(Retrieval{Request: "q1", Results: []RetrievalResult{{ID: 9, Score: 0.5, Source: "cam0"}}})
	r := sub.nextJSON(t, "events/retrieval", 10*time.Second)
	if r["request"] != "q1" || len(r["results"].([]any)) != 1 {
		t.Fatalf("retrieval %v", r)
	}
	publish(t, b.URL(), "mocoedge/dev-emb/cmd/train", []byte(`{"request":"t1"}`))
	if res := sub.nextJSON(t, "cmd/train/result", 10*time.Second); res["ok"] != true || res["request"] != "t1" {
		t.Fatalf("train result %v", res)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := sub.nextJSON(t, "/status", 10*time.Second); st["state"] != "stopped" {
		t.Fatalf("status %v", st)
	}
}

func TestEmbeddedBrokerRefusesOpenBind(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		b, err := StartBroker(t.Context(), addr, "", "", quiet(t))
		if err == nil {
			b.Close()
			t.Fatalf("%s without credentials was accepted", addr)
		}
		if !errors.Is(err, ErrInsecureBroker) || !strings.Contains(err.Error(), "requires mqtt.username and mqtt.password") {
			t.Fatalf("%s: unclear error %v", addr, err)
		}
	}
	if _, err := StartBroker(t.Context(), "127.0.0.1:0", "user", "", nil); err == nil {
		t.Fatal("a username without a password was accepted")
	}
	if _, err := StartBroker(t.Context(), "nonsense", "", "", quiet(t)); err == nil {
		t.Fatal("a bad address was accepted")
	}
	// With credentials, binding every interface is allowed.
	b, err := StartBroker(t.Context(), "0.0.0.0:0", testUser, testPass, quiet(t))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestEmbeddedBrokerCredentials(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b, err := StartBroker(ctx, "127.0.0.1:0", testUser, testPass, quiet(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(b.URL())
	cfg.Password = "s3cret*" // a prefix of the real one, with the ledger's wildcard
	bad, _ := newTestClient(t, cfg, "dev-emb-bad", t.TempDir(), nil)
	waitFor(t, 10*time.Second, "two refused attempts", func() bool { return bad.Stats().ConnectAttempts >= 2 })
	if st := bad.Stats(); st.Connected || !strings.Contains(st.LastError, "not Authorized") {
		t.Fatalf("wrong password: %+v", st)
	}
	_ = bad.Close(context.Background())

	good, _ := newTestClient(t, testConfig(b.URL()), "dev-emb-good", t.TempDir(), nil)
	waitFor(t, 10*time.Second, "connection", func() bool { return good.Stats().Connected })
	_ = good.Close(context.Background())

	// Cancelling the context stops the broker.
	cancel()
	waitFor(t, 5*time.Second, "broker stop", func() bool {
		c, err := StartBroker(t.Context(), b.Addr(), testUser, testPass, quiet(t))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func TestHomeAssistantDiscovery(t *testing.T) {
	b, err := StartBroker(t.Context(), "127.0.0.1:0", "", "", quiet(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sub := subscribe(t, b.URL(), "", "homeassistant/#")
	cfg := testConfig(b.URL())
	cfg.HomeAssistant.Enabled = true
	h := new(recorder)
	c, _ := newTestClient(t, cfg, "dev-ha", t.TempDir(), h)
	defer c.Close(context.Background())
	waitFor(t, 10*time.Second, "connection", func() bool { return c.Stats().Connected })
	c.Discovery([]string{"cam0", "door"})

	got := map[string]map[string]any{}
	for len(got) < 4 {
		m := sub.next(t, "/config", 10*time.Second)
		var v map[string]any
		if err := json.Unmarshal(m.Payload(), &v); err != nil {
			t.Fatal(err)
		}
		got[m.Topic()] = v
	}
	label := got["homeassistant/sensor/dev-ha_cam0_label/config"]
	if label == nil || label["state_topic"] != "mocoedge/dev-ha/events/prediction" ||
		!strings.Contains(label["value_template"].(string), `value_json.source == "cam0"`) ||
		label["availability_topic"] != "mocoedge/dev-ha/status" || label["unique_id"] != "dev-ha_cam0_label" {
		t.Fatalf("label sensor config %v (all: %v)", label, got)
	}
	online := got["homeassistant/binary_sensor/dev-ha_online/config"]
	if online == nil || online["device_class"] != "connectivity" || online["availability_topic"] != nil {
		t.Fatalf("online config %v", online)
	}
	button := got["homeassistant/button/dev-ha_train/config"]
	if button == nil || button["command_topic"] != "mocoedge/dev-ha/cmd/train" {
		t.Fatalf("button config %v", button)
	}
	// Pressing the button sends a train command that the handler accepts.
	publish(t, b.URL(), button["command_topic"].(string), []byte(button["payload_press"].(string)))
	waitFor(t, 10*time.Second, "train command", func() bool { return h.count() == 1 })
	h.mu.Lock()
	cmd := h.cmds[0]
	h.mu.Unlock()
	if cmd.Train == nil || cmd.Request != "homeassistant-train" {
		t.Fatalf("handler got %+v", cmd)
	}
	// The configs are retained: a late subscriber gets them.
	late := subscribe(t, b.URL(), "", "homeassistant/#")
	if m := late.next(t, "/config", 5*time.Second); !m.Retained() {
		t.Fatal("discovery config not retained")
	}
}

// quiet returns a logger that keeps the broker's messages out of the test output.
func quiet(t *testing.T) *slog.Logger {
	l, _ := testLogger(t)
	return l
}
