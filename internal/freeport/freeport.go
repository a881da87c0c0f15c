// Package freeport finds loopback TCP ports for servers started by tests
// and by the demo (a broker, an HTTP API) that must not collide with
// anything already listening.
package freeport

import (
	"fmt"
	"net"
	"strconv"
)

// Port returns a loopback TCP port that was free a moment ago.
func Port() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns 127.0.0.1:PORT with a port that was free a moment ago.
func Addr() (string, error) {
	p, err := Port()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}
