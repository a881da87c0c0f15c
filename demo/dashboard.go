package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// dashboard is the demo's MQTT side: it subscribes to everything the device
// publishes, counts each message type and sends commands, waiting for their
// results, as a site's dashboard would.
type dashboard struct {
	c      paho.Client
	prefix string // mocoedge/DEVICE/

	mu      sync.Mutex
	counts  map[string]int                // message type -> messages seen
	results map[string]chan commandResult // request id -> its result
	events  map[string][]json.RawMessage  // events/... and telemetry payloads, in order
	seq     int
}

// commandResult is a cmd/<verb>/result payload.
type commandResult map[string]any

// ok reports whether the command succeeded, with its error otherwise.
func (r commandResult) ok() (bool, string) {
	ok, _ := r["ok"].(bool)
	msg, _ := r["error"].(string)
	return ok, msg
}

// connect subscribes to PREFIX/DEVICE/# on the broker at url.
func connectDashboard(ctx context.Context, url, prefix string) (*dashboard, error) {
	d := &dashboard{prefix: prefix, counts: map[string]int{}, results: map[string]chan commandResult{}, events: map[string][]json.RawMessage{}}
	opts := paho.NewClientOptions().AddBroker(url).SetClientID("demo-dashboard").SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond)
	d.c = paho.NewClient(opts)
	if err := wait(ctx, d.c.Connect()); err != nil {
		return nil, fmt.Errorf("dashboard: connect to %s: %w", url, err)
	}
	if err := wait(ctx, d.c.Subscribe(prefix+"#", 1, d.receive)); err != nil {
		return nil, fmt.Errorf("dashboard: subscribe: %w", err)
	}
	return d, nil
}

// wait waits for a paho token within ctx.
func wait(ctx context.Context, tok paho.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no answer from the broker in 30 s")
	}
}

// kind names a topic's message type: status, telemetry, events/prediction,
// cmd/label/result, ...
func (d *dashboard) kind(topic string) string { return strings.TrimPrefix(topic, d.prefix) }

// receive handles every message.
func (d *dashboard) receive(_ paho.Client, m paho.Message) {
	k := d.kind(m.Topic())
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts[k]++
	if strings.HasPrefix(k, "cmd/") && strings.HasSuffix(k, "/result") {
		var r commandResult
		if json.Unmarshal(m.Payload(), &r) == nil {
			if ch, ok := d.results[fmt.Sprint(r["request"])]; ok {
				ch <- r
			}
		}
		return
	}
	if strings.HasPrefix(k, "events/") || k == "telemetry" || k == "status" {
		d.events[k] = append(d.events[k], append(json.RawMessage(nil), m.Payload()...))
	}
}

// send publishes cmd/verb with body (plus a fresh request id) and waits
// for its result.
func (d *dashboard) send(ctx context.Context, verb string, body map[string]any) (commandResult, error) {
	d.mu.Lock()
	d.seq++
	req := fmt.Sprintf("demo-%s-%d", verb, d.seq)
	ch := make(chan commandResult, 1)
	d.results[req] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.results, req)
		d.mu.Unlock()
	}()
	msg := map[string]any{"request": req}
	for k, v := range body {
		msg[k] = v
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if err := wait(ctx, d.c.Publish(d.prefix+"cmd/"+verb, 1, false, payload)); err != nil {
		return nil, fmt.Errorf("publish cmd/%s: %w", verb, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("cmd/%s %s: no result in 2 minutes", verb, req)
	}
}

// must sends a command and turns ok:false into an error.
func (d *dashboard) must(ctx context.Context, verb string, body map[string]any) (commandResult, error) {
	r, err := d.send(ctx, verb, body)
	if err != nil {
		return nil, err
	}
	if ok, msg := r.ok(); !ok {
		return r, fmt.Errorf("cmd/%s: %s", verb, msg)
	}
	return r, nil
}

// eventsOf returns the payloads of one message type seen so far.
func (d *dashboard) eventsOf(kind string) []json.RawMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]json.RawMessage(nil), d.events[kind]...)
}

// seen returns the message counts by type.
func (d *dashboard) seen() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}

// waitFor polls cond every 50 ms until it holds, ctx ends or timeout passes.
func waitFor(ctx context.Context, what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// close disconnects.
func (d *dashboard) close() { d.c.Disconnect(250) }
