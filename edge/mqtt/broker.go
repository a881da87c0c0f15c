package mqtt

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is the embedded MQTT broker (mochi-mqtt), the zero-setup default
// for a single device. Clients, this package's included, reach it over TCP
// like any other broker.
type Broker struct {
	srv       *mochi.Server
	addr      string
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
}

// ErrInsecureBroker is returned by StartBroker for an address beyond
// loopback without a username and password.
var ErrInsecureBroker = errors.New("embedded MQTT broker: listening beyond loopback requires mqtt.username and mqtt.password")

// StartBroker starts the embedded broker on addr (host:port; port 0 picks a
// free one, see Addr). On a loopback address (127.0.0.0/8, ::1, localhost)
// credentials are optional; on any other address, including ":1883" (every
// interface), username and password are required. When they are set every
// client must present them. The broker stops when ctx ends or on Close.
func StartBroker(ctx context.Context, addr, username, password string, logger *slog.Logger) (*Broker, error) {
	if logger == nil {
		logger = slog.Default()
	}
	loopback, err := isLoopback(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded MQTT broker %q: %w", addr, err)
	}
	if (username == "") != (password == "") {
		return nil, fmt.Errorf("embedded MQTT broker %s: set both mqtt.username and mqtt.password, or neither", addr)
	}
	if !loopback && username == "" {
		return nil, fmt.Errorf("%w (address %s)", ErrInsecureBroker, addr)
	}
	srv := mochi.New(&mochi.Options{Logger: logger.With("component", "mqtt-broker"), InlineClient: false})
	if username != "" {
		err = srv.AddHook(&credentialsHook{user: []byte(username), pass: []byte(password)}, nil)
	} else {
		err = srv.AddHook(new(auth.AllowHook), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded MQTT broker: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("embedded MQTT broker: listen on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("embedded MQTT broker: %w", err)
	}
	b := &Broker{srv: srv, addr: tcp.Address(), stop: make(chan struct{})}
	logger.Info("embedded MQTT broker listening", "addr", b.addr, "auth", username != "")
	go func() {
		select {
		case <-ctx.Done():
			_ = b.Close()
		case <-b.stop:
		}
	}()
	return b, nil
}

// Addr returns the address the broker listens on (with the real port when
// 0 was asked for).
func (b *Broker) Addr() string { return b.addr }

// URL returns tcp://Addr, the broker URL for clients.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		if err := b.srv.Close(); err != nil {
			b.closeErr = fmt.Errorf("embedded MQTT broker: close: %w", err)
		}
	})
	return b.closeErr
}

// isLoopback tells whether addr's host is a loopback address.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// credentialsHook admits only clients with the configured username and
// password (compared in constant time). mochi's auth ledger is not used
// because its rule strings treat "*" as a wildcard, which would let a
// password containing "*" match other passwords.
type credentialsHook struct {
	mochi.HookBase
	user, pass []byte
}

// ID names the hook.
func (h *credentialsHook) ID() string { return "mocoedge-credentials" }

// Provides reports the hook's methods.
func (h *credentialsHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnConnectAuthenticate, mochi.OnACLCheck}, []byte{b})
}

// OnConnectAuthenticate checks the CONNECT packet's credentials.
func (h *credentialsHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	u := subtle.ConstantTimeCompare(pk.Connect.Username, h.user)
	p := subtle.ConstantTimeCompare(pk.Connect.Password, h.pass)
	return u&p == 1
}

// OnACLCheck allows every topic to authenticated clients.
func (h *credentialsHook) OnACLCheck(*mochi.Client, string, bool) bool { return true }
