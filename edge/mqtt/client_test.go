package mqtt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// TestHelperProcess is not a test: it is the child process of
// TestStatusWillAndStopped, selected by MOCOEDGE_MQTT_HELPER.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("MOCOEDGE_MQTT_HELPER") != "lwt" {
		t.Skip("helper process only")
	}
	c, err := New(Options{Config: testConfig(os.Getenv("MOCOEDGE_MQTT_URL")), DeviceID: "dev-lwt",
		DataDir: os.Getenv("MOCOEDGE_MQTT_DIR"), Version: "child", MinBackoff: 50 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	c.SetStatus("resnet18-test", "cpu")
	if err := c.Start(context.Background()); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for !c.Stats().Connected {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("ready")
	select {} // until SIGKILL
}

func TestStatusWillAndStopped(t *testing.T) {
	m := startMosquitto(t)
	sub := subscribe(t, m.url(), "", "mocoedge/dev-lwt/status")

	child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	child.Env = append(os.Environ(), "MOCOEDGE_MQTT_HELPER=lwt", "MOCOEDGE_MQTT_URL="+m.url(),
		"MOCOEDGE_MQTT_DIR="+t.TempDir())
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); l == "ready" || strings.HasPrefix(l, "error") {
				ready <- l
				return
			}
		}
		ready <- "child ended"
	}()
	select {
	case l := <-ready:
		if l != "ready" {
			t.Fatalf("child: %s", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("child did not connect")
	}
	st := sub.nextJSON(t, "status", 5*time.Second)
	if st["state"] != "online" || st["version"] != "child" || st["model"] != "resnet18-test" || st["provider"] != "cpu" || st["since"] == nil {
		t.Fatalf("status after connecting: %v", st)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	st = sub.nextJSON(t, "status", 10*time.Second)
	if st["state"] != "offline" || st["version"] != "child" {
		t.Fatalf("status after SIGKILL: %v", st)
	}
	// The will is retained: a new subscriber sees it too.
	late := subscribe(t, m.url(), "", "mocoedge/dev-lwt/status")
	if st := late.nextJSON(t, "status", 5*time.Second); st["state"] != "offline" {
		t.Fatalf("retained status: %v", st)
	}

	// A clean Close publishes "stopped", and no will follows.
	c, _ := newTestClient(t, testConfig(m.url()), "dev-lwt", t.TempDir(), nil)
	if st := sub.nextJSON(t, "status", 10*time.Second); st["state"] != "online" {
		t.Fatalf("status after reconnecting: %v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := sub.nextJSON(t, "status", 5*time.Second); st["state"] != "stopped" {
		t.Fatalf("status after Close: %v", st)
	}
	select {
	case msg := <-sub.ch:
		t.Fatalf("unexpected message after a clean stop: %s %s", msg.Topic(), msg.Payload())
	case <-time.After(500 * time.Millisecond):
	}
}

// streamEvent is what the outbox tests publish: a trigger numbered by Entry.
func streamEvent(n int) Trigger { return Trigger{Kind: "trigger", Input: "t", Entry: uint64(n)} }

// collect reads trigger events from sub until want distinct ids arrived and
// checks that first occurrences come in Entry order.
func collect(t *testing.T, sub *subscriber, want int, d time.Duration) (dups int) {
	t.Helper()
	seen := map[string]bool{}
	next := uint64(1)
	deadline := time.After(d)
	for len(seen) < want {
		select {
		case msg := <-sub.ch:
			var ev Trigger
			if err := json.Unmarshal(msg.Payload(), &ev); err != nil {
				t.Fatalf("bad event %s: %v", msg.Payload(), err)
			}
			if ev.ID == "" {
				t.Fatalf("event without id: %s", msg.Payload())
			}
			if seen[ev.ID] {
				dups++
				continue
			}
			seen[ev.ID] = true
			if ev.Entry != next {
				t.Fatalf("event %d arrived when %d was expected (out of order or lost)", ev.Entry, next)
			}
			next++
		case <-deadline:
			t.Fatalf("only %d of %d events arrived within %v", len(seen), want, d)
		}
	}
	return dups
}

func TestOutboxDeliversAcrossBrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("stops the broker for 10 s")
	}
	m := startMosquitto(t)
	sub := subscribe(t, m.url(), "restart-sub", "mocoedge/dev-restart/events/trigger")
	c, _ := newTestClient(t, testConfig(m.url()), "dev-restart", t.TempDir(), nil)
	waitFor(t, 10*time.Second, "connection", func() bool { return c.Stats().Connected })

	const total = 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= total; i++ {
			c.Trigger(streamEvent(i))
			switch i {
			case 300:
				m.stop()
			case 301:
				time.Sleep(10 * time.Second) // the broker is away; reports pile up
			case 700:
				m.start()
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	<-done
	dups := collect(t, sub, total, 60*time.Second)
	st := c.Stats()
	t.Logf("delivered %d, duplicates seen %d, reconnects %d, last error %q", st.Delivered, dups, st.Reconnects, st.LastError)
	if st.Reconnects < 1 {
		t.Errorf("no reconnection counted: %+v", st)
	}
	waitFor(t, 10*time.Second, "empty outbox", func() bool { return c.Stats().Outbox == 0 })
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOutboxPersistsAcrossClients(t *testing.T) {
	m := startMosquitto(t)
	sub := subscribe(t, m.url(), "", "mocoedge/dev-persist/events/#")
	dir := t.TempDir()

	// No broker at this address: everything stays in the outbox.
	dead := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t)))
	c1, _ := newTestClient(t, dead, "dev-persist", dir, nil)
	for i := 1; i <= 50; i++ {
		c1.Trigger(streamEvent(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c1.Stats(); st.Outbox != 50 || st.Delivered != 0 {
		t.Fatalf("after closing unconnected: %+v", st)
	}

	c2, _ := newTestClient(t, testConfig(m.url()), "dev-persist", dir, nil)
	if st := c2.Stats(); st.Outbox != 50 {
		t.Fatalf("reopened outbox holds %d, want 50", st.Outbox)
	}
	collect(t, sub, 50, 20*time.Second)
	waitFor(t, 5*time.Second, "empty outbox", func() bool { return c2.Stats().Outbox == 0 })
	if err := c2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOutboxOverflowDropsTelemetryFirst(t *testing.T) {
	cfg := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t)))
	cfg.Outbox.MaxMessages = 10
	c, _ := newTestClient(t, cfg, "dev-full", t.TempDir(), nil)
	defer c.Close(context.Background())
	for i := range 3 {
		c.Trigger(streamEvent(i))
		c.Prediction(Prediction{Source: fmt.Sprintf("cam%d", i), Label: "x"})
	}
	for range 12 {
		c.Telemetry(Telemetry{})
	}
	st := c.Stats()
	if st.Outbox != 10 || st.Dropped["telemetry"] != 8 || st.Dropped["prediction"] != 0 {
		t.Fatalf("after 12 telemetry reports: %+v", st)
	}
	for i := range 5 {
		c.Trigger(streamEvent(10 + i))
	}
	st = c.Stats()
	if st.Outbox != 10 || st.Dropped["telemetry"] != 12 || st.Dropped["prediction"] != 1 || st.Dropped["trigger"] != 0 {
		t.Fatalf("after 5 more triggers: %+v", st)
	}
	if st.Published != 23 {
		t.Fatalf("published %d, want 23", st.Published)
	}
}

func TestPredictionPolicy(t *testing.T) {
	cfg := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t)))
	cfg.Predictions.MinInterval = config.Duration(time.Hour)
	c, _ := newTestClient(t, cfg, "dev-pred", t.TempDir(), nil)
	defer c.Close(context.Background())
	if !c.Prediction(Prediction{Source: "cam0", Label: "a"}) || c.Prediction(Prediction{Source: "cam0", Label: "b"}) {
		t.Fatal("min_interval not applied per source")
	}
	if !c.Prediction(Prediction{Source: "cam1", Label: "a"}) {
		t.Fatal("a second source was limited by the first")
	}
	c.SetPredictionPolicy(0, true)
	if c.Prediction(Prediction{Source: "cam0", Label: "a"}) {
		t.Fatal("on_change published an unchanged label")
	}
	if !c.Prediction(Prediction{Source: "cam0", Label: "b"}) {
		t.Fatal("on_change held back a changed label")
	}
	if st := c.Stats(); st.Suppressed != 2 || st.Outbox != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWrongPasswordRetries(t *testing.T) {
	m := startMosquitto(t)
	cfg := testConfig(m.url())
	cfg.Password = "wrong"
	c, logs := newTestClient(t, cfg, "dev-badpw", t.TempDir(), nil)
	waitFor(t, 10*time.Second, "three failed attempts", func() bool { return c.Stats().ConnectAttempts >= 3 })
	st := c.Stats()
	if st.Connected || !strings.Contains(st.LastError, "not Authorized") || !strings.Contains(st.LastError, "mqtt.password") {
		t.Fatalf("stats after a wrong password: %+v", st)
	}
	if !strings.Contains(logs.String(), "MQTT connect failed") || !strings.Contains(logs.String(), "not Authorized") {
		t.Fatalf("log does not report the failure:\n%s", logs)
	}
	c.Trigger(streamEvent(1)) // reports are kept meanwhile
	if st := c.Stats(); st.Outbox != 1 {
		t.Fatalf("outbox %d", st.Outbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTLS(t *testing.T) {
	m := startMosquitto(t)
	dir := t.TempDir()

	t.Run("good CA", func(t *testing.T) {
		cfg := testConfig(m.tlsURL())
		cfg.TLS.CA = m.caFile
		sub := subscribe(t, m.url(), "", "mocoedge/dev-tls/events/#")
		c, _ := newTestClient(t, cfg, "dev-tls", filepath.Join(dir, "good"), nil)
		defer c.Close(context.Background())
		c.Trigger(streamEvent(1))
		collect(t, sub, 1, 10*time.Second)
	})
	t.Run("bad CA", func(t *testing.T) {
		other := newCA(t, "some other CA")
		cfg := testConfig(m.tlsURL())
		cfg.TLS.CA = writeFile(t, filepath.Join(dir, "other-ca.pem"), other.certPEM)
		c, logs := newTestClient(t, cfg, "dev-badca", filepath.Join(dir, "bad"), nil)
		waitFor(t, 10*time.Second, "two failed attempts", func() bool { return c.Stats().ConnectAttempts >= 2 })
		st := c.Stats()
		if st.Connected || !strings.Contains(st.LastError, "certificate") || !strings.Contains(st.LastError, "mqtt.tls.ca") {
			t.Fatalf("stats with a bad CA: %+v", st)
		}
		if !strings.Contains(logs.String(), "MQTT connect failed") {
			t.Fatalf("not logged:\n%s", logs)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	t.Run("files", func(t *testing.T) {
		notPEM := writeFile(t, filepath.Join(dir, "junk.pem"), []byte("hello"))
		crt, key := m.ca.issue(t, "client", false)
		crtFile := writeFile(t, filepath.Join(dir, "client.pem"), crt)
		keyFile := writeFile(t, filepath.Join(dir, "client.key"), key)
		cases := []struct {
			tls  config.TLS
			want string
		}{
			{config.TLS{CA: filepath.Join(dir, "missing.pem")}, "mqtt.tls.ca: open " + filepath.Join(dir, "missing.pem")},
			{config.TLS{CA: notPEM}, "mqtt.tls.ca " + notPEM + ": not a PEM file"},
			{config.TLS{CA: m.caFile, Cert: crtFile}, "mqtt.tls.key is not"},
			{config.TLS{Cert: crtFile, Key: notPEM}, "mqtt.tls.key " + notPEM},
			{config.TLS{Cert: notPEM, Key: keyFile}, "mqtt.tls.cert " + notPEM},
			{config.TLS{Cert: keyFile, Key: keyFile}, "mqtt.tls.cert " + keyFile},
			{config.TLS{Cert: crtFile, Key: filepath.Join(dir, "nokey")}, "mqtt.tls.key: open"},
		}
		for _, tc := range cases {
			cfg := testConfig(m.tlsURL())
			cfg.TLS = tc.tls
			_, err := New(Options{Config: cfg, DeviceID: "dev-files", DataDir: t.TempDir()})
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%+v: error %v, want one saying %q", tc.tls, err, tc.want)
			}
		}
		// A good client pair loads.
		cfg := testConfig(m.tlsURL())
		cfg.TLS = config.TLS{CA: m.caFile, Cert: crtFile, Key: keyFile}
		c, err := New(Options{Config: cfg, DeviceID: "dev-files", DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close(context.Background())
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := []struct {
		opt  Options
		want string
	}{
		{Options{Config: config.MQTT{Broker: "tcp://x:1"}, DeviceID: "a/b", DataDir: "x"}, "device id"},
		{Options{Config: config.MQTT{Broker: "tcp://x:1"}, DeviceID: "", DataDir: "x"}, "device id"},
		{Options{Config: config.MQTT{Broker: "tcp://x:1"}, DeviceID: "d"}, "data dir"},
		{Options{Config: config.MQTT{Broker: "http://x:1"}, DeviceID: "d", DataDir: "x"}, "scheme"},
		{Options{Config: config.MQTT{Broker: " , "}, DeviceID: "d", DataDir: "x"}, "empty"},
		{Options{Config: config.MQTT{Broker: "tcp://x:1", TopicPrefix: "a/#"}, DeviceID: "d", DataDir: "x"}, "topic_prefix"},
	}
	for _, tc := range cases {
		_, err := New(tc.opt)
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an ErrConfig saying %q", tc.opt, err, tc.want)
		}
	}
	urls, err := brokerURLs(config.MQTT{Broker: "tcp://a:1, ssl://b:8883,mqtts://c:8883 ,ws://d:9001/mqtt,wss://e/mqtt"})
	if err != nil || len(urls) != 5 {
		t.Fatalf("broker list: %v %v", urls, err)
	}
}

func TestOffAndNilClients(t *testing.T) {
	c, err := New(Options{Config: config.MQTT{Broker: "off"}})
	if err != nil {
		t.Fatal(err)
	}
	var nilc *Client
	for _, x := range []*Client{c, nilc} {
		if err := x.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		x.SetStatus("m", "cpu")
		x.Telemetry(Telemetry{})
		x.Prediction(Prediction{})
		x.Retrieval(Retrieval{})
		x.Trigger(Trigger{})
		x.Discovery([]string{"cam0"})
		if st := x.Stats(); !st.Disabled {
			t.Fatalf("stats %+v", st)
		}
		if err := x.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder is a Handler that records commands and answers by verb.
type recorder struct {
	mu   sync.Mutex
	cmds []Command
}

func (r *recorder) HandleCommand(_ context.Context, cmd Command) (map[string]any, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, cmd)
	r.mu.Unlock()
	switch {
	case cmd.Snapshot != nil && cmd.Snapshot.Source == "boom":
		panic("snapshot exploded")
	case cmd.Snapshot != nil && cmd.Snapshot.Source == "gone":
		return nil, errors.New("no such source: gone")
	case cmd.Label != nil:
		return map[string]any{"entry": *cmd.Label.ID, "label": cmd.Label.Label}, nil
	}
	return map[string]any{"done": true}, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cmds)
}

func TestCommands(t *testing.T) {
	m := startMosquitto(t)
	sub := subscribe(t, m.url(), "", "mocoedge/dev-cmd/#")
	h := new(recorder)
	c, _ := newTestClient(t, testConfig(m.url()), "dev-cmd", t.TempDir(), h)
	defer c.Close(context.Background())
	waitFor(t, 10*time.Second, "connection", func() bool { return c.Stats().Connected })

	send := func(verb, payload string) map[string]any {
		t.Helper()
		publish(t, m.url(), "mocoedge/dev-cmd/cmd/"+verb, []byte(payload))
		suffix := "cmd/" + verb + "/result"
		if !nameRE.MatchString(verb) {
			suffix = "cmd/unknown/result"
		}
		return sub.nextJSON(t, suffix, 10*time.Second)
	}
	big := `{"request":"big","id":1,"label":"` + strings.Repeat("x", 10<<20) + `"}`
	bad := []struct{ verb, payload, request, reason string }{
		{"label", `{"request":"b1",`, "", "invalid JSON"},
		{"label", `{"request":"b2","id":"7","label":"cat"}`, "b2", "non-negative integer"},
		{"label", big, "", "over the limit"},
		{"train", `{"request":"b3","force":true}`, "b3", "unknown field"},
		{"query", `{"request":"b4","image":"not base64!"}`, "b4", "base64"},
		{"query", `{"request":"b5","id":1,"k":"10"}`, "b5", "integer"},
		{"reload", `{"request":"b6","path":"../../../etc/passwd"}`, "b6", "leaves the model folder"},
		{"snapshot", `{"request":"b7","source":7}`, "b7", "must be a string"},
		{"config", `{"request":"b8","set":{"model.path":"/x"}}`, "b8", "cannot be changed"},
		{"selfdestruct", `{"request":"b9"}`, "b9", "unknown verb"},
		{"snapshot", `{"request":"b10","source":"boom"}`, "b10", "panicked"},
		{"snapshot", `{"request":"b11","source":"gone"}`, "b11", "no such source"},
	}
	for _, tc := range bad {
		res := send(tc.verb, tc.payload)
		if res["ok"] != false || res["request"] != tc.request || !strings.Contains(fmt.Sprint(res["error"]), tc.reason) || res["id"] == "" {
			t.Errorf("%s %.60s: result %v, want ok:false request %q error saying %q", tc.verb, tc.payload, res, tc.request, tc.reason)
		}
	}
	if n := h.count(); n != 2 {
		t.Errorf("handler saw %d commands, want 2 (the panicking and the failing snapshot)", n)
	}
	// The client still works: a good command reaches the handler.
	res := send("label", `{"request":"g1","id":42,"label":"cat"}`)
	if res["ok"] != true || res["request"] != "g1" || res["entry"] != float64(42) || res["label"] != "cat" || res["error"] != nil {
		t.Fatalf("good label: %v", res)
	}
	c.Telemetry(Telemetry{FPS: map[string]float64{"cam0": 5}, Provider: "cpu"})
	tel := sub.nextJSON(t, "/telemetry", 10*time.Second)
	mq, _ := tel["mqtt"].(map[string]any)
	if tel["provider"] != "cpu" || mq == nil || tel["id"] == "" {
		t.Fatalf("telemetry %v", tel)
	}
	st := c.Stats()
	if st.CommandsRefused != 10 || st.CommandsFailed != 2 || st.CommandsHandled != 1 {
		t.Fatalf("command counters %+v", st)
	}
}
