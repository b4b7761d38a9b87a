package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"
	"time"
)

// UDP sends an empty datagram on a connected socket: an ICMP port
// unreachable comes back as ECONNREFUSED on the next read and means down;
// icmp-timeout seconds without one (or any reply) mean up.
type UDP struct {
	Interval    time.Duration
	ICMPTimeout time.Duration
}

func parseUDP(o *options) Spec {
	u := &UDP{}
	u.Interval = o.seconds("interval", 10*time.Second)
	u.ICMPTimeout = o.seconds("icmp-timeout", 20*time.Second)
	return u
}

func (u *UDP) Name() string { return "UDP" }

func (u *UDP) New(*Metrics) Monitor {
	return &looper{name: u.Name(), interval: u.Interval, timeout: u.ICMPTimeout + 5*time.Second, check: u.check}
}

func (u *UDP) check(ctx context.Context, t Target, r Reporter) (bool, string) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", t.AddrPort().String())
	if err != nil {
		s := fmt.Sprintf("%s: cannot send: %v", t.AddrPort(), err)
		r.Log(slog.LevelWarn, s)
		return false, s
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(nil); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
		s := fmt.Sprintf("%s: cannot send: %v", t.AddrPort(), err)
		r.Log(slog.LevelWarn, s)
		return false, s
	} else if err != nil {
		return u.refused(t, r)
	}
	conn.SetReadDeadline(time.Now().Add(u.ICMPTimeout))
	buf := make([]byte, 1500)
	_, err = conn.Read(buf)
	switch {
	case err == nil:
		r.Log(slog.LevelDebug, fmt.Sprintf("%s: reply received", t.AddrPort()))
		return true, ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return u.refused(t, r)
	case isTimeout(err) && ctx.Err() == nil:
		r.Log(slog.LevelDebug, fmt.Sprintf("%s: no ICMP destination unreachable within %s", t.AddrPort(), seconds(u.ICMPTimeout)))
		return true, ""
	}
	s := fmt.Sprintf("%s: %v", t.AddrPort(), err)
	r.Log(slog.LevelWarn, s)
	return false, s
}

func (u *UDP) refused(t Target, r Reporter) (bool, string) {
	s := fmt.Sprintf("%s: ICMP destination unreachable received", t.AddrPort())
	r.Log(slog.LevelWarn, s)
	return false, s
}

// isTimeout reports a read deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
