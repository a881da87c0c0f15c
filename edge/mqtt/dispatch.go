package mqtt

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// MarshalJSON writes {"id","request","ok","error"?,...Fields}.
func (r Result) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(r.Fields)+4)
	for k, v := range r.Fields {
		m[k] = v
	}
	m["id"] = r.ID
	m["request"] = r.Request
	m["ok"] = r.OK
	if r.Error != "" {
		m["error"] = r.Error
	} else {
		delete(m, "error")
	}
	return json.Marshal(m)
}

// onCommand runs on paho's goroutine: it only queues the payload.
func (c *Client) onCommand(_ paho.Client, msg paho.Message) {
	prefix := c.Topic("cmd/")
	verb := strings.TrimPrefix(msg.Topic(), prefix)
	payload := msg.Payload()
	if len(payload) > c.opt.Config.MaxPayloadBytes {
		// Refuse at once so that a large payload is not kept around.
		_, err := ParseCommand(verb, payload, c.opt.Config.MaxPayloadBytes)
		c.refuse(verb, "", err)
		return
	}
	select {
	case c.cmds <- inbound{verb: verb, payload: append([]byte(nil), payload...)}:
	default:
		c.refuse(verb, peekRequest(payload), fmt.Errorf("%w: too many commands waiting, try again later", ErrCommand))
	}
}

// resultTopic is cmd/VERB/result, or cmd/unknown/result for verbs that are
// not even names.
func (c *Client) resultTopic(verb string) string {
	if !nameRE.MatchString(verb) {
		verb = "unknown"
	}
	return "cmd/" + verb + "/result"
}

func (c *Client) refuse(verb, request string, err error) {
	c.cmdRefused.Add(1)
	c.log.Warn("MQTT command refused", "verb", verb, "request", request, "err", err)
	c.publishResult(verb, Result{Request: request, Error: err.Error()})
}

func (c *Client) publishResult(verb string, r Result) {
	r.ID = c.nextID()
	body, err := json.Marshal(r)
	if err != nil {
		c.log.Error("MQTT command result not encodable", "verb", verb, "err", err)
		r.Fields = nil
		r.OK = false
		r.Error = fmt.Sprintf("result not encodable: %v", err)
		body, _ = json.Marshal(r)
	}
	if err := c.box.Add(KindResult, c.Topic(c.resultTopic(verb)), 1, false, body); err != nil {
		c.setErr(err)
		c.log.Warn("MQTT outbox write failed; the result is kept in memory only", "verb", verb, "err", err)
	}
}

func (c *Client) commandWorker() {
	defer c.wg.Done()
	for {
		select {
		case in := <-c.cmds:
			c.runCommand(in)
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *Client) runCommand(in inbound) {
	cmd, err := ParseCommand(in.verb, in.payload, c.opt.Config.MaxPayloadBytes)
	if err != nil {
		c.refuse(in.verb, cmd.Request, err)
		return
	}
	if c.opt.Handler == nil {
		c.refuse(in.verb, cmd.Request, fmt.Errorf("%w: this device does not take commands", ErrCommand))
		return
	}
	fields, err := c.callHandler(cmd)
	if err != nil {
		c.cmdFailed.Add(1)
		c.log.Warn("MQTT command failed", "verb", cmd.Verb, "request", cmd.Request, "err", err)
		c.publishResult(cmd.Verb, Result{Request: cmd.Request, Error: err.Error()})
		return
	}
	c.cmdHandled.Add(1)
	c.log.Info("MQTT command done", "verb", cmd.Verb, "request", cmd.Request)
	c.publishResult(cmd.Verb, Result{Request: cmd.Request, OK: true, Fields: fields})
}

// callHandler runs the handler, turning a panic into an error.
func (c *Client) callHandler(cmd Command) (fields map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("MQTT command handler panicked", "verb", cmd.Verb, "request", cmd.Request,
				"panic", r, "stack", string(debug.Stack()))
			fields, err = nil, fmt.Errorf("internal error: handler panicked: %v", r)
		}
	}()
	return c.opt.Handler.HandleCommand(c.ctx, cmd)
}
