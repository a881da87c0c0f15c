package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Client publishes the daemon's reports and receives its commands. Create it
// with New, then Start; every method is safe for concurrent use, and every
// method of a nil *Client is a no-op.
type Client struct {
	opt      Options
	log      *slog.Logger
	urls     []string
	tlsCfg   *tls.Config
	base     string // PREFIX/DEVICE
	disabled bool
	box      *outbox
	boot     string
	evSeq    atomic.Uint64

	mu         sync.Mutex
	model      string
	provider   string
	sess       *session
	since      time.Time     // when the current connection came up
	sessCh     chan struct{} // closed and replaced whenever sess changes
	started    bool
	closed     bool
	lastErr    string
	lastErrAt  time.Time
	sources    []string // for Home Assistant discovery
	minIntv    time.Duration
	onChange   bool
	lastPred   map[string]predState
	suppressed uint64

	connects   atomic.Uint64
	attempts   atomic.Uint64
	reconnects atomic.Uint64
	cmdHandled atomic.Uint64
	cmdRefused atomic.Uint64
	cmdFailed  atomic.Uint64

	closeWait time.Duration
	closeErr  error

	cmds     chan inbound
	ctx      context.Context // lives until Close
	cancel   context.CancelFunc
	stopSend chan struct{}
	sendDone chan struct{}
	wg       sync.WaitGroup
}

type predState struct {
	at    time.Time
	label string
}

// inbound is a command payload waiting for a worker.
type inbound struct {
	verb    string
	payload []byte
}

// session is one MQTT connection.
type session struct {
	cli      paho.Client
	lost     chan struct{}
	lostOnce sync.Once
}

func (s *session) markLost() { s.lostOnce.Do(func() { close(s.lost) }) }

// New checks the options, opens the outbox (DataDir/outbox) and returns a
// client that is not connected yet. Configuration errors wrap ErrConfig.
func New(opt Options) (*Client, error) {
	opt = opt.withDefaults()
	c := &Client{opt: opt, log: opt.Logger.With("component", "mqtt"), sessCh: make(chan struct{}),
		lastPred: map[string]predState{}, minIntv: opt.Config.Predictions.MinInterval.D(),
		onChange: opt.Config.Predictions.OnChange}
	if strings.EqualFold(strings.TrimSpace(opt.Config.Broker), "off") {
		c.disabled = true
		return c, nil
	}
	if !nameRE.MatchString(opt.DeviceID) {
		return nil, configError("device id %q must be 1-64 letters, digits, - or _ (it is the MQTT client id and a topic segment)", opt.DeviceID)
	}
	if strings.ContainsAny(opt.Config.TopicPrefix, "+#") || strings.HasPrefix(opt.Config.TopicPrefix, "/") ||
		strings.HasSuffix(opt.Config.TopicPrefix, "/") {
		return nil, configError("mqtt.topic_prefix %q must not contain + or # nor start or end with /", opt.Config.TopicPrefix)
	}
	if opt.DataDir == "" {
		return nil, configError("data dir is required (the outbox lives in DATA_DIR/outbox)")
	}
	urls, err := brokerURLs(opt.Config)
	if err != nil {
		return nil, err
	}
	c.urls = urls
	tc, err := tlsConfig(opt.Config.TLS)
	if err != nil {
		return nil, err
	}
	c.tlsCfg = tc
	c.base = opt.Config.TopicPrefix + "/" + opt.DeviceID
	var rb [4]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return nil, fmt.Errorf("mqtt: boot id: %w", err)
	}
	c.boot = hex.EncodeToString(rb[:])
	c.box, err = openOutbox(filepath.Join(opt.DataDir, "outbox"), opt.Config.Outbox.MaxMessages,
		opt.Config.Outbox.MaxAge.D(), time.Now)
	if err != nil {
		return nil, err
	}
	if n := c.box.Len(); n > 0 {
		c.log.Info("outbox reopened", "waiting", n)
	}
	return c, nil
}

// Topic returns PREFIX/DEVICE/suffix.
func (c *Client) Topic(suffix string) string {
	if c == nil {
		return ""
	}
	return c.base + "/" + suffix
}

