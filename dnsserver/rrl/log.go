package rrl

import (
	"net/netip"
	"strings"
)

// mayLog takes one of this second's log lines.
func (l *Limiter) mayLog(now int32) bool {
	if l.logSec.Swap(now) != now {
		l.logN.Store(0)
	}
	if l.logN.Add(1) <= logPerSecond {
		return true
	}
	l.unlogged.Add(1)
	return false
}

func (l *Limiter) msg(s string) string {
	if l.cfg.LogOnly {
		return "would " + s
	}
	return s
}

func (l *Limiter) logStart(kind Kind, net *[16]byte, bits uint8, qtype uint16, name []byte) {
	args := []any{"kind", KindNames[kind], "network", prefix(net, bits).String()}
	if kind != Error {
		args = append(args, "name", nameText(name))
	}
	if kind == Response && qtype != 0 {
		args = append(args, "qtype", qtype)
	}
	l.log.Warn(l.msg("rate limit responses"), args...)
}

func (l *Limiter) logStop(e *entry, why string) {
	l.log.Info(l.msg("stop rate limiting responses"), "kind", KindNames[e.kind],
		"network", prefix(&e.net, e.bits).String(), "limited", e.limited, "why", why)
}

// Sweep ends the runs of accounts not limited for window seconds, logging
// the end of those whose start was logged, and reports start lines left
// out. Call it about once a second, off the answer path.
func (l *Limiter) Sweep() {
	now := l.seconds(l.now())
	quiet := int32(max(l.cfg.Window, 1))
	var ended []entry
	for i := range l.buckets {
		b := &l.buckets[i]
		b.mu.Lock()
		for j := range b.e {
			e := &b.e[j]
			if b.keys[j] != 0 && e.limited > 0 && now-e.lastLim >= quiet {
				if e.logged {
					ended = append(ended, *e)
				}
				e.limited, e.logged = 0, false
			}
		}
		b.mu.Unlock()
	}
	for i := range ended {
		l.logStop(&ended[i], "quiet")
	}
	if n := l.unlogged.Swap(0); n > 0 {
		l.log.Warn(l.msg("rate limit responses: more accounts, lines left out"), "accounts", n)
	}
}

func prefix(net *[16]byte, bits uint8) netip.Prefix {
	if bits&0x80 == 0 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(net[:4])), int(bits))
	}
	return netip.PrefixFrom(netip.AddrFrom16(*net), int(bits&0x7F))
}

// nameText renders a wire name for a log line.
func nameText(w []byte) string {
	if len(w) <= 1 {
		return "."
	}
	var b strings.Builder
	for len(w) > 0 && w[0] != 0 && int(w[0]) < len(w) {
		b.Write(w[1 : 1+w[0]])
		b.WriteByte('.')
		w = w[1+w[0]:]
	}
	return b.String()
}
