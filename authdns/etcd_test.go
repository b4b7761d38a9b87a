package authdns

import (
	"bytes"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/dnsserver"
)

// etcdObj is a site or admin-state object as a watcher delivers it.
func etcdObj(kind conftool.Kind, name, value string, rev int64) conftool.Object {
	l := conftool.NewLayout("")
	key, err := l.Key(kind, name)
	if err != nil {
		panic(err)
	}
	return conftool.Object{Kind: kind, Key: key, Tags: []string{name}, Value: []byte(value), ModRevision: rev}
}

// answerA answers www-like DYNA name for an ECS client from snap: the
// first address and the TTL.
func answerA(t *testing.T, snap *dnsserver.Snapshot, name, subnet string) (string, uint32) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	p := netip.MustParsePrefix(subnet)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
		SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
	q, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(dnsserver.NewAnswerer(false).Answer(snap, q, netip.MustParseAddr("127.0.0.1"))); err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) == 0 {
		t.Fatalf("%s from %s: no answer: %v", name, subnet, r)
	}
	return r.Answer[0].(*dns.A).A.String(), r.Answer[0].Header().Ttl
}

// The default configuration's European client (esams, else drmrs) under
// etcd's objects and the local file: the file wins for the same key, a
// resource key beats a site key whichever source it has, and an
// admin-state TTL caps the answer.
func TestEtcdAndFileOverlayAnswers(t *testing.T) {
	st, err := LoadState(filepath.Join(repoRoot(), "config", "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	const esams, drmrs = "192.0.2.224", "192.0.2.226"
	tests := []struct {
		name    string
		etcd    []conftool.Object
		file    string
		want    string
		wantTTL uint32
		source  string // of site/esams's forced state; "" when not forced
	}{
		{"nothing forced", nil, "", esams, 300, ""},
		{"etcd site down", []conftool.Object{etcdObj(conftool.Site, "esams", `{"state":"down"}`, 5)}, "", drmrs, 300, "etcd"},
		{"etcd site up", []conftool.Object{etcdObj(conftool.Site, "esams", `{"state":"up"}`, 5)}, "", esams, 300, "etcd"},
		{"the file wins for the same key", []conftool.Object{etcdObj(conftool.Site, "esams", `{"state":"down"}`, 5)},
			"site/esams => UP\n", esams, 300, "file"},
		{"the file downs what etcd has up", []conftool.Object{etcdObj(conftool.Site, "esams", `{"state":"up"}`, 5)},
			"site/esams => DOWN\n", drmrs, 300, "file"},
		{"etcd admin-state map key with a TTL", []conftool.Object{etcdObj(conftool.AdminState, "geoip/generic-map/esams", `{"state":"DOWN","ttl":90}`, 6)},
			"", drmrs, 90, ""},
		{"etcd resource UP beats an etcd site DOWN", []conftool.Object{
			etcdObj(conftool.Site, "esams", `{"state":"down"}`, 5),
			etcdObj(conftool.AdminState, "geoip/text-addrs/esams", `{"state":"UP"}`, 4)}, "", esams, 300, "etcd"},
		{"a file resource key beats an etcd site key", []conftool.Object{etcdObj(conftool.Site, "drmrs", `{"state":"down"}`, 5)},
			"geoip/text-addrs/esams => DOWN/120\n", "198.51.100.224", 120, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, err := adminstate.Parse("/srv/admin_state", []byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			etcd, bad := conftool.ToAdminState(tc.etcd, 10)
			if len(bad) > 0 {
				t.Fatal(bad)
			}
			// Either order of application gives the same state.
			a := st.WithAdmin(file).WithEtcd(etcd)
			b := st.WithEtcd(etcd).WithAdmin(file)
			for _, s := range []*State{a, b} {
				got, ttl := answerA(t, s.Snapshot(), "www.example.org.", "192.0.2.0/24")
				if got != tc.want || ttl != tc.wantTTL {
					t.Errorf("answer %s TTL %d, want %s TTL %d", got, ttl, tc.want, tc.wantTTL)
				}
				if src := s.States()["site/esams"].Source; src != tc.source {
					t.Errorf("site/esams source %q, want %q: %+v", src, tc.source, s.States()["site/esams"])
				}
			}
			if a.AdminFile != file || a.AdminEtcd != etcd {
				t.Error("the parts of the overlay are not kept")
			}
		})
	}
}

// Each etcd change is logged once, in gdnsd's words, and an etcd change
// that the local file overrides says so: the operator expected answers to
// move.
func TestEtcdChangesLogged(t *testing.T) {
	st, err := LoadState(filepath.Join(repoRoot(), "config", "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	file, err := adminstate.Parse("/srv/admin_state", []byte("\nsite/esams => UP\n"))
	if err != nil {
		t.Fatal(err)
	}
	st = st.WithAdmin(file)
	var buf bytes.Buffer
	d := &Daemon{log: slog.New(slog.NewTextHandler(&buf, nil))}
	old, _ := conftool.ToAdminState([]conftool.Object{etcdObj(conftool.Site, "drmrs", `{"state":"down"}`, 3)}, 3)
	next, _ := conftool.ToAdminState([]conftool.Object{etcdObj(conftool.Site, "esams", `{"state":"down"}`, 5)}, 5)
	d.logEtcdChanges(old, st.WithEtcd(next), 5)
	for _, want := range []string{
		`msg="admin_state: state of 'site/esams' forced to DOWN" source=etcd revision=5`,
		`msg="admin_state: state of 'site/drmrs' no longer forced (was forced to DOWN)" source=etcd revision=5`,
		`msg="etcd: the local admin_state file overrides this object" key=/conftool/v1/sites/esams etcd_state=DOWN file_state=UP forced_by=/srv/admin_state:2`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, buf.String())
		}
	}
	if n := strings.Count(buf.String(), "overrides"); n != 1 {
		t.Errorf("%d override warnings, want 1 (drmrs is not overridden):\n%s", n, buf.String())
	}
}
