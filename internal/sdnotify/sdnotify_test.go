package sdnotify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/sdnotify"
)

// env returns a lookup function over m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// listen opens a unixgram socket at name (a path, or @abstract) and returns
// a function reading the next datagram.
func listen(t *testing.T, name string) func() string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read datagram: %v", err)
		}
		return string(buf[:n])
	}
}

func sendAll(t *testing.T, n *sdnotify.Notifier, read func() string) {
	t.Helper()
	steps := []struct {
		send func() error
		want string
	}{
		{n.Ready, "READY=1"},
		{func() error { return n.Status("loading model\nresnet18") }, "STATUS=loading model resnet18"},
		{n.Watchdog, "WATCHDOG=1"},
		{func() error { return n.Notify("RELOADING=1\nMONOTONIC_USEC=1") }, "RELOADING=1\nMONOTONIC_USEC=1"},
		{n.Stopping, "STOPPING=1"},
	}
	for _, s := range steps {
		if err := s.send(); err != nil {
			t.Fatalf("send %q: %v", s.want, err)
		}
		if got := read(); got != s.want {
			t.Fatalf("got datagram %q, want %q", got, s.want)
		}
	}
}

func TestPathSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	read := listen(t, sock)
	n := sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": sock}))
	if !n.Enabled() {
		t.Fatal("Enabled() = false with NOTIFY_SOCKET set")
	}
	sendAll(t, n, read)
}

func TestAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@mocoedge-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	read := listen(t, name)
	sendAll(t, sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": name})), read)
}

func TestDisabled(t *testing.T) {
	for name, n := range map[string]*sdnotify.Notifier{
		"unset":    sdnotify.FromEnv(env(nil)),
		"empty":    sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": ""})),
		"nil func": sdnotify.FromEnv(nil),
		"nil":      nil,
		"zero":     {},
	} {
		if n.Enabled() {
			t.Errorf("%s: Enabled() = true", name)
		}
		for _, f := range []func() error{n.Ready, n.Stopping, n.Watchdog, func() error { return n.Status("x") }} {
			if err := f(); err != nil {
				t.Errorf("%s: got %v, want a silent no-op", name, err)
			}
		}
		if _, ok := n.WatchdogInterval(); ok {
			t.Errorf("%s: watchdog reported", name)
		}
		n.Watch(context.Background(), nil) // must return at once
	}
}

func TestErrors(t *testing.T) {
	n := sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": "vsock:2:1234"}))
	if err := n.Ready(); !errors.Is(err, sdnotify.ErrUnsupportedSocket) {
		t.Errorf("vsock address: got %v, want ErrUnsupportedSocket", err)
	}
	missing := filepath.Join(t.TempDir(), "absent.sock")
	if err := sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": missing})).Ready(); err == nil {
		t.Error("no error for a socket that does not exist")
	}
}

func TestWatchdogInterval(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	other := strconv.Itoa(os.Getpid() + 1)
	cases := []struct {
		name string
		env  map[string]string
		want time.Duration
		ok   bool
	}{
		{"unset", nil, 0, false},
		{"usec only", map[string]string{"WATCHDOG_USEC": "30000000"}, 30 * time.Second, true},
		{"our pid", map[string]string{"WATCHDOG_USEC": "1500", "WATCHDOG_PID": self}, 1500 * time.Microsecond, true},
		{"other pid", map[string]string{"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": other}, 0, false},
		{"bad pid", map[string]string{"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "x"}, 0, false},
		{"zero", map[string]string{"WATCHDOG_USEC": "0"}, 0, false},
		{"negative", map[string]string{"WATCHDOG_USEC": "-5"}, 0, false},
		{"garbage", map[string]string{"WATCHDOG_USEC": "30s"}, 0, false},
	}
	for _, c := range cases {
		got, ok := sdnotify.FromEnv(env(c.env)).WatchdogInterval()
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestWatch(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	read := listen(t, sock)
	n := sdnotify.FromEnv(env(map[string]string{
		"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "40000", "WATCHDOG_PID": strconv.Itoa(os.Getpid()),
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Watch(ctx, nil); close(done) }()
	for i := 0; i < 3; i++ {
		if got := read(); got != "WATCHDOG=1" {
			t.Fatalf("ping %d: got %q", i, got)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

func TestWatchUnhealthy(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "20000"}))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	calls := 0
	n.Watch(ctx, func() bool { calls++; return false })
	if calls < 2 {
		t.Errorf("health check called %d times in 150ms at a 10ms period", calls)
	}
	_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 64)
	if k, err := conn.Read(buf); err == nil {
		t.Errorf("an unhealthy daemon pinged the watchdog: %q", buf[:k])
	}
}
