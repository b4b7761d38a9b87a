// Package sdnotify tells systemd how a Type=notify service is doing: one
// datagram per state change to the socket in $NOTIFY_SOCKET, as
// sd_notify(3) does, without linking libsystemd.
package sdnotify

import (
	"fmt"
	"net"
)

// The states a daemon reports.
const (
	Ready     = "READY=1"     // serving: systemd starts the units ordered after it
	Reloading = "RELOADING=1" // reloading its configuration; Ready follows
	Stopping  = "STOPPING=1"  // shutting down
)

// Notifier sends states to one socket. A Notifier for an empty address
// (not started by systemd) sends nothing.
type Notifier struct{ addr string }

// New returns a Notifier for the socket $NOTIFY_SOCKET names, as getenv
// reads it. A name starting with @ is an abstract socket, which the net
// package handles as such.
func New(getenv func(string) string) *Notifier {
	return &Notifier{addr: getenv("NOTIFY_SOCKET")}
}

// Notify sends state ("READY=1", several separated by newlines).
func (n *Notifier) Notify(state string) error {
	if n.addr == "" {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", state, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %s: %w", state, err)
	}
	return nil
}
