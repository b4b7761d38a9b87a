package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// DNSQuery asks the server for a random one of hostnames, type A or AAAA
// at random. Timeouts, SERVFAIL, REFUSED and other errors mean down;
// NXDOMAIN means up unless fail-on-nxdomain. Queries go to the real
// server's address on the service port (53 for a DNS service).
type DNSQuery struct {
	Hostnames      []string
	Interval       time.Duration
	Timeout        time.Duration
	FailOnNXDomain bool
}

func parseDNSQuery(o *options) Spec {
	q := &DNSQuery{}
	q.Hostnames = o.stringList("hostnames", true)
	q.Interval = o.seconds("interval", 10*time.Second)
	q.Timeout = o.seconds("timeout", 5*time.Second)
	q.FailOnNXDomain = o.boolean("fail-on-nxdomain", false)
	return q
}

func (q *DNSQuery) Name() string { return "DNSQuery" }

func (q *DNSQuery) New(m *Metrics) Monitor {
	return &looper{name: q.Name(), interval: q.Interval, timeout: q.Timeout, check: func(ctx context.Context, t Target, r Reporter) (bool, string) {
		return q.check(ctx, t, r, m)
	}}
}

func (q *DNSQuery) check(ctx context.Context, t Target, r Reporter, m *Metrics) (bool, string) {
	name := q.Hostnames[rand.IntN(len(q.Hostnames))]
	qtype := []uint16{dns.TypeA, dns.TypeAAAA}[rand.IntN(2)]
	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(name), qtype)
	msg.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: q.Timeout}
	start := time.Now()
	resp, _, err := c.ExchangeContext(ctx, msg, t.AddrPort().String())
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, msg, t.AddrPort().String())
	}
	d := time.Since(start)
	m.observe(func(m *Metrics) *prometheus.HistogramVec { return m.dnsQueryDuration }, t, d)
	what := fmt.Sprintf("%s %s", dns.TypeToString[qtype], name)
	if err != nil {
		s := fmt.Sprintf("DNS query failed (%s), %s: %v", what, seconds(d), err)
		r.Log(slog.LevelWarn, s)
		return false, s
	}
	switch {
	case resp.Rcode == dns.RcodeSuccess,
		resp.Rcode == dns.RcodeNameError && !q.FailOnNXDomain:
		r.Log(slog.LevelDebug, fmt.Sprintf("DNS query successful (%s: %s), %s", what, dns.RcodeToString[resp.Rcode], seconds(d)))
		return true, ""
	}
	s := fmt.Sprintf("DNS query failed (%s): %s, %s", what, dns.RcodeToString[resp.Rcode], seconds(d))
	r.Log(slog.LevelWarn, s)
	return false, s
}
