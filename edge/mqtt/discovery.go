package mqtt

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Discovery records the daemon's source names for Home Assistant discovery
// and, when mqtt.home_assistant.enabled, publishes the discovery configs now
// (if connected) and again on every connection. Configs are retained, under
// HA_PREFIX (default homeassistant):
//
//	HA/sensor/DEV_SOURCE_label/config          predicted label of SOURCE
//	HA/binary_sensor/DEV_online/config         the device is online
//	HA/button/DEV_train/config                 press: cmd/train
//
// The label sensor reads events/prediction with a value_template that keeps
// the sensor's state (this.state) for other sources' events, so no extra
// topic is needed. Every entity uses status as its availability topic.
func (c *Client) Discovery(sources []string) {
	if c == nil || c.disabled {
		return
	}
	c.mu.Lock()
	c.sources = slices.Clone(sources)
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		c.publishDiscovery(s)
	}
}

// DiscoveryMessage is one retained Home Assistant discovery config.
type DiscoveryMessage struct {
	// Topic is HA_PREFIX/COMPONENT/OBJECT_ID/config.
	Topic string
	// Payload is the JSON config.
	Payload []byte
}

// DiscoveryMessages returns the discovery configs for sources (exported for
// tests and for printing; Discovery publishes them).
func (c *Client) DiscoveryMessages(sources []string) []DiscoveryMessage {
	if c == nil || c.disabled {
		return nil
	}
	dev := c.opt.DeviceID
	ha := c.opt.Config.HomeAssistant.Prefix
	status := c.Topic("status")
	device := map[string]any{
		"identifiers":  []string{"mocoedge_" + dev},
		"name":         "mocoedge " + dev,
		"manufacturer": "mocoedge",
		"model":        "edge agent",
		"sw_version":   c.opt.Version,
	}
	availability := map[string]any{
		"availability_topic":    status,
		"availability_template": "{{ 'online' if value_json.state == 'online' else 'offline' }}",
		"payload_available":     "online",
		"payload_not_available": "offline",
	}
	var out []DiscoveryMessage
	add := func(component, object string, cfg map[string]any) {
		for k, v := range availability {
			cfg[k] = v
		}
		cfg["unique_id"] = object
		cfg["object_id"] = object
		cfg["device"] = device
		body, _ := json.Marshal(cfg)
		out = append(out, DiscoveryMessage{Topic: fmt.Sprintf("%s/%s/%s/config", ha, component, object), Payload: body})
	}
	for _, src := range sources {
		if !nameRE.MatchString(src) {
			continue
		}
		add("sensor", haObject(dev, src, "label"), map[string]any{
			"name":        src + " label",
			"state_topic": c.Topic("events/prediction"),
			"value_template": fmt.Sprintf(
				"{%% if value_json.source == %q %%}{{ value_json.label }}{%% else %%}{{ this.state }}{%% endif %%}", src),
			"icon": "mdi:tag",
		})
	}
	online := map[string]any{
		"name":           "online",
		"state_topic":    status,
		"value_template": "{{ 'ON' if value_json.state == 'online' else 'OFF' }}",
		"payload_on":     "ON",
		"payload_off":    "OFF",
		"device_class":   "connectivity",
	}
	add("binary_sensor", haObject(dev, "online"), online)
	// The connectivity sensor must show "off" while offline, so it is not
	// itself subject to availability.
	last := &out[len(out)-1]
	var cfg map[string]any
	_ = json.Unmarshal(last.Payload, &cfg)
	for k := range availability {
		delete(cfg, k)
	}
	last.Payload, _ = json.Marshal(cfg)
	add("button", haObject(dev, "train"), map[string]any{
		"name":          "train probe",
		"command_topic": c.Topic("cmd/train"),
		"payload_press": `{"request":"homeassistant-train"}`,
		"icon":          "mdi:school",
	})
	return out
}

// haObject joins parts into a Home Assistant object id ([a-zA-Z0-9_-]).
func haObject(parts ...string) string {
	return strings.Join(parts, "_")
}

// publishDiscovery publishes the discovery configs over s when enabled.
func (c *Client) publishDiscovery(s *session) {
	if !c.opt.Config.HomeAssistant.Enabled {
		return
	}
	c.mu.Lock()
	sources := c.sources
	c.mu.Unlock()
	for _, m := range c.DiscoveryMessages(sources) {
		tok := s.cli.Publish(m.Topic, 1, true, m.Payload)
		go func(topic string) {
			tok.Wait()
			if err := tok.Error(); err != nil {
				c.log.Warn("MQTT discovery config not published", "topic", topic, "err", err)
			}
		}(m.Topic)
	}
}