// Start connects in the background (retrying with back-off until Close),
// publishes the retained status "online" on every connection, subscribes to
// cmd/+ and delivers the outbox. It returns at once; ctx only bounds Start
// itself: the client runs until Close.
func (c *Client) Start(ctx context.Context) error {
	if c == nil || c.disabled {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mqtt start: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("mqtt start: client is closed")
	}
	if c.started {
		return errors.New("mqtt start: already started")
	}
	c.started = true
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.cmds = make(chan inbound, 32)
	c.stopSend = make(chan struct{})
	c.sendDone = make(chan struct{})
	c.wg.Add(3 + c.opt.CommandWorkers)
	go c.connectLoop()
	go c.syncLoop()
	go func() { defer close(c.sendDone); c.sendLoop() }()
	for range c.opt.CommandWorkers {
		go c.commandWorker()
	}
	return nil
}

// SetStatus sets the model and provider reported in status (unless a
// StatusFunc was given) and republishes status when connected.
func (c *Client) SetStatus(model, provider string) {
	if c == nil || c.disabled {
		return
	}
	c.mu.Lock()
	c.model, c.provider = model, provider
	s := c.sess
	since := c.since
	c.mu.Unlock()
	if s != nil {
		if err := c.publishStatus(s, "online", since, 5*time.Second); err != nil {
			c.log.Warn("MQTT status not published", "err", err)
		}
	}
}

// SetPredictionPolicy changes mqtt.predictions at run time (after a config
// command): at most one prediction per source per minInterval (0: no limit),
// and with onChange only when a source's label differs from the last one
// published.
func (c *Client) SetPredictionPolicy(minInterval time.Duration, onChange bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.minIntv, c.onChange = minInterval, onChange
	c.mu.Unlock()
}

// PredictionPolicy returns the current rate limit and on-change setting of
// prediction events.
func (c *Client) PredictionPolicy() (minInterval time.Duration, onChange bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.minIntv, c.onChange
}

func (c *Client) status(state string, since time.Time) Status {
	c.mu.Lock()
	st := Status{State: state, Version: c.opt.Version, Model: c.model, Provider: c.provider}
	c.mu.Unlock()
	if c.opt.StatusFunc != nil {
		st.Model, st.Provider = c.opt.StatusFunc()
	}
	if !since.IsZero() {
		t := since.UTC()
		st.Since = &t
	}
	return st
}

// publishStatus publishes the retained status directly (not through the
// outbox: it is state, and the will covers the broker being away).
func (c *Client) publishStatus(s *session, state string, since time.Time, wait time.Duration) error {
	body, _ := json.Marshal(c.status(state, since))
	tok := s.cli.Publish(c.Topic("status"), 1, true, body)
	if !tok.WaitTimeout(wait) {
		return fmt.Errorf("mqtt status %s: no PUBACK within %v", state, wait)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("mqtt status %s: %w", state, err)
	}
	return nil
}

func (c *Client) setErr(err error) {
	c.mu.Lock()
	c.lastErr, c.lastErrAt = err.Error(), time.Now()
	c.mu.Unlock()
}

// current returns the connected session (nil when none) and a channel
// closed when that changes.
func (c *Client) current() (*session, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess, c.sessCh
}

func (c *Client) setSession(s *session) {
	c.mu.Lock()
	c.sess = s
	close(c.sessCh)
	c.sessCh = make(chan struct{})
	c.mu.Unlock()
}

func (c *Client) pahoOptions(s *session) *paho.ClientOptions {
	o := paho.NewClientOptions()
	for _, u := range c.urls {
		o.AddBroker(u)
	}
	o.SetClientID(c.opt.DeviceID)
	o.SetUsername(c.opt.Config.Username)
	o.SetPassword(c.opt.Config.Password)
	if c.tlsCfg != nil {
		o.SetTLSConfig(c.tlsCfg.Clone())
	}
	o.SetProtocolVersion(4)
	o.SetCleanSession(true)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetConnectTimeout(10 * time.Second)
	o.SetKeepAlive(30 * time.Second)
	o.SetPingTimeout(10 * time.Second)
	o.SetWriteTimeout(10 * time.Second)
	o.SetOrderMatters(false)
	will, _ := json.Marshal(c.status("offline", time.Time{}))
	o.SetBinaryWill(c.Topic("status"), will, 1, true)
	o.SetConnectionLostHandler(func(_ paho.Client, err error) {
		c.setErr(fmt.Errorf("connection lost: %w", err))
		c.log.Warn("MQTT connection lost", "err", err)
		s.markLost()
	})
	return o
}

