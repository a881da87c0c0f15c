package deploy_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/freeport"

	"github.com/mocoedge/mocoedge/internal/syncbuf"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/mocoedge/mocoedge/edge/config"
)

// tool returns the path of an external program, or skips the test.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return filepath.Join(dir, name)
			}
		}
		t.Fatalf("%s is not installed: make test installs it (deploy/install-deps.sh)", name)
	}
	return p
}

// writeFile writes data to path or fails the test.
func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

// --- Shell scripts ---------------------------------------------------------

func TestShellcheck(t *testing.T) {
	sc := tool(t, "shellcheck")
	var scripts []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sh") {
			scripts = append(scripts, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"install-deps.sh", "fetch-onnxruntime.sh", "jetson/install.sh"} {
		if !slices.Contains(scripts, want) {
			t.Errorf("%s not found among %v", want, scripts)
		}
	}
	out, err := exec.Command(sc, append([]string{"--external-sources"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck %s: %v\n%s", strings.Join(scripts, " "), err, out)
	}
}

// --- systemd units -----------------------------------------------------------

var units = []string{"mocoedge-edge.service", "mocoedge-fwbridge.service", "mocoedge.target"}

// verifyUnits copies the units into a temporary folder with ExecStart
// pointing at a dummy executable (verify requires it to exist), applies
// edit to each file's text, and returns systemd-analyze verify's output.
func verifyUnits(t *testing.T, edit func(name, text string) string) (string, error) {
	t.Helper()
	analyze := tool(t, "systemd-analyze")
	dir := t.TempDir()
	dummy := filepath.Join(dir, "bin", "dummy")
	writeFile(t, dummy, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("/usr/local/bin/edge ", dummy+" ", "/usr/local/bin/fwbridge ", dummy+" ").Replace(string(b))
		if strings.Contains(text, "/usr/local/bin/") {
			t.Fatalf("%s: an ExecStart path the test does not rewrite", u)
		}
		if edit != nil {
			text = edit(u, text)
		}
		p := filepath.Join(dir, u)
		writeFile(t, p, []byte(text), 0o644)
		paths = append(paths, p)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestSystemdUnitsVerify(t *testing.T) {
	out, err := verifyUnits(t, nil)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The check is meaningful: a misspelt directive or a bad value is caught.
	for _, c := range []struct{ from, to, want string }{
		{"ProtectSystem=strict", "ProtectSytem=strict", "Unknown key"},
		{"WatchdogSec=30", "WatchdogSec=thirty", "thirty"},
		{"DevicePolicy=closed", "DevicePolicy=shut", "shut"},
	} {
		out, err := verifyUnits(t, func(name, text string) string {
			if name != "mocoedge-edge.service" {
				return text
			}
			if !strings.Contains(text, c.from) {
				t.Fatalf("mocoedge-edge.service lacks %q", c.from)
			}
			return strings.Replace(text, c.from, c.to, 1)
		})
		if (err == nil && strings.TrimSpace(out) == "") || !strings.Contains(out, c.want) {
			t.Errorf("verify missed %q (err %v):\n%s", c.to, err, out)
		}
	}
}

// unitDirectives parses a unit file into section.key -> values.
func unitDirectives(t *testing.T, name string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("systemd", name))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			m[section+"."+k] = append(m[section+"."+k], v)
		}
	}
	return m
}

func TestSystemdUnitsHardening(t *testing.T) {
	common := map[string]string{
		"Unit.StartLimitIntervalSec": "", "Unit.StartLimitBurst": "",
		"Service.Restart": "on-failure", "Service.RestartSec": "",
		"Service.User": "mocoedge", "Service.ProtectSystem": "strict",
		"Service.ReadWritePaths": "%S/mocoedge", "Service.StateDirectory": "",
		"Service.NoNewPrivileges": "yes", "Service.PrivateTmp": "yes", "Service.ProtectHome": "yes",
		"Service.ProtectKernelTunables": "yes", "Service.ProtectKernelModules": "yes",
		"Service.ProtectKernelLogs": "yes", "Service.DevicePolicy": "closed",
		"Service.RestrictAddressFamilies": "",
	}
	for _, c := range []struct {
		unit    string
		want    map[string]string
		devices []string
	}{
		{"mocoedge-edge.service", map[string]string{
			"Service.Type": "notify", "Service.WatchdogSec": "30", "Service.NotifyAccess": "main",
			"Service.EnvironmentFile": "-%E/mocoedge/edge.env", "Service.SupplementaryGroups": "video dialout",
		}, []string{"char-video4linux rw", "/dev/nvmap rw", "/dev/nvhost-ctrl-gpu rw", "/dev/nvidiactl rw", "/dev/host1x-fence rw"}},
		{"mocoedge-fwbridge.service", map[string]string{
			"Service.SupplementaryGroups": "dialout", "Service.RestrictAddressFamilies": "AF_UNIX",
		}, []string{"char-ttyUSB rw", "char-ttyACM rw", "char-ttyTHS rw"}},
	} {
		d := unitDirectives(t, c.unit)
		for k, v := range common {
			if _, ok := c.want[k]; !ok {
				c.want[k] = v
			}
		}
		for k, v := range c.want {
			got := d[k]
			if len(got) == 0 || (v != "" && got[len(got)-1] != v) {
				t.Errorf("%s: %s = %q, want %q", c.unit, k, got, v)
			}
		}
		for _, dev := range c.devices {
			if !slices.Contains(d["Service.DeviceAllow"], dev) {
				t.Errorf("%s: no DeviceAllow=%s", c.unit, dev)
			}
		}
		if rw := d["Service.ReadWritePaths"]; len(rw) != 1 {
			t.Errorf("%s: ReadWritePaths %q, want only %%S/mocoedge", c.unit, rw)
		}
	}
}

// --- Mosquitto: configuration and ACL against a real broker -----------------

// testCA makes a CA and a server certificate for 127.0.0.1, as PEM files in
// dir; it returns the CA pool and the file paths.
func testCA(t *testing.T, dir string) (pool *x509.CertPool, ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mocoedge deploy test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	writeFile(t, ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	writeFile(t, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o644)
	writeFile(t, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kDER}), 0o600)
	pool = x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, ca, cert, key
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// broker is Mosquitto started from a rewritten copy of mosquitto.conf.
type broker struct {
	plain, tls int
	pool       *x509.CertPool
	password   map[string]string
}

// startBroker runs deploy/mosquitto/mosquitto.conf with its acl file, only
// paths and ports rewritten for a test: its own certificates, password file,
// persistence folder and free loopback ports.
func startBroker(t *testing.T) *broker {
	t.Helper()
	bin := tool(t, "mosquitto")
	passwd := tool(t, "mosquitto_passwd")
	dir := t.TempDir()
	b := &broker{plain: freePort(t), tls: freePort(t), password: map[string]string{
		"devA": "pw-devA", "devB": "pw-devB", "dashboard": "pw-dashboard",
	}}
	var ca, cert, key string
	b.pool, ca, cert, key = testCA(t, dir)
	pwFile := filepath.Join(dir, "passwd")
	first := true
	for _, u := range []string{"devA", "devB", "dashboard"} {
		args := []string{"-b", pwFile, u, b.password[u]}
		if first {
			args = append([]string{"-c"}, args...)
			first = false
		}
		if out, err := exec.Command(passwd, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %v: %v\n%s", args, err, out)
		}
	}
	acl, err := filepath.Abs(filepath.Join("mosquitto", "acl"))
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// Every line the rewrite touches must exist, so the test follows the file.
	rewrite := map[string]string{
		"pid_file ":             "pid_file " + filepath.Join(dir, "mosquitto.pid"),
		"user ":                 "user " + me.Username, // ignored unless run as root
		"password_file ":        "password_file " + pwFile,
		"acl_file ":             "acl_file " + acl,
		"persistence_location ": "persistence_location " + dir + "/",
		"log_dest ":             "log_dest stderr",
		"listener 1883 ":        fmt.Sprintf("listener %d 127.0.0.1", b.plain),
		"listener 8883":         fmt.Sprintf("listener %d 127.0.0.1", b.tls),
		"cafile ":               "cafile " + ca,
		"certfile ":             "certfile " + cert,
		"keyfile ":              "keyfile " + key,
	}
	src, err := os.ReadFile(filepath.Join("mosquitto", "mosquitto.conf"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var conf strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		for prefix, repl := range rewrite {
			if strings.HasPrefix(line, prefix) {
				line, seen[prefix] = repl, true
				break
			}
		}
		conf.WriteString(line + "\n")
	}
	for prefix := range rewrite {
		if !seen[prefix] {
			t.Fatalf("mosquitto.conf has no %q line", prefix)
		}
	}
	for _, want := range []string{"allow_anonymous false", "persistence true", "per_listener_settings false"} {
		if !strings.Contains(string(src), "\n"+want+"\n") {
			t.Errorf("mosquitto.conf lacks %q", want)
		}
	}
	confFile := filepath.Join(dir, "mosquitto.conf")
	writeFile(t, confFile, []byte(conf.String()), 0o644)

	var log syncBuffer
	cmd := exec.Command(bin, "-c", confFile)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range []int{b.plain, b.tls} {
		for {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				t.Fatalf("mosquitto -c mosquitto.conf (rewritten) exited:\n%s\n--- config:\n%s", log.String(), conf.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("mosquitto did not listen on %d:\n%s", port, log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return b
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer = syncbuf.Buffer

// client is a paho client that records every message it receives.
type client struct {
	name string
	cli  paho.Client
	got  chan string
}

func (b *broker) connect(t *testing.T, name, password string, useTLS bool) (*client, error) {
	t.Helper()
	url := fmt.Sprintf("tcp://127.0.0.1:%d", b.plain)
	if useTLS {
		url = fmt.Sprintf("ssl://127.0.0.1:%d", b.tls)
	}
	c := &client{name: name, got: make(chan string, 100)}
	opts := paho.NewClientOptions().AddBroker(url).
		SetClientID(fmt.Sprintf("%s-test-%v", name, useTLS)).
		SetUsername(name).SetPassword(password).
		SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(5 * time.Second).SetCleanSession(true).
		SetTLSConfig(&tls.Config{RootCAs: b.pool, MinVersion: tls.VersionTLS12}).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { c.got <- m.Topic() })
	c.cli = paho.NewClient(opts)
	tok := c.cli.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("connect %s: timeout", name)
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.cli.Disconnect(100) })
	return c, nil
}

func (c *client) subscribe(t *testing.T, filter string) {
	t.Helper()
	tok := c.cli.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: subscribe %s: %v", c.name, filter, tok.Error())
	}
	if qos := tok.(*paho.SubscribeToken).Result()[filter]; qos > 2 {
		t.Fatalf("%s: subscribe %s refused by the broker (SUBACK %#x)", c.name, filter, qos)
	}
}

func (c *client) publish(t *testing.T, topic string) {
	t.Helper()
	tok := c.cli.Publish(topic, 1, false, `{"request":"deploy-test"}`)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: publish %s: %v", c.name, topic, tok.Error())
	}
}

// receivedUntil returns the topics c receives up to and including sentinel.
func (c *client) receivedUntil(t *testing.T, sentinel string) []string {
	t.Helper()
	var got []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case topic := <-c.got:
			got = append(got, topic)
			if topic == sentinel {
				return got
			}
		case <-timeout:
			t.Fatalf("%s never received %s (got %v)", c.name, sentinel, got)
		}
	}
}

