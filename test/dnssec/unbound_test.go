package dnssece2e

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// resolver is a validating unbound on loopback whose only trust anchor is
// example.org's DS and whose only servers are authdns: the root too is a
// stub zone at authdns, so nothing leaves the machine.
type resolver struct {
	*testutil.Daemon
	t    *testing.T
	addr string
}

// unboundConf is reference §5.1's set-up. Caching is capped at a second,
// so each query after a key change sees what authdns serves now, and a
// bogus answer is not kept either.
const unboundConf = `server:
  interface: 127.0.0.1
  port: %[1]s
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "%[2]s"
  pidfile: "%[2]s/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  module-config: "validator iterator"
  qname-minimisation: no
  harden-dnssec-stripped: yes
  val-log-level: 2
  log-servfail: yes
  cache-max-ttl: 1
  cache-max-negative-ttl: 1
  val-bogus-ttl: 1
  infra-host-ttl: 60
  trust-anchor-signaling: no
  trust-anchor: "%[3]s"
stub-zone:
  name: "example.org"
  stub-addr: %[4]s
stub-zone:
  name: "."
  stub-addr: %[4]s
`

// startUnbound starts unbound trusting anchor (one DS line, as `authdns
// dnssec ds` prints it) for example.org, asking authdns at auth.
func startUnbound(t *testing.T, anchor, auth string) *resolver {
	t.Helper()
	if _, err := exec.LookPath("unbound"); err != nil {
		t.Fatal("unbound is not installed (make test installs it: mk/dnssec.mk)")
	}
	dir := t.TempDir()
	port := testutil.FreePort(t)
	host, aport := splitAddr(auth)
	conf := filepath.Join(dir, "unbound.conf")
	write(t, conf, fmt.Sprintf(unboundConf, port, dir, anchorLine(t, anchor), host+"@"+aport))
	r := &resolver{t: t, addr: net.JoinHostPort("127.0.0.1", port)}
	r.Daemon = testutil.StartDaemon(t, exec.Command("unbound", "-d", "-c", conf), func(line string) bool {
		return strings.Contains(line, "start of service")
	})
	return r
}

// anchorLine makes unbound's trust-anchor of a DS line: owner, DS and its
// fields, without TTL or class.
func anchorLine(t *testing.T, ds string) string {
	t.Helper()
	f := strings.Fields(ds)
	for i, w := range f {
		if w == "DS" && i+4 < len(f) {
			return f[0] + " DS " + strings.Join(f[i+1:], " ")
		}
	}
	t.Fatalf("not a DS record: %q", ds)
	return ""
}

// query asks unbound with dig +dnssec.
func (r *resolver) query(name, qtype string) digResult {
	r.t.Helper()
	return parseDig(dig(r.t, r.addr, "+dnssec", name, qtype))
}

// wantSecure asks unbound and fails unless the answer validated (AD) with
// status.
func (r *resolver) wantSecure(t *testing.T, name, qtype, status string) digResult {
	t.Helper()
	got := r.query(name, qtype)
	if !got.ad || got.status != status {
		t.Errorf("%s %s through unbound: status %s ad=%v, want %s with ad:\n%s\nunbound's log:\n%s",
			name, qtype, got.status, got.ad, status, got.out, r.Logs())
	}
	return got
}