// connectLoop keeps one connection up until Close.
func (c *Client) connectLoop() {
	defer c.wg.Done()
	backoff := c.opt.MinBackoff
	for {
		if c.ctx.Err() != nil {
			return
		}
		s := &session{lost: make(chan struct{})}
		s.cli = paho.NewClient(c.pahoOptions(s))
		c.attempts.Add(1)
		tok := s.cli.Connect()
		select {
		case <-tok.Done():
		case <-c.ctx.Done():
			go s.cli.Disconnect(0)
			return
		}
		if err := tok.Error(); err != nil {
			err = describeConnectError(c.urls, err)
			c.setErr(err)
			c.log.Warn("MQTT connect failed; retrying", "err", err, "retry_in", backoff.Round(time.Millisecond))
			if !c.sleep(jitter(backoff)) {
				return
			}
			backoff = min(2*backoff, c.opt.MaxBackoff)
			continue
		}
		backoff = c.opt.MinBackoff
		if !c.onConnect(s) {
			s.cli.Disconnect(0)
			s.markLost()
			if !c.sleep(jitter(backoff)) {
				return
			}
			continue
		}
		n := c.connects.Add(1)
		c.log.Info("MQTT connected", "brokers", strings.Join(c.urls, ","), "connection", n)
		c.setSession(s)
		select {
		case <-s.lost:
			c.setSession(nil)
			c.reconnects.Add(1)
			if !c.sleep(jitter(c.opt.MinBackoff)) {
				return
			}
		case <-c.ctx.Done():
			c.stop(s)
			return
		}
	}
}

// onConnect publishes status and discovery and subscribes to commands.
func (c *Client) onConnect(s *session) bool {
	now := time.Now()
	c.mu.Lock()
	c.since = now
	c.mu.Unlock()
	if err := c.publishStatus(s, "online", now, 10*time.Second); err != nil {
		c.setErr(err)
		c.log.Warn("MQTT status not published", "err", err)
		return false
	}
	filter := c.Topic("cmd/+")
	tok := s.cli.Subscribe(filter, 1, c.onCommand)
	if !tok.WaitTimeout(10 * time.Second) {
		c.setErr(fmt.Errorf("subscribe %s: no SUBACK", filter))
		return false
	}
	if err := tok.Error(); err != nil {
		c.setErr(fmt.Errorf("subscribe %s: %w", filter, err))
		c.log.Warn("MQTT subscribe failed", "topic", filter, "err", err)
		return false
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for t, code := range st.Result() {
			if code >= 0x80 {
				err := fmt.Errorf("subscribe %s: refused by the broker (check its ACL)", t)
				c.setErr(err)
				c.log.Warn("MQTT subscribe refused; commands will not arrive", "topic", t)
			}
		}
	}
	c.publishDiscovery(s)
	return true
}

// describeConnectError adds what the user should check to paho's errors.
func describeConnectError(urls []string, err error) error {
	msg := err.Error()
	hint := ""
	switch {
	case errors.Is(err, paho.ErrNotConnected):
	case strings.Contains(msg, "not Authorized"), strings.Contains(msg, "bad user name or password"):
		hint = " (check mqtt.username and mqtt.password)"
	case strings.Contains(msg, "x509"), strings.Contains(msg, "tls:"):
		hint = " (check mqtt.tls.ca, mqtt.tls.cert and the broker's certificate)"
	case strings.Contains(msg, "identifier rejected"):
		hint = " (the broker refused the device id as client id)"
	case strings.Contains(msg, "connection refused"):
		hint = " (is the broker running?)"
	}
	return fmt.Errorf("connect %s: %w%s", strings.Join(urls, ","), err, hint)
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}

// sleep waits d or until Close; false when closing.
func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// syncLoop fsyncs the outbox every SyncInterval.
func (c *Client) syncLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.opt.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := c.box.Sync(); err != nil {
				c.log.Warn("MQTT outbox sync failed", "err", err)
			}
		case <-c.ctx.Done():
			return
		}
	}
}

// sendLoop delivers the outbox in order over whichever session is up.
func (c *Client) sendLoop() {
	defer c.wg.Done()
	for {
		s, changed := c.current()
		if s == nil {
			select {
			case <-changed:
				continue
			case <-c.stopSend:
				return
			}
		}
		if !c.drain(s) {
			return
		}
		// The session is lost; wait for the next one.
		select {
		case <-changed:
		case <-c.stopSend:
			return
		}
	}
}