// expect checks that got holds exactly want, in any order.
func expect(t *testing.T, who, step string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: %s received %v, want %v", step, who, got, want)
	}
}

func TestMosquittoACL(t *testing.T) {
	b := startBroker(t)
	must := func(c *client, err error) *client {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dash := must(b.connect(t, "dashboard", b.password["dashboard"], false))
	devA := must(b.connect(t, "devA", b.password["devA"], false))
	devB := must(b.connect(t, "devB", b.password["devB"], false))
	dash.subscribe(t, "mocoedge/#")
	devA.subscribe(t, "mocoedge/devA/cmd/+") // what the edge daemon subscribes to
	devA.subscribe(t, "mocoedge/+/cmd/#")    // a device trying to read other devices' commands
	devA.subscribe(t, "mocoedge/devB/telemetry")

	// Authentication: no anonymous clients, no wrong passwords.
	if _, err := b.connect(t, "devA", "wrong", false); err == nil {
		t.Error("devA connected with a wrong password")
	}
	if _, err := b.connect(t, "", "", false); err == nil {
		t.Error("an anonymous client connected")
	}

	// Devices publish under their own id only. Each step ends with an
	// allowed message from the same publisher: delivery is in order, so a
	// denied message that got through would have arrived before it.
	devA.publish(t, "mocoedge/devB/telemetry")
	devA.publish(t, "mocoedge/devA/cmd/train") // commands are not a device's to send
	devA.publish(t, "mocoedge/devA/telemetry")
	expect(t, "dashboard", "devA publishing", dash.receivedUntil(t, "mocoedge/devA/telemetry"),
		[]string{"mocoedge/devA/telemetry"})
	devA.publish(t, "mocoedge/devA/status")
	devA.publish(t, "mocoedge/devA/events/prediction")
	devA.publish(t, "mocoedge/devA/cmd/train/result")
	expect(t, "dashboard", "devA reports", dash.receivedUntil(t, "mocoedge/devA/cmd/train/result"),
		[]string{"mocoedge/devA/status", "mocoedge/devA/events/prediction", "mocoedge/devA/cmd/train/result"})
	devB.publish(t, "mocoedge/devB/telemetry")
	expect(t, "dashboard", "devB publishing", dash.receivedUntil(t, "mocoedge/devB/telemetry"),
		[]string{"mocoedge/devB/telemetry"})

	// The dashboard sends commands and nothing else; a device reads only
	// its own commands.
	dash.publish(t, "mocoedge/devB/cmd/train")
	dash.publish(t, "mocoedge/devA/telemetry")
	dash.publish(t, "mocoedge/devA/cmd/train/result")
	dash.publish(t, "mocoedge/devA/cmd/train")
	expect(t, "dashboard", "dashboard publishing", dash.receivedUntil(t, "mocoedge/devA/cmd/train"),
		[]string{"mocoedge/devB/cmd/train", "mocoedge/devA/cmd/train"})
	// devA holds two matching subscriptions, so it may get its command twice;
	// everything it got must be under its own cmd/ (which includes the
	// result it published itself above).
	got := devA.receivedUntil(t, "mocoedge/devA/cmd/train")
	time.Sleep(100 * time.Millisecond)
	for len(devA.got) > 0 {
		got = append(got, <-devA.got)
	}
	for _, topic := range got {
		if !strings.HasPrefix(topic, "mocoedge/devA/cmd/") {
			t.Errorf("devA received %s", topic)
		}
	}

	// The TLS listener works with the same users and rules.
	devAtls := must(b.connect(t, "devA", b.password["devA"], true))
	devAtls.publish(t, "mocoedge/devA/events/trigger")
	expect(t, "dashboard", "devA over TLS", dash.receivedUntil(t, "mocoedge/devA/events/trigger"),
		[]string{"mocoedge/devA/events/trigger"})
}

// --- Dashboards: topics against the MQTT contract ---------------------------

// agentTopic is one topic of the contract (ARCHITECTURE.md, MQTT topics):
// out topics the daemon publishes, in topics it subscribes to.
type agentTopic struct {
	filter string
	out    bool
}

// contract derives the agent's topics from the table: prefix mocoedge, any
// device id.
func contract() []agentTopic {
	ts := []agentTopic{
		{"mocoedge/+/status", true},
		{"mocoedge/+/telemetry", true},
		{"mocoedge/+/events/prediction", true},
		{"mocoedge/+/events/retrieval", true},
		{"mocoedge/+/events/trigger", true},
	}
	for _, verb := range []string{"label", "train", "query", "reload", "snapshot", "config"} {
		ts = append(ts, agentTopic{"mocoedge/+/cmd/" + verb, false}, agentTopic{"mocoedge/+/cmd/" + verb + "/result", true})
	}
	return ts
}

// overlap reports whether some topic matches both MQTT filters a and b.
func overlap(a, b string) bool {
	x, y := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; ; i++ {
		switch {
		case i == len(x) && i == len(y):
			return true
		case i < len(x) && x[i] == "#", i < len(y) && y[i] == "#":
			return true
		case i == len(x) || i == len(y):
			return false
		case x[i] != "+" && y[i] != "+" && x[i] != y[i]:
			return false
		}
	}
}

// checkTopic fails unless topic (a filter for subscribers, a name for
// publishers) meets the contract: a subscriber must match something the
// agent publishes, a publisher something the agent subscribes to.
func checkTopic(t *testing.T, where, topic string, publish bool) {
	t.Helper()
	if topic == "" {
		t.Errorf("%s: empty topic", where)
		return
	}
	if publish && strings.ContainsAny(topic, "+#") {
		t.Errorf("%s: publishes to a wildcard topic %q", where, topic)
	}
	for _, a := range contract() {
		if a.out != publish && overlap(topic, a.filter) {
			return
		}
	}
	dir := "the agent publishes"
	if publish {
		dir = "the agent subscribes to"
	}
	t.Errorf("%s: topic %q matches nothing %s", where, topic, dir)
}

func TestOverlap(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"mocoedge/+/status", "mocoedge/+/status", true},
		{"mocoedge/dev1/status", "mocoedge/+/status", true},
		{"mocoedge/#", "mocoedge/+/cmd/train", true},
		{"mocoedge/+/events/#", "mocoedge/+/events/prediction", true},
		{"mocoedge/+/cmd/+/result", "mocoedge/+/cmd/train/result", true},
		{"mocoedge/+/cmd/+", "mocoedge/+/cmd/train/result", false},
		{"mocoedge/+/telemetry", "mocoedge/+/status", false},
		{"mocoedge/+/status/x", "mocoedge/+/status", false},
		{"mocoedge2/+/status", "mocoedge/+/status", false},
	} {
		if got := overlap(c.a, c.b); got != c.want || overlap(c.b, c.a) != c.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestNodeREDFlow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("dashboards", "node-red-flow.json"))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []map[string]any
	if err := json.Unmarshal(b, &nodes); err != nil {
		t.Fatalf("node-red-flow.json: %v", err)
	}
	ids := map[string]bool{}
	for _, n := range nodes {
		id, _ := n["id"].(string)
		if id == "" || ids[id] {
			t.Errorf("node with missing or repeated id %q", id)
		}
		ids[id] = true
	}
	var subscribed, published []string
	types := map[string]int{}
	for _, n := range nodes {
		typ, _ := n["type"].(string)
		types[typ]++
		wires, _ := n["wires"].([]any)
		for _, out := range wires {
			for _, w := range out.([]any) {
				if !ids[w.(string)] {
					t.Errorf("%s node %v wired to missing node %v", typ, n["id"], w)
				}
			}
		}
		if z, ok := n["z"].(string); ok && !ids[z] {
			t.Errorf("%s node %v on a missing tab %s", typ, n["id"], z)
		}
		topic, _ := n["topic"].(string)
		switch typ {
		case "mqtt in":
			checkTopic(t, "node-red mqtt in "+n["name"].(string), topic, false)
			subscribed = append(subscribed, topic)
		case "mqtt out":
			checkTopic(t, "node-red mqtt out "+n["name"].(string), topic, true)
			published = append(published, topic)
		}
		if strings.HasPrefix(typ, "mqtt ") && !ids[fmt.Sprint(n["broker"])] {
			t.Errorf("%s node %v names a missing broker", typ, n["id"])
		}
	}
	for _, want := range []string{"mocoedge/+/status", "mocoedge/+/telemetry", "mocoedge/+/events/prediction"} {
		if !slices.Contains(subscribed, want) {
			t.Errorf("no mqtt in node on %s (have %v)", want, subscribed)
		}
	}
	if len(published) == 0 || !strings.HasSuffix(published[0], "/cmd/train") {
		t.Errorf("no mqtt out node sending cmd/train (have %v)", published)
	}
	for _, typ := range []string{"json", "inject", "debug", "mqtt-broker"} {
		if types[typ] == 0 {
			t.Errorf("no %s node", typ)
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("dashboards", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	vars := regexp.MustCompile(`\$\{device(:[a-z]+)?\}|\$device\b|\[\[device\]\]`)
	var topics []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "topic" {
					topics = append(topics, s)
				}
				if k == "datasource" {
					if ds, ok := x.(map[string]any); ok && ds["type"] != "grafana-mqtt-datasource" {
						t.Errorf("datasource %v is not grafana-mqtt-datasource", ds)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dash)
	for _, topic := range topics {
		if !strings.Contains(topic, "device") {
			t.Errorf("topic %q does not use the device variable", topic)
		}
		checkTopic(t, "grafana", vars.ReplaceAllString(topic, "+"), false)
	}
	for _, want := range []string{"/status", "/telemetry", "/events/prediction"} {
		if !slices.ContainsFunc(topics, func(s string) bool { return strings.HasSuffix(s, want) }) {
			t.Errorf("no panel reads %s (topics %v)", want, topics)
		}
	}
	templating, _ := dash["templating"].(map[string]any)
	list, _ := templating["list"].([]any)
	if !slices.ContainsFunc(list, func(v any) bool { return v.(map[string]any)["name"] == "device" }) {
		t.Error("no device template variable")
	}
	var titles []string
	for _, p := range dash["panels"].([]any) {
		titles = append(titles, fmt.Sprint(p.(map[string]any)["title"]))
	}
	for _, want := range []string{"status", "frames per second", "latency p50 / p95 / p99", "predictions", "probe accuracy"} {
		if !slices.Contains(titles, want) {
			t.Errorf("no %q panel (have %v)", want, titles)
		}
	}
}

// --- deploy/jetson/install.sh -------------------------------------------------

// installFixture makes a binaries folder (a fake edge printing the real
// default configuration) and an ONNX Runtime folder; cpuOnly leaves the GPU
// providers out.
func installFixture(t *testing.T, cpuOnly bool) (bin, ort string) {
	t.Helper()
	dir := t.TempDir()
	bin, ort = filepath.Join(dir, "bin"), filepath.Join(dir, "onnxruntime", "lib")
	var def bytes.Buffer
	if err := config.WriteDefault(&def); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "default.yaml"), def.Bytes(), 0o644)
	writeFile(t, filepath.Join(bin, "edge"), []byte(`#!/bin/sh
[ "$*" = "config --print-default" ] || exit 2
exec cat "$(dirname "$0")/../default.yaml"
`), 0o755)
	writeFile(t, filepath.Join(bin, "fwbridge"), []byte("#!/bin/sh\n"), 0o755)
	libs := []string{"libonnxruntime.so.1.24.1", "libonnxruntime_providers_shared.so"}
	if !cpuOnly {
		libs = append(libs, "libonnxruntime_providers_cuda.so", "libonnxruntime_providers_tensorrt.so")
	}
	for _, l := range libs {
		writeFile(t, filepath.Join(ort, l), []byte("fake "+l), 0o644)
	}
	if err := os.Symlink("libonnxruntime.so.1.24.1", filepath.Join(ort, "libonnxruntime.so")); err != nil {
		t.Fatal(err)
	}
	return bin, filepath.Dir(ort) // the script finds DIR/lib itself
}

func runInstall(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	tool(t, "bash")
	cmd := exec.Command(filepath.Join("jetson", "install.sh"), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestInstallDryRun(t *testing.T) {
	bin, ort := installFixture(t, false)
	root := t.TempDir()
	out, errOut, err := runInstall(t, "--dry-run", "--root", root, "--bin", bin, "--ort", ort, "--enable-fwbridge")
	if err != nil {
		t.Fatalf("install.sh --dry-run: %v\n%s%s", err, out, errOut)
	}
	ortDest := root + "/usr/local/lib/mocoedge/onnxruntime"
	for _, want := range []string{
		"+ install -m 0755 " + bin + "/edge " + root + "/usr/local/bin/edge",
		"+ install -m 0755 " + bin + "/fwbridge " + root + "/usr/local/bin/fwbridge",
		"+ ln -sfn libonnxruntime.so.1.24.1 " + ortDest + "/libonnxruntime.so",
		"+ install -m 0644 " + ort + "/lib/libonnxruntime_providers_tensorrt.so " + ortDest + "/libonnxruntime_providers_tensorrt.so",
		"+ install -m 0644 " + ort + "/lib/libonnxruntime_providers_cuda.so " + ortDest + "/libonnxruntime_providers_cuda.so",
		"+ mkdir -p " + root + "/etc/mocoedge",
		"+ mkdir -p " + root + "/var/lib/mocoedge/models",
		"+ write " + root + "/etc/mocoedge/edge.yaml",
		"data_dir: /var/lib/mocoedge and model.ort_library: /usr/local/lib/mocoedge/onnxruntime/libonnxruntime.so",
		"+ write " + root + "/etc/mocoedge/edge.env",
		"|   #MOCOEDGE_MQTT_PASSWORD=",
		"+ install -m 0644 ",
		root + "/etc/systemd/system/mocoedge-edge.service",
		"+ systemctl --root=" + root + " enable --quiet mocoedge.target",
		"+ systemctl --root=" + root + " enable --quiet mocoedge-edge.service",
		"+ systemctl --root=" + root + " enable --quiet mocoedge-fwbridge.service",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not print %q:\n%s", want, out)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("dry run wrote into %s: %v", root, entries)
	}

	// Against the real system paths, still without changing anything.
	out, errOut, err = runInstall(t, "--dry-run", "--bin", bin, "--ort", ort)
	if err != nil {
		t.Fatalf("install.sh --dry-run (system): %v\n%s%s", err, out, errOut)
	}
	wants := []string{"+ systemctl daemon-reload", "/usr/local/bin/edge", "/etc/mocoedge/edge.yaml"}
	if _, err := user.Lookup("mocoedge"); err != nil {
		wants = append(wants, "+ useradd --system --user-group --home-dir /var/lib/mocoedge")
	}
	for _, want := range wants {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("system dry run does not print %q:\n%s", want, out)
		}
	}
}

func TestInstallRefusesCPUOnlyBuild(t *testing.T) {
	bin, ort := installFixture(t, true)
	out, errOut, err := runInstall(t, "--dry-run", "--root", t.TempDir(), "--bin", bin, "--ort", ort)
	if err == nil {
		t.Fatalf("install.sh accepted a build without GPU providers:\n%s", out)
	}
	for _, want := range []string{"libonnxruntime_providers_tensorrt.so", "libonnxruntime_providers_cuda.so", "CPU-only"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error does not mention %q: %s", want, errOut)
		}
	}
	if _, errOut, err := runInstall(t, "--dry-run", "--bin", bin); err == nil || !strings.Contains(errOut, "--ort") {
		t.Errorf("missing --ort: err %v, %s", err, errOut)
	}
	if out, _, err := runInstall(t, "--help"); err != nil || !strings.Contains(out, "Jetson Zoo") {
		t.Errorf("--help: err %v\n%s", err, out)
	}
}

func TestInstallIntoRoot(t *testing.T) {
	tool(t, "systemctl")
	bin, ort := installFixture(t, false)
	root := t.TempDir()
	args := []string{"--root", root, "--bin", bin, "--ort", ort}
	if out, errOut, err := runInstall(t, args...); err != nil {
		t.Fatalf("install.sh: %v\n%s%s", err, out, errOut)
	}
	yaml, err := os.ReadFile(filepath.Join(root, "etc/mocoedge/edge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\ndata_dir: /var/lib/mocoedge\n", "\n  ort_library: /usr/local/lib/mocoedge/onnxruntime/libonnxruntime.so\n"} {
		if !strings.Contains(string(yaml), want) {
			t.Errorf("edge.yaml lacks %q", strings.TrimSpace(want))
		}
	}
	for _, p := range []string{
		"usr/local/bin/edge", "usr/local/bin/fwbridge", "usr/local/lib/mocoedge/onnxruntime/libonnxruntime.so",
		"etc/mocoedge/edge.env", "var/lib/mocoedge/models", "etc/systemd/system/mocoedge-edge.service",
		"etc/systemd/system/multi-user.target.wants/mocoedge.target",
		"etc/systemd/system/multi-user.target.wants/mocoedge-edge.service",
	} {
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/mocoedge-fwbridge.service")); err == nil {
		t.Error("mocoedge-fwbridge.service enabled without --enable-fwbridge")
	}
	if fi, err := os.Stat(filepath.Join(root, "etc/mocoedge/edge.env")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("edge.env: %v, mode %v, want 0640", err, fi.Mode())
	}

	// A second run has nothing to do and says nothing; an edited edge.yaml
	// is kept.
	edited := append(yaml, []byte("# edited by the operator\n")...)
	writeFile(t, filepath.Join(root, "etc/mocoedge/edge.yaml"), edited, 0o640)
	out, errOut, err := runInstall(t, args...)
	if err != nil || out != "" || errOut != "" {
		t.Errorf("second run: err %v, output %q %q, want silence", err, out, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "etc/mocoedge/edge.yaml")); !bytes.Equal(got, edited) {
		t.Error("the second run changed edge.yaml")
	}
	if out, _, _ := runInstall(t, append(args, "--dry-run")...); out != "" {
		t.Errorf("dry run over a complete install prints actions:\n%s", out)
	}
}
