package authdns

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// writeKey makes a key of zone in dir (alg 13); timing changes its dates.
func writeKey(t testing.TB, dir, zone string, flags uint16, timing func(*keys.Timing)) *keys.Key {
	t.Helper()
	return writeKeyWith(t, dir, zone, dns.ECDSAP256SHA256, flags, timing)
}

func writeKeyAlg(t testing.TB, dir, zone string, alg uint8, flags uint16) *keys.Key {
	t.Helper()
	return writeKeyWith(t, dir, zone, alg, flags, nil)
}

func writeKeyWith(t testing.TB, dir, zone string, alg uint8, flags uint16, timing func(*keys.Timing)) *keys.Key {
	t.Helper()
	k, err := keys.Generate(zone, alg, flags, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if timing != nil {
		timing(&k.Timing)
	}
	if _, err := k.Write(dir); err != nil {
		t.Fatal(err)
	}
	return k
}

// signedConfig writes a configuration serving example.com and
// example.net, with dnssec (the section's keys) and returns its path.
func signedConfig(t *testing.T, dnssec string) string {
	t.Helper()
	dir := t.TempDir()
	for _, z := range []string{"example.com", "example.net"} {
		write(t, filepath.Join(dir, "zones", z), zoneText(1, ""))
	}
	write(t, filepath.Join(dir, "authdns.yaml"), "listen: [\"127.0.0.1:0\"]\nzones: zones\nudp_sockets: 1\ncontrol: off\ndnssec:\n"+dnssec)
	return filepath.Join(dir, "authdns.yaml")
}

func write(t testing.TB, path, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t testing.TB, path string) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// A zone with active keys in its directory is signed, others are not;
// keys must belong to a served zone, in that zone's directory.
func TestSigningKeysMustBelongToServedZones(t *testing.T) {
	path := signedConfig(t, "  keys: keys\n  zones:\n    example.net: {keys: netkeys}\n")
	dir := filepath.Dir(path)
	keysDir, netKeys := mkdir(t, filepath.Join(dir, "keys")), mkdir(t, filepath.Join(dir, "netkeys"))
	writeKey(t, keysDir, "example.com", 257, nil)
	writeKey(t, netKeys, "example.net", 257, func(tm *keys.Timing) { tm.Activate = time.Time{} }) // never active
	var logs bytes.Buffer
	st, err := loadState(path, slog.New(slog.NewTextHandler(&logs, nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Signing
	if s == nil || s.Signer == nil || s.Signer.Zone(st.Zones.Zone("example.com.")) == nil {
		t.Fatalf("example.com has an active key: it must be signed (%+v)", s)
	}
	if s.Signer.Zone(st.Zones.Zone("example.net.")) != nil {
		t.Error("example.net's only key never activates: it must be served unsigned")
	}
	if !strings.Contains(logs.String(), "none signs now") || !strings.Contains(logs.String(), "zone=example.net.") {
		t.Errorf("no warning about example.net's inactive keys:\n%s", logs.String())
	}
	if snap := st.Snapshot(); snap.DNSSEC == nil {
		t.Error("the snapshot of a signed state has no signer")
	}

	for _, tt := range []struct {
		what string
		key  func()
		want string
	}{
		{"a key of a zone not served", func() { writeKey(t, keysDir, "example.org", 257, nil) },
			"keys of zone example.org., which is not served"},
		{"a key in another zone's directory", func() { writeKey(t, keysDir, "example.net", 256, nil) },
			"keys of zone example.net., whose keys are read from " + netKeys},
	} {
		t.Run(tt.what, func(t *testing.T) {
			tt.key()
			_, err := loadState(path, quietLog(), true)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ".key: ") {
				t.Fatalf("got %v, want an error naming the key file and %q", err, tt.want)
			}
			for _, f := range []string{"Kexample.org.*", "Kexample.net.*"} {
				m, _ := filepath.Glob(filepath.Join(keysDir, f))
				for _, f := range m {
					os.Remove(f)
				}
			}
		})
	}

	// An entry for a zone that is not served is an error at its line.
	path = signedConfig(t, "  zones:\n    example.org: {sign: false}\n")
	if _, err := loadState(path, quietLog(), true); err == nil || !strings.Contains(err.Error(), "authdns.yaml:7: dnssec.zones.example.org: no zone example.org. is served") {
		t.Errorf("got %v", err)
	}
	// sign: false leaves a zone's keys alone.
	path = signedConfig(t, "  keys: keys\n  zones:\n    example.net: {sign: false}\n")
	keysDir = mkdir(t, filepath.Join(filepath.Dir(path), "keys"))
	writeKey(t, keysDir, "example.net", 257, nil)
	st, err = loadState(path, quietLog(), true)
	if err != nil || st.Signing == nil || st.Signing.Signer != nil {
		t.Fatalf("sign: false must serve example.net unsigned: %v %+v", err, st.Signing)
	}
}

// checkconf reports key errors with the file, and checks the keys
// against the zones as the daemon would.
func TestCheckReportsKeyErrors(t *testing.T) {
	path := signedConfig(t, "  keys: keys\n")
	keysDir := mkdir(t, filepath.Join(filepath.Dir(path), "keys"))
	k := writeKey(t, keysDir, "example.com", 257, nil)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg, quietLog()); err != nil {
		t.Fatalf("a good key: %v", err)
	}
	os.Remove(k.File + ".private")
	_, err = Check(cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), filepath.Base(k.File)) {
		t.Fatalf("a key without its private half: got %v, want an error naming %s", err, k.File)
	}
	// A broken zone does not hide the key files' errors.
	write(t, filepath.Join(filepath.Dir(path), "zones", "example.net"), "bogus\n")
	_, err = Check(cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), filepath.Base(k.File)) || !strings.Contains(err.Error(), "example.net:1") {
		t.Fatalf("a broken zone and a broken key: got %v, want both", err)
	}
}