type flight struct {
	seq uint64
	tok paho.Token
}

// drain publishes waiting reports over s, keeping up to Window of them
// unacknowledged, and removes each from the outbox once its PUBACK came, in
// order. It returns false when stopped, true when s is lost.
func (c *Client) drain(s *session) bool {
	var win []flight
	var last uint64
	for {
		for len(win) < c.opt.Window {
			m, ok := c.box.Next(last)
			if !ok {
				break
			}
			win = append(win, flight{m.seq, s.cli.Publish(m.topic, m.qos, m.retain, m.payload)})
			last = m.seq
		}
		if len(win) == 0 {
			select {
			case <-c.box.notify:
				continue
			case <-s.lost:
				return true
			case <-c.stopSend:
				return false
			}
		}
		select {
		case <-win[0].tok.Done():
		case <-s.lost:
			return true
		case <-c.stopSend:
			return false
		}
		if err := win[0].tok.Error(); err != nil {
			c.setErr(fmt.Errorf("publish: %w", err))
			// Usually the connection is going down; start again from the
			// oldest unacknowledged report on the next connection.
			select {
			case <-s.lost:
				return true
			case <-c.stopSend:
				return false
			case <-time.After(time.Second):
				win, last = nil, 0
				continue
			}
		}
		c.box.Ack(win[0].seq)
		win = win[1:]
	}
}

// nextID returns a unique event id: DEVICE-BOOT-SEQ.
func (c *Client) nextID() string {
	return fmt.Sprintf("%s-%s-%d", c.opt.DeviceID, c.boot, c.evSeq.Add(1))
}

func (c *Client) accepting() bool {
	if c == nil || c.disabled {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed
}

func (c *Client) enqueue(kind Kind, suffix string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		c.log.Error("MQTT report not encodable", "kind", kind, "err", err)
		return
	}
	if err := c.box.Add(kind, c.Topic(suffix), 1, false, body); err != nil {
		c.setErr(err)
		c.log.Warn("MQTT outbox write failed; the report is kept in memory only", "kind", kind, "err", err)
	}
}

// Telemetry queues a telemetry report; the client adds its own counters
// (t.MQTT), the event id and the time when zero.
func (c *Client) Telemetry(t Telemetry) {
	if !c.accepting() {
		return
	}
	t.ID = c.nextID()
	if t.Time.IsZero() {
		t.Time = time.Now().UTC()
	}
	st := c.Stats()
	t.MQTT = &StatsReport{Outbox: st.Outbox, Delivered: st.Delivered, Dropped: st.Dropped,
		Suppressed: st.Suppressed, Reconnects: st.Reconnects}
	c.enqueue(KindTelemetry, "telemetry", t)
}

// Prediction queues a prediction event unless the per-source policy
// (mqtt.predictions.min_interval, on_change) suppresses it; it reports
// whether the event was queued.
func (c *Client) Prediction(p Prediction) bool {
	if !c.accepting() {
		return false
	}
	now := time.Now()
	c.mu.Lock()
	last, seen := c.lastPred[p.Source]
	if seen && ((c.minIntv > 0 && now.Sub(last.at) < c.minIntv) || (c.onChange && last.label == p.Label)) {
		c.suppressed++
		c.mu.Unlock()
		return false
	}
	c.lastPred[p.Source] = predState{at: now, label: p.Label}
	c.mu.Unlock()
	p.ID = c.nextID()
	if p.Top == nil {
		p.Top = []Score{}
	}
	c.enqueue(KindPrediction, "events/prediction", p)
	return true
}

// Retrieval queues a retrieval event (the answer to a query).
func (c *Client) Retrieval(r Retrieval) {
	if !c.accepting() {
		return
	}
	r.ID = c.nextID()
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	if r.Results == nil {
		r.Results = []RetrievalResult{}
	}
	c.enqueue(KindRetrieval, "events/retrieval", r)
}

// Trigger queues a trigger event.
func (c *Client) Trigger(t Trigger) {
	if !c.accepting() {
		return
	}
	t.ID = c.nextID()
	if t.Time.IsZero() {
		t.Time = time.Now().UTC()
	}
	c.enqueue(KindTrigger, "events/trigger", t)
}

