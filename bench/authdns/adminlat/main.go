// Command adminlat measures how long a DNS server takes to change its answer
// after the admin_state file is replaced (write a temporary file, rename it
// over admin_state), as editors and config management do. It is the
// admin_state part of scripts/bench-authdns.sh and works against authdns and
// gdnsd alike: it only writes the file and queries the server.
//
// Each sample: write the DOWN line, time from just before the rename to the
// first answer that differs from the baseline; then write an empty file and
// time the return to the baseline. Every wait is bounded by -timeout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

type options struct {
	server   string
	name     string
	subnet   netip.Prefix
	file     string
	down     string
	samples  int
	timeout  time.Duration
	interval time.Duration
	label    string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("adminlat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var subnet string
	fs.StringVar(&o.server, "server", "127.0.0.1:15301", "DNS server host:port (UDP)")
	fs.StringVar(&o.name, "name", "www.example.org.", "DYNA name to query (type A)")
	fs.StringVar(&subnet, "subnet", "192.0.2.0/24", "EDNS Client Subnet to send (empty: none)")
	fs.StringVar(&o.file, "file", "", "the server's admin_state file (required)")
	fs.StringVar(&o.down, "down", "geoip/generic-map/esams => DOWN", "line that changes the answer")
	fs.IntVar(&o.samples, "n", 5, "number of samples")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "longest wait for one change")
	fs.DurationVar(&o.interval, "interval", time.Millisecond, "pause between polling queries")
	fs.StringVar(&o.label, "label", "server", "name printed in the result lines")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.file == "" || o.samples < 1 {
		fmt.Fprintln(stderr, "adminlat: -file is required and -n must be at least 1")
		return 2
	}
	if subnet != "" {
		p, err := netip.ParsePrefix(subnet)
		if err != nil {
			fmt.Fprintf(stderr, "adminlat: -subnet: %v\n", err)
			return 2
		}
		o.subnet = p.Masked()
	}
	down, up, err := measure(o)
	if err != nil {
		fmt.Fprintf(stderr, "adminlat %s: %v\n", o.label, err)
		return 1
	}
	fmt.Fprintf(stdout, "  %-7s admin_state -> DOWN answer: %s\n", o.label, summary(down))
	fmt.Fprintf(stdout, "  %-7s admin_state -> UP answer:   %s\n", o.label, summary(up))
	return 0
}

// measure returns the DOWN and UP latencies of every sample.
func measure(o options) (down, up []time.Duration, err error) {
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	if err := writeAtomic(o.file, "# adminlat: nothing forced\n"); err != nil {
		return nil, nil, err
	}
	// The baseline is whatever the server answers once the empty file is
	// in force; give a slow server (gdnsd: about 2 s) time to apply it.
	time.Sleep(100 * time.Millisecond)
	base, err := stableAnswer(c, o)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i < o.samples; i++ {
		// A random pause so samples do not lock onto a server's timer.
		time.Sleep(100*time.Millisecond + rand.N(100*time.Millisecond))
		d, err := change(c, o, o.down+"\n", func(a string) bool { return a != base })
		if err != nil {
			return nil, nil, fmt.Errorf("sample %d, forcing DOWN: %w", i+1, err)
		}
		down = append(down, d)
		time.Sleep(100*time.Millisecond + rand.N(100*time.Millisecond))
		u, err := change(c, o, "# adminlat: nothing forced\n", func(a string) bool { return a == base })
		if err != nil {
			return nil, nil, fmt.Errorf("sample %d, back UP: %w", i+1, err)
		}
		up = append(up, u)
	}
	return down, up, nil
}

// stableAnswer waits (bounded) until two answers a second apart agree.
func stableAnswer(c *dns.Client, o options) (string, error) {
	deadline := time.Now().Add(o.timeout)
	prev, err := answer(c, o)
	for time.Now().Before(deadline) {
		if err != nil {
			return "", err
		}
		time.Sleep(time.Second)
		var a string
		a, err = answer(c, o)
		if err == nil && a == prev {
			return a, nil
		}
		prev = a
	}
	return "", fmt.Errorf("answer did not settle within %v", o.timeout)
}

// change writes content and polls until done accepts the answer.
func change(c *dns.Client, o options, content string, done func(string) bool) (time.Duration, error) {
	tmp, err := prepare(o.file, content)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := os.Rename(tmp, o.file); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("rename %s: %w", o.file, err)
	}
	last := ""
	for time.Since(start) < o.timeout {
		a, err := answer(c, o)
		if err == nil && done(a) {
			return time.Since(start), nil
		}
		if err == nil {
			last = a
		}
		time.Sleep(o.interval)
	}
	return 0, fmt.Errorf("no change within %v (last answer %q)", o.timeout, last)
}

// answer returns the sorted answer records (data only) as one string.
func answer(c *dns.Client, o options) (string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(o.name), dns.TypeA)
	m.RecursionDesired = false
	if o.subnet.IsValid() {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(1232)
		family := uint16(1)
		if o.subnet.Addr().Is6() {
			family = 2
		}
		opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family,
			SourceNetmask: uint8(o.subnet.Bits()), Address: net.IP(o.subnet.Addr().AsSlice())})
		m.Extra = append(m.Extra, opt)
	}
	r, _, err := c.Exchange(m, o.server)
	if err != nil {
		return "", fmt.Errorf("query %s: %w", o.server, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return "", fmt.Errorf("query %s: rcode %s", o.server, dns.RcodeToString[r.Rcode])
	}
	var parts []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			parts = append(parts, a.A.String())
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ","), nil
}

// prepare writes content to a temporary file beside path, for a rename.
func prepare(path, content string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".admin_state.tmp*")
	if err != nil {
		return "", fmt.Errorf("admin_state temp file: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

func writeAtomic(path, content string) error {
	tmp, err := prepare(path, content)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}

// summary prints min/median/max over the samples in milliseconds.
func summary(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("min %s, median %s, max %s (%d samples)", ms(s[0]), ms(med), ms(s[len(s)-1]), len(s))
}
