// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) without cgo: it tells the service manager that the daemon is
// ready, is stopping, is still alive (the watchdog) and what it is doing.
//
// A Notifier is built from the environment once, at start-up:
//
//	n := sdnotify.FromEnv(os.LookupEnv)
//	// ... open everything ...
//	_ = n.Ready()
//	go n.Watch(ctx, healthy) // WATCHDOG=1 every half WatchdogSec while healthy
//	// ... on shutdown:
//	_ = n.Stopping()
//
// When $NOTIFY_SOCKET is unset (not started by systemd, or Type= is not
// notify) every method does nothing and returns nil, so callers need no
// special case. Messages are datagrams on the unix socket named by
// $NOTIFY_SOCKET: a path, or an abstract socket name when it starts with @.
// The package keeps no global state: the environment is read through the
// lookup function given to FromEnv.
package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables systemd sets for a service.
const (
	// EnvNotifySocket names the notification socket.
	EnvNotifySocket = "NOTIFY_SOCKET"
	// EnvWatchdogUSec is the watchdog timeout in microseconds.
	EnvWatchdogUSec = "WATCHDOG_USEC"
	// EnvWatchdogPID is the process the watchdog applies to.
	EnvWatchdogPID = "WATCHDOG_PID"
)

// ErrUnsupportedSocket is returned by Notify when $NOTIFY_SOCKET is neither
// an absolute path nor an abstract name starting with @ (for instance the
// vsock: addresses of virtual machines, which this package does not speak).
var ErrUnsupportedSocket = errors.New("sdnotify: unsupported NOTIFY_SOCKET address")

// Notifier sends notifications to the service manager. Its zero value and a
// nil *Notifier are valid and do nothing. It is safe for concurrent use: it
// holds no connection, each message is one datagram on a fresh socket.
type Notifier struct {
	socket   string        // $NOTIFY_SOCKET; empty: disabled
	watchdog time.Duration // 0: no watchdog for this process
}

// FromEnv builds a Notifier from the environment read through lookup
// (usually os.LookupEnv). The watchdog interval applies only when
// $WATCHDOG_PID is unset or names this process.
func FromEnv(lookup func(string) (string, bool)) *Notifier {
	return fromEnv(lookup, os.Getpid())
}

// fromEnv is FromEnv with the process id given.
func fromEnv(lookup func(string) (string, bool), pid int) *Notifier {
	get := func(k string) string {
		if lookup == nil {
			return ""
		}
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	n := &Notifier{socket: get(EnvNotifySocket)}
	usec, err := strconv.ParseUint(get(EnvWatchdogUSec), 10, 63)
	if err != nil || usec == 0 {
		return n
	}
	if p := get(EnvWatchdogPID); p != "" {
		if got, err := strconv.Atoi(p); err != nil || got != pid {
			return n
		}
	}
	if usec > uint64(1<<63-1)/uint64(time.Microsecond) {
		usec = uint64(1<<63-1) / uint64(time.Microsecond)
	}
	n.watchdog = time.Duration(usec) * time.Microsecond
	return n
}

// Enabled reports whether notifications go anywhere ($NOTIFY_SOCKET set).
func (n *Notifier) Enabled() bool { return n != nil && n.socket != "" }

// WatchdogInterval returns the watchdog timeout systemd expects pings
// within (WatchdogSec= of the unit, from $WATCHDOG_USEC), and false when no
// watchdog applies to this process. Ping at about half of it.
func (n *Notifier) WatchdogInterval() (time.Duration, bool) {
	if n == nil || n.watchdog <= 0 {
		return 0, false
	}
	return n.watchdog, true
}

// Ready sends READY=1: start-up is complete (Type=notify units count as
// started only now).
func (n *Notifier) Ready() error { return n.Notify("READY=1") }

// Stopping sends STOPPING=1: the daemon is shutting down.
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// Watchdog sends WATCHDOG=1: the daemon is alive (resets WatchdogSec=).
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

// Status sends STATUS=s, the one-line text systemctl status shows. Line
// breaks in s become spaces.
func (n *Notifier) Status(s string) error {
	return n.Notify("STATUS=" + strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
}

// Notify sends state, one or more newline-separated VARIABLE=value
// assignments as sd_notify(3) describes, in one datagram. It returns nil
// without doing anything when notifications are disabled.
func (n *Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	name := n.socket
	if name[0] != '/' && name[0] != '@' {
		return fmt.Errorf("%w: %q", ErrUnsupportedSocket, name)
	}
	// Go maps a leading @ to the abstract namespace (a leading NUL byte).
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sdnotify: send %q: %w", firstLine(state), err)
	}
	return nil
}

// Watch sends WATCHDOG=1 every half watchdog interval until ctx ends, but
// only while healthy (nil: always healthy) returns true, so a daemon whose
// main loop is stuck stops pinging and systemd restarts it. It returns at
// once when no watchdog applies. Send errors are ignored: the service
// manager going away is not the daemon's failure.
func (n *Notifier) Watch(ctx context.Context, healthy func() bool) {
	d, ok := n.WatchdogInterval()
	if !ok || !n.Enabled() {
		return
	}
	t := time.NewTicker(max(d/2, time.Millisecond))
	defer t.Stop()
	for {
		if healthy == nil || healthy() {
			_ = n.Watchdog()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// firstLine returns s up to its first line break, for error messages.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
