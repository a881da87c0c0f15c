// Package mqtttest is a dashboard for tests: an MQTT client that subscribes
// to one device's topics, keeps every message decoded as JSON, and sends
// commands, so that tests of the daemon's MQTT side read what a real
// subscriber would see.
package mqtttest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Inbox is a subscriber to mocoedge/DEVICE/# holding what it received.
type Inbox struct {
	prefix string
	c      paho.Client

	mu   sync.Mutex
	msgs map[string][]map[string]any // by topic suffix
}

// Subscribe connects to the broker at url as "dashboard" and subscribes to
// mocoedge/device/#; it disconnects when the test ends.
func Subscribe(t testing.TB, url, device string) *Inbox {
	t.Helper()
	in := &Inbox{prefix: "mocoedge/" + device + "/", msgs: map[string][]map[string]any{}}
	in.c = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("dashboard"))
	if tok := in.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { in.c.Disconnect(100) })
	tok := in.c.Subscribe(in.prefix+"#", 1, func(_ paho.Client, m paho.Message) { in.add(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe to %s#: %v", in.prefix, tok.Error())
	}
	return in
}

// add keeps one message (a payload that is not JSON is kept as nil).
func (in *Inbox) add(topic string, payload []byte) {
	var m map[string]any
	json.Unmarshal(payload, &m)
	in.mu.Lock()
	defer in.mu.Unlock()
	suffix := topic[min(len(in.prefix), len(topic)):]
	in.msgs[suffix] = append(in.msgs[suffix], m)
}

// Get returns the messages received so far on mocoedge/DEVICE/suffix.
func (in *Inbox) Get(suffix string) []map[string]any {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]map[string]any(nil), in.msgs[suffix]...)
}

// Send publishes v as JSON on mocoedge/DEVICE/cmd/verb and waits for the
// broker to take it.
func (in *Inbox) Send(t testing.TB, verb string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if tok := in.c.Publish(in.prefix+"cmd/"+verb, 1, false, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish cmd/%s: %v", verb, tok.Error())
	}
}