// The daemon follows its key directory and the keys' timing without a
// reload: a new ZSK file is published at once and signs from its
// Activate on, when the old one retires.
func TestDaemonResignsOnKeyFilesAndTiming(t *testing.T) {
	keysDir := mkdir(t, filepath.Join(t.TempDir(), "keys"))
	ksk := writeKey(t, keysDir, "example.com", 257, nil)
	var logs testutil.SyncBuffer
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	write(t, filepath.Join(dir, "authdns.yaml"), "listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\ndnssec:\n  keys: "+keysDir+"\n  dnskey_ttl: 1\n")
	d := startDaemonAt(t, filepath.Join(dir, "authdns.yaml"), slog.New(slog.NewTextHandler(&logs, nil)))
	dnskeys := func() map[uint16]bool {
		st := d.State()
		zs := st.Signing.Signer.Zone(st.Zones.Zone("example.com."))
		set, _, _ := zs.Apex()
		tags := map[uint16]bool{}
		if set != nil {
			for _, rd := range set.RData {
				k := &dns.DNSKEY{Flags: binary.BigEndian.Uint16(rd), Protocol: rd[2], Algorithm: rd[3],
					PublicKey: base64.StdEncoding.EncodeToString(rd[4:])}
				tags[k.KeyTag()] = true
			}
		}
		return tags
	}
	if got := dnskeys(); len(got) != 1 || !got[ksk.Tag()] {
		t.Fatalf("DNSKEY tags %v, want the CSK %d", got, ksk.Tag())
	}
	activate := time.Now().Add(2 * time.Second).Truncate(time.Second)
	zsk := writeKey(t, keysDir, "example.com", 256, func(tm *keys.Timing) { tm.Activate = activate })
	testutil.WaitFor(t, "the new ZSK published", func() bool { return dnskeys()[zsk.Tag()] })
	if strings.Contains(logs.String(), "reload complete") {
		t.Error("a key file made a reload; it must only re-sign")
	}
	testutil.WaitFor(t, "the new ZSK active at its time", func() bool {
		return strings.Contains(logs.String(), "tag="+strconv.Itoa(int(zsk.Tag()))+" alg=13 role=ZSK state=active was=published")
	})
	if time.Now().Before(activate) {
		t.Errorf("the ZSK became active before its Activate time %s", activate)
	}
	st := d.State()
	if ks := st.Signing.Keys["example.com."].At(time.Now()); len(ks.ZSK) != 1 || ks.ZSK[0].Tag() != zsk.Tag() {
		t.Errorf("after Activate the ZSK signs: %+v", ks)
	}
	if !strings.Contains(logs.String(), "tag="+strconv.Itoa(int(ksk.Tag()))+" alg=13 role=KSK state=active") {
		t.Errorf("the CSK's change of role to KSK is not logged:\n%s", logs.String())
	}
}

// The dnssec metrics count the signatures made and show each key.
func TestDNSSECMetrics(t *testing.T) {
	keysDir := mkdir(t, filepath.Join(t.TempDir(), "keys"))
	k := writeKey(t, keysDir, "example.com", 257, nil)
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	write(t, filepath.Join(dir, "authdns.yaml"), "listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\ndnssec: {keys: "+keysDir+"}\n")
	d := startDaemonAt(t, filepath.Join(dir, "authdns.yaml"), quietLog())
	m := new(dns.Msg)
	m.SetQuestion("dyn.example.com.", dns.TypeA)
	m.SetEdns0(1232, true)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, d.Server().Addrs()[0].String())
	if err != nil || len(r.Answer) != 2 {
		t.Fatalf("signed DYNA answer: %v %v", r, err)
	}
	got := map[string]float64{}
	mfs, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	key := "authdns_dnssec_key,alg=13,role=CSK,state=active,tag=" + strconv.Itoa(int(k.Tag())) + ",zone=example.com."
	if got["authdns_dnssec_signed_zones"] != 1 || got[key] != 1 || got["authdns_dnssec_presigned_sets"] < 3 {
		t.Errorf("signed zones, key or pre-signed sets missing: %v", got)
	}
	// The static sets, the apex key set, and the DYNA answer's miss.
	if got["authdns_dnssec_signatures_total"] < 4 || got["authdns_dnssec_signature_cache_misses_total"] != 1 {
		t.Errorf("signatures %v, cache misses %v", got["authdns_dnssec_signatures_total"], got["authdns_dnssec_signature_cache_misses_total"])
	}
}

// LoadState, for one-shot tools, reads no key and signs nothing, even
// with a key that Check would refuse.
func TestLoadStateDoesNotSign(t *testing.T) {
	path := signedConfig(t, "  keys: keys\n")
	keysDir := mkdir(t, filepath.Join(filepath.Dir(path), "keys"))
	writeKey(t, keysDir, "example.com", 257, nil)
	writeKey(t, keysDir, "example.org", 257, nil) // a zone not served
	st, err := LoadState(path, quietLog())
	if err != nil || st.Signing != nil {
		t.Fatalf("LoadState: %v, signing %+v", err, st.Signing)
	}
	if _, err := loadState(path, quietLog(), true); err == nil {
		t.Error("the key of a zone not served was not refused when signing")
	}
}
