package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// IdleConnection holds a TCP connection open to the server: up while it
// is connected, down at once on a refused connection or an unclean loss
// (reset, keepalive timeout). A clean close by the server gets one
// reconnect after timeout-clean-reconnect before it counts as down.
// Reconnects back off exponentially, bounded by max-delay.
type IdleConnection struct {
	ConnectTimeout        time.Duration // timeout (our addition), default 5 s
	TimeoutCleanReconnect time.Duration
	MaxDelay              time.Duration
	KeepAlive             bool
	KeepAliveIdle         time.Duration
	KeepAliveInterval     time.Duration
	KeepAliveRetries      int
	// InitialDelay is the first reconnect delay (Twisted's 1 s).
	InitialDelay time.Duration
}

func parseIdleConnection(o *options) Spec {
	c := &IdleConnection{InitialDelay: time.Second}
	c.ConnectTimeout = o.seconds("timeout", 5*time.Second)
	c.TimeoutCleanReconnect = o.seconds("timeout-clean-reconnect", 3*time.Second)
	c.MaxDelay = o.seconds("max-delay", 300*time.Second)
	c.KeepAlive = o.boolean("keepalive", true)
	c.KeepAliveIdle = o.seconds("keepalive-idle", 10*time.Second)
	c.KeepAliveInterval = o.seconds("keepalive-interval", 30*time.Second)
	c.KeepAliveRetries = o.integer("keepalive-retries", 3, 1, 127)
	c.InitialDelay = min(c.InitialDelay, c.MaxDelay)
	return c
}

func (c *IdleConnection) Name() string { return "IdleConnection" }

func (c *IdleConnection) New(m *Metrics) Monitor { return &idleMonitor{cfg: c, m: m} }

type idleMonitor struct {
	cfg *IdleConnection
	m   *Metrics
}

func (i *idleMonitor) Name() string { return "IdleConnection" }

func (i *idleMonitor) dial(ctx context.Context, t Target) (net.Conn, error) {
	d := net.Dialer{Timeout: i.cfg.ConnectTimeout, KeepAlive: -1}
	if i.cfg.KeepAlive {
		d.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: i.cfg.KeepAliveIdle,
			Interval: i.cfg.KeepAliveInterval, Count: i.cfg.KeepAliveRetries}
	}
	return d.DialContext(ctx, "tcp", t.AddrPort().String())
}

func (i *idleMonitor) Run(ctx context.Context, t Target, r Reporter) {
	delay := i.cfg.InitialDelay
	backoff := func() bool {
		wait := delay
		delay = time.Duration(math.Min(float64(delay)*math.E, float64(i.cfg.MaxDelay)))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
			return true
		}
	}
	for ctx.Err() == nil {
		conn, err := i.dial(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			i.m.count(func(m *Metrics) *prometheus.CounterVec { return m.idleFailed }, t)
			msg := fmt.Sprintf("Connection to %s failed.", t.AddrPort())
			r.Log(slog.LevelWarn, msg+" "+err.Error())
			r.Result(false, msg)
			if !backoff() {
				return
			}
			continue
		}
		delay = i.cfg.InitialDelay
		r.Log(slog.LevelDebug, fmt.Sprintf("Connection established to %s.", t.AddrPort()))
		r.Result(true, "")
		clean := i.hold(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		if clean {
			// A clean close (e.g. a server's idle timeout) is normal: one
			// reconnect after a short pause before counting it as down.
			r.Log(slog.LevelInfo, fmt.Sprintf("Connection to %s closed cleanly, reconnecting in %s.", t.AddrPort(), seconds(i.cfg.TimeoutCleanReconnect)))
			select {
			case <-ctx.Done():
				return
			case <-time.After(i.cfg.TimeoutCleanReconnect):
			}
			continue
		}
		i.m.count(func(m *Metrics) *prometheus.CounterVec { return m.idleLost }, t)
		msg := fmt.Sprintf("Connection to %s lost.", t.AddrPort())
		r.Log(slog.LevelWarn, msg)
		r.Result(false, msg)
		if !backoff() {
			return
		}
	}
}

// hold reads (and discards) until the connection ends; it reports whether
// the server closed it cleanly (EOF) rather than by error.
func (i *idleMonitor) hold(ctx context.Context, conn net.Conn) (clean bool) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	_, err := io.Copy(io.Discard, conn)
	return err == nil || errors.Is(err, io.EOF)
}