// Stats is a snapshot of the client's counters.
type Stats struct {
	// Disabled is true when mqtt.broker is off.
	Disabled bool `json:"disabled,omitempty"`
	// Connected tells whether a connection is up.
	Connected bool `json:"connected"`
	// Published counts reports queued in the outbox since New.
	Published uint64 `json:"published"`
	// Delivered counts reports acknowledged by the broker (PUBACK).
	Delivered uint64 `json:"delivered"`
	// Outbox is the number of reports waiting.
	Outbox int `json:"outbox"`
	// Dropped counts reports dropped by kind, because the outbox was full
	// or they were older than mqtt.outbox.max_age.
	Dropped map[string]uint64 `json:"dropped"`
	// Expired is the part of Dropped due to max_age.
	Expired map[string]uint64 `json:"expired"`
	// Suppressed counts predictions held back by mqtt.predictions.
	Suppressed uint64 `json:"suppressed"`
	// ConnectAttempts counts connection attempts, failed or not.
	ConnectAttempts uint64 `json:"connect_attempts"`
	// Connects counts connections established.
	Connects uint64 `json:"connects"`
	// Reconnects counts connections lost after being established.
	Reconnects uint64 `json:"reconnects"`
	// LastError is the last connection, publish or outbox error.
	LastError string `json:"last_error,omitempty"`
	// LastErrorAt is when LastError happened.
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// CommandsHandled counts commands that reached the handler and succeeded.
	CommandsHandled uint64 `json:"commands_handled"`
	// CommandsFailed counts commands whose handler failed or panicked.
	CommandsFailed uint64 `json:"commands_failed"`
	// CommandsRefused counts commands refused before the handler: malformed,
	// oversized, unknown verb, no handler, or too many waiting.
	CommandsRefused uint64 `json:"commands_refused"`
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	if c == nil {
		return Stats{Disabled: true}
	}
	if c.disabled {
		return Stats{Disabled: true}
	}
	oc := c.box.counts()
	total := map[string]uint64{}
	for k, v := range oc.dropped {
		total[k] += v
	}
	for k, v := range oc.expired {
		total[k] += v
	}
	c.mu.Lock()
	st := Stats{Connected: c.sess != nil, Suppressed: c.suppressed, LastError: c.lastErr, LastErrorAt: c.lastErrAt}
	c.mu.Unlock()
	st.Published, st.Delivered, st.Outbox = oc.added, oc.acked, oc.size
	st.Dropped, st.Expired = total, oc.expired
	st.ConnectAttempts, st.Connects, st.Reconnects = c.attempts.Load(), c.connects.Load(), c.reconnects.Load()
	st.CommandsHandled, st.CommandsFailed, st.CommandsRefused = c.cmdHandled.Load(), c.cmdFailed.Load(), c.cmdRefused.Load()
	if oc.err != nil && st.LastError == "" {
		st.LastError = oc.err.Error()
	}
	return st
}

// Close stops the client: it waits (up to ctx) for the outbox to drain
// while connected, publishes the retained status "stopped", disconnects
// cleanly (so the broker does not send the will) and closes the outbox.
// What was not delivered stays in the outbox for the next start.
func (c *Client) Close(ctx context.Context) error {
	if c == nil || c.disabled {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	started := c.started
	c.mu.Unlock()
	if !started {
		return c.box.Close()
	}
	// Flush what we can.
	for {
		s, changed := c.current()
		if s == nil || c.box.Len() == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-changed:
			continue
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	close(c.stopSend)
	<-c.sendDone
	wait := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = max(time.Until(dl), 100*time.Millisecond)
	}
	c.mu.Lock()
	c.closeWait = wait
	c.mu.Unlock()
	c.cancel() // connectLoop publishes "stopped" and disconnects
	c.wg.Wait()
	var errs []error
	c.mu.Lock()
	if c.closeErr != nil {
		errs = append(errs, c.closeErr)
	}
	c.mu.Unlock()
	if err := c.box.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mqtt close: %w", err)
	}
	return nil
}

// stop ends the connected session s at Close: the retained status
// "stopped", then a clean DISCONNECT (no will).
func (c *Client) stop(s *session) {
	c.mu.Lock()
	wait := c.closeWait
	c.mu.Unlock()
	if wait <= 0 {
		wait = 5 * time.Second
	}
	if err := c.publishStatus(s, "stopped", time.Now(), wait); err != nil {
		c.mu.Lock()
		c.closeErr = err
		c.mu.Unlock()
	}
	s.cli.Disconnect(250)
	c.setSession(nil)
}
