package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// Defaults applied by New to zero fields of config.MQTT.
const (
	DefaultTopicPrefix     = "mocoedge"
	DefaultEmbeddedAddr    = "127.0.0.1:1883"
	DefaultMaxMessages     = 10000
	DefaultMaxAge          = 24 * time.Hour
	DefaultMaxPayloadBytes = 1 << 20
	DefaultHAPrefix        = "homeassistant"
)

// Options configures a Client.
type Options struct {
	// Config is the mqtt section of the daemon's configuration. Broker is
	// "embedded" (connect to tcp://EmbeddedAddr; the daemon starts the broker
	// itself with StartBroker), "off" (a client that publishes nothing) or a
	// comma-separated list of broker URLs (tcp://, mqtt://, ssl://, tls://,
	// mqtts://, ws://, wss://), tried in order.
	Config config.MQTT
	// DeviceID is the MQTT client id and the second topic segment. Required.
	DeviceID string
	// DataDir holds the outbox, in DataDir/outbox. Required unless Broker is off.
	DataDir string
	// Version is the daemon's version, reported in status.
	Version string
	// Logger receives connection changes and errors (default: slog.Default()).
	Logger *slog.Logger
	// Handler runs commands received on cmd/VERB; nil refuses every command.
	Handler Handler
	// StatusFunc, when set, gives the model and provider reported in status
	// (it takes precedence over SetStatus).
	StatusFunc func() (model, provider string)

	// MinBackoff is the first wait after a failed connection (default 1s);
	// it doubles up to MaxBackoff (default 1 min), with ±20% jitter.
	MinBackoff time.Duration
	// MaxBackoff bounds the wait between connection attempts.
	MaxBackoff time.Duration
	// SyncInterval is how often the outbox is fsynced when it changed
	// (default 1s): a power cut loses at most this much of reports.
	SyncInterval time.Duration
	// Window is how many reports may wait for their PUBACK at once
	// (default 8). Reports are always published in order.
	Window int
	// CommandWorkers is how many commands may run at once (default 2);
	// up to 32 more wait, beyond that commands are refused as busy.
	CommandWorkers int
}

// ErrConfig marks a configuration error: New fails with it (wrapped) when
// an option is invalid or a TLS file is missing or unreadable.
var ErrConfig = errors.New("mqtt configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// withDefaults returns o with defaults in its zero fields.
func (o Options) withDefaults() Options {
	c := &o.Config
	if c.Broker == "" {
		c.Broker = "embedded"
	}
	if c.EmbeddedAddr == "" {
		c.EmbeddedAddr = DefaultEmbeddedAddr
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if c.Outbox.MaxMessages <= 0 {
		c.Outbox.MaxMessages = DefaultMaxMessages
	}
	if c.Outbox.MaxAge <= 0 {
		c.Outbox.MaxAge = config.Duration(DefaultMaxAge)
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.HomeAssistant.Prefix == "" {
		c.HomeAssistant.Prefix = DefaultHAPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = time.Second
	}
	if o.Window <= 0 {
		o.Window = 8
	}
	if o.CommandWorkers <= 0 {
		o.CommandWorkers = 2
	}
	return o
}

// brokerURLs turns mqtt.broker into the list of URLs to try.
func brokerURLs(c config.MQTT) ([]string, error) {
	if strings.EqualFold(strings.TrimSpace(c.Broker), "embedded") {
		return []string{"tcp://" + c.EmbeddedAddr}, nil
	}
	var out []string
	for _, s := range strings.Split(c.Broker, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil {
			return nil, configError("mqtt.broker %q: %v", s, err)
		}
		switch strings.ToLower(u.Scheme) {
		case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
		default:
			return nil, configError("mqtt.broker %q: scheme must be tcp, mqtt, ssl, tls, mqtts, ws or wss", s)
		}
		if u.Host == "" {
			return nil, configError("mqtt.broker %q: no host", s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, configError("mqtt.broker is empty (want embedded, off or broker URLs)")
	}
	return out, nil
}

// tlsConfig builds the client's TLS configuration from the files named in
// mqtt.tls; nil when none is set and no URL needs TLS.
func tlsConfig(t config.TLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user's explicit choice, for testing
	if t.CA != "" {
		data, err := readPEM("mqtt.tls.ca", t.CA, "CERTIFICATE")
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, configError("mqtt.tls.ca %s: no usable certificate in the PEM file", t.CA)
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.Cert != "" && t.Key != "":
		certPEM, err := readPEM("mqtt.tls.cert", t.Cert, "CERTIFICATE")
		if err != nil {
			return nil, err
		}
		keyPEM, err := readPEM("mqtt.tls.key", t.Key, "PRIVATE KEY")
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, configError("mqtt.tls.cert %s and mqtt.tls.key %s: %v", t.Cert, t.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case t.Cert != "":
		return nil, configError("mqtt.tls.cert %s is set but mqtt.tls.key is not", t.Cert)
	case t.Key != "":
		return nil, configError("mqtt.tls.key %s is set but mqtt.tls.cert is not", t.Key)
	}
	return cfg, nil
}

// readPEM reads a PEM file and checks that it holds a block whose type ends
// in want (so "PRIVATE KEY" accepts RSA and EC keys too).
func readPEM(setting, path, want string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configError("%s: %v", setting, err)
	}
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, configError("%s %s: not a PEM file with a %s block", setting, path, want)
		}
		if strings.HasSuffix(blk.Type, want) {
			return data, nil
		}
	}
}
