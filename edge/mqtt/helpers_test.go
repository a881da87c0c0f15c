package mqtt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/freeport"

	"github.com/mocoedge/mocoedge/internal/syncbuf"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mocoedge/mocoedge/edge/config"
)

const (
	testUser = "edge"
	testPass = "s3cret*pass"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf certificate for 127.0.0.1 (server) or a client.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mosquitto is a real Mosquitto broker run by a test, with a password file,
// a plain listener and a TLS listener on loopback, and persistence (so a
// restart keeps sessions and queued messages).
type mosquitto struct {
	t       *testing.T
	dir     string
	port    int
	tlsPort int
	conf    string
	ca      *testCA
	caFile  string
	mu      sync.Mutex
	cmd     *exec.Cmd
	log     *bytes.Buffer
}

func startMosquitto(t *testing.T) *mosquitto {
	t.Helper()
	bin := "/usr/sbin/mosquitto"
	if _, err := os.Stat(bin); err != nil {
		p, err := exec.LookPath("mosquitto")
		if err != nil {
			t.Skip("mosquitto is not installed")
		}
		bin = p
	}
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd is not installed")
	}
	dir := t.TempDir()
	m := &mosquitto{t: t, dir: dir, port: freePort(t), tlsPort: freePort(t)}
	pw := filepath.Join(dir, "passwd")
	if out, err := exec.Command(passwd, "-c", "-b", pw, testUser, testPass).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	m.ca = newCA(t, "mocoedge test CA")
	m.caFile = writeFile(t, filepath.Join(dir, "ca.pem"), m.ca.certPEM)
	crt, key := m.ca.issue(t, "127.0.0.1", true)
	crtFile := writeFile(t, filepath.Join(dir, "server.pem"), crt)
	keyFile := writeFile(t, filepath.Join(dir, "server.key"), key)
	m.conf = filepath.Join(dir, "mosquitto.conf")
	conf := fmt.Sprintf(`user root
per_listener_settings false
allow_anonymous false
password_file %s
persistence true
persistence_location %s/
autosave_interval 0
max_queued_messages 100000
max_inflight_messages 0
log_dest stderr
log_type error
log_type warning
listener %d 127.0.0.1
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
`, pw, dir, m.port, m.tlsPort, m.caFile, crtFile, keyFile)
	writeFile(t, m.conf, []byte(conf))
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *mosquitto) url() string    { return fmt.Sprintf("tcp://127.0.0.1:%d", m.port) }
func (m *mosquitto) tlsURL() string { return fmt.Sprintf("ssl://127.0.0.1:%d", m.tlsPort) }

func (m *mosquitto) start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return
	}
	m.log = new(bytes.Buffer)
	cmd := exec.Command("/usr/sbin/mosquitto", "-c", m.conf)
	cmd.Stderr = m.log
	cmd.Stdout = m.log
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	m.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Fatalf("mosquitto did not start: %s", m.log)
}

// stop ends Mosquitto with SIGTERM (it saves its persistence file).
func (m *mosquitto) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
	m.cmd = nil
}

// testConfig returns an mqtt configuration for broker url.
func testConfig(url string) config.MQTT {
	return config.MQTT{
		Broker:      url,
		Username:    testUser,
		Password:    testPass,
		TopicPrefix: "mocoedge",
		Outbox:      config.Outbox{MaxMessages: 10000, MaxAge: config.Duration(time.Hour)},
	}
}

// logBuffer is a log sink safe for concurrent use.
type logBuffer = syncbuf.Buffer

func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	buf := new(logBuffer)
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// newTestClient makes and starts a client with fast back-off.
func newTestClient(t *testing.T, cfg config.MQTT, dev, dataDir string, h Handler) (*Client, *logBuffer) {
	t.Helper()
	lg, buf := testLogger(t)
	c, err := New(Options{Config: cfg, DeviceID: dev, DataDir: dataDir, Version: "test", Logger: lg,
		Handler: h, MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, SyncInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c, buf
}

// subscriber is a plain paho client that records messages.
type subscriber struct {
	cli paho.Client
	ch  chan paho.Message
}

// subscribe connects a subscriber (persistent session when id is given) to
// url and subscribes to filter with QoS 1.
func subscribe(t *testing.T, url, id, filter string) *subscriber {
	t.Helper()
	s := &subscriber{ch: make(chan paho.Message, 100000)}
	o := paho.NewClientOptions().AddBroker(url).SetUsername(testUser).SetPassword(testPass).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).SetProtocolVersion(4).SetOrderMatters(true)
	if id != "" {
		o.SetClientID(id).SetCleanSession(false).SetResumeSubs(true)
	} else {
		o.SetClientID(fmt.Sprintf("sub-%d", time.Now().UnixNano()))
	}
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { s.ch <- m })
	o.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { s.ch <- m })
	})
	s.cli = paho.NewClient(o)
	tok := s.cli.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	// Wait for the subscription by a round trip through the broker.
	time.Sleep(100 * time.Millisecond)
	t.Cleanup(func() { s.cli.Disconnect(0) })
	return s
}

// next returns the next message whose topic has suffix, or fails.
func (s *subscriber) next(t *testing.T, suffix string, d time.Duration) paho.Message {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-s.ch:
			if strings.HasSuffix(m.Topic(), suffix) {
				return m
			}
		case <-deadline:
			t.Fatalf("no message on *%s within %v", suffix, d)
			return nil
		}
	}
}

// nextJSON is next, decoded into a map.
func (s *subscriber) nextJSON(t *testing.T, suffix string, d time.Duration) map[string]any {
	t.Helper()
	m := s.next(t, suffix, d)
	var v map[string]any
	if err := json.Unmarshal(m.Payload(), &v); err != nil {
		t.Fatalf("payload on %s is not JSON: %v: %s", m.Topic(), err, m.Payload())
	}
	return v
}

// publish sends one message with a throw-away client.
func publish(t *testing.T, url, topic string, payload []byte) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetUsername(testUser).SetPassword(testPass).
		SetClientID(fmt.Sprintf("pub-%d", time.Now().UnixNano())).SetProtocolVersion(4)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
