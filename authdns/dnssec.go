package authdns

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/dnssec"
	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/zones"
)

// Signing is what a state signs with: the keys found for its zones and
// the signer made of them at one instant. It is immutable: a key change
// or a timing event makes a new one.
type Signing struct {
	// Keys are the keys of each served zone that has some in its key
	// directory, by canonical zone name.
	Keys map[string]*keys.ZoneKeys
	// Signer signs the zones whose keys are active at Built; nil when
	// none is.
	Signer *dnssec.Signer
	Built  time.Time
	// Digest covers the key files read, so a watcher's re-check can
	// tell whether they changed.
	Digest string
}

// Next is when s must be made again: the first key timing event or
// signature refresh after it was built (zero: never).
func (s *Signing) Next() time.Time {
	if s == nil {
		return time.Time{}
	}
	next := nextTiming(s.Keys, s.Built)
	if s.Signer != nil {
		if n := s.Signer.Next(); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// nextTiming is the first timing event of any key after t (zero: none),
// zones not signed yet included.
func nextTiming(zk map[string]*keys.ZoneKeys, t time.Time) time.Time {
	var next time.Time
	for _, z := range zk {
		st := z.At(t)
		if !st.Next.IsZero() && (next.IsZero() || st.Next.Before(next)) {
			next = st.Next
		}
	}
	return next
}

// BuildSigning reads the key directories of cfg's `dnssec:` section for
// the zones of set and signs those whose keys are active at now (nil
// without a `dnssec:` section). Keys of a zone that is not served, or in
// a directory that is not the zone's, are errors; a zone whose keys are
// all inactive is served unsigned, with a warning.
func BuildSigning(cfg *Config, set *zones.Set, now time.Time, log *slog.Logger) (*Signing, error) {
	dc := cfg.DNSSEC
	if dc == nil {
		return nil, nil
	}
	zk, err := loadZoneKeys(cfg, set)
	if err != nil {
		return nil, err
	}
	digest, err := keyFilesDigest(dc.KeyDirs())
	if err != nil {
		return nil, err
	}
	s := &Signing{Keys: zk, Built: now, Digest: digest}
	signed := map[string]*keys.ZoneKeys{}
	for _, name := range sortedZones(zk) {
		if st := zk[name].At(now); st.Signing() {
			signed[name] = zk[name]
		} else {
			args := []any{"zone", name, "keys", len(zk[name].Keys)}
			if !st.Next.IsZero() {
				args = append(args, "next_timing_event", st.Next)
			}
			log.Warn("dnssec: the zone has keys but none signs now; it is served unsigned", args...)
		}
	}
	if len(signed) == 0 {
		return s, nil
	}
	opt := dnssec.Options{Validity: dc.Validity, Refresh: dc.Refresh, DNSKEYTTL: dc.DNSKEYTTL, CacheEntries: dc.CacheEntries}
	if s.Signer, err = dnssec.New(set, signed, opt, now, log); err != nil {
		return nil, fmt.Errorf("%s: dnssec: %w", cfg.File, err)
	}
	return s, nil
}

// checkSigning is BuildSigning for checkconf: signing every zone proves
// each private key works, as the daemon would at start. Without the zones
// (set nil: they did not load) it checks the key files alone.
func checkSigning(cfg *Config, set *zones.Set, log *slog.Logger) (*Signing, error) {
	if set != nil {
		return BuildSigning(cfg, set, time.Now(), log)
	}
	var errs []error
	for _, dir := range cfg.DNSSEC.KeyDirs() {
		if _, err := keys.LoadDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return nil, errors.Join(errs...)
}

// loadZoneKeys reads every key directory once and hands each served
// zone the keys of its own directory.
func loadZoneKeys(cfg *Config, set *zones.Set) (map[string]*keys.ZoneKeys, error) {
	dc := cfg.DNSSEC
	var errs []error
	for _, name := range sortedKeys(dc.Zones) {
		if set.Zone(name) == nil {
			errs = append(errs, dc.Zones[name].Pos.Errorf("dnssec.zones."+strings.TrimSuffix(name, "."),
				"no zone %s is served (zones: %s)", name, cfg.Zones))
		}
	}
	out := map[string]*keys.ZoneKeys{}
	for _, dir := range dc.KeyDirs() {
		found, err := keys.LoadDir(dir)
		if err != nil {
			errs = append(errs, err)
		}
		for _, name := range sortedZones(found) {
			zk := found[name]
			switch own := dc.KeyDir(name); {
			case set.Zone(name) == nil:
				errs = append(errs, fmt.Errorf("%s: keys of zone %s, which is not served (zones: %s)", keyFile(zk), name, cfg.Zones))
			case own == dir:
				out[name] = zk
			case own != "":
				errs = append(errs, fmt.Errorf("%s: keys of zone %s, whose keys are read from %s (dnssec.zones)", keyFile(zk), name, own))
			}
			// own == "": `sign: false`, its keys are left alone.
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// keyFile names the first key of zk for an error.
func keyFile(zk *keys.ZoneKeys) string {
	if len(zk.Keys) == 0 {
		return zk.Zone
	}
	return zk.Keys[0].File + ".key"
}

// keyFilesDigest hashes the names and contents of the key files of dirs.
func keyFilesDigest(dirs []string) (string, error) {
	h := sha256.New()
	for _, dir := range dirs {
		names, err := filepath.Glob(filepath.Join(dir, "K*"))
		if err != nil {
			return "", err
		}
		sort.Strings(names)
		for _, n := range names {
			if !strings.HasSuffix(n, ".key") && !strings.HasSuffix(n, ".private") {
				continue
			}
			b, err := os.ReadFile(n)
			if err != nil {
				return "", fmt.Errorf("dnssec: %w", err)
			}
			fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedZones(m map[string]*keys.ZoneKeys) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]*DNSSECZone) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keyPhase says what key k of a zone does at t, for logs: active (it
// signs), published (in DNSKEY before it signs), retired (published after
// it signed), revoked, unpublished (before Publish) or deleted.
func keyPhase(k *keys.Key, st *keys.State, t time.Time) string {
	for _, set := range [][]*keys.Key{st.ZSK, st.KSK} {
		for _, a := range set {
			if a == k {
				return "active"
			}
		}
	}
	tm := k.Timing
	past := func(at time.Time) bool { return !at.IsZero() && !t.Before(at) }
	switch {
	case past(tm.Delete):
		return "deleted"
	case !tm.Publish.IsZero() && t.Before(tm.Publish):
		return "unpublished"
	case past(tm.Revoke):
		return "revoked"
	case past(tm.Inactive):
		return "retired"
	}
	return "published"
}

// keyRole is KSK, ZSK or CSK (a SEP key that signs everything).
func keyRole(k *keys.Key, st *keys.State) string {
	if !k.KSK() {
		return "ZSK"
	}
	for _, z := range st.ZSK {
		if z == k {
			return "CSK"
		}
	}
	return "KSK"
}

// keyView is one key's phase and role, as logged.
type keyView struct {
	zone, file, phase, role string
	tag                     uint16
	alg                     uint8
}

// keyViews lists what every key of s does at its build time, by file.
func (s *Signing) keyViews() map[string]keyView {
	out := map[string]keyView{}
	if s == nil {
		return out
	}
	for name, zk := range s.Keys {
		st := zk.At(s.Built)
		for _, k := range zk.Keys {
			out[k.File] = keyView{zone: name, file: k.File, phase: keyPhase(k, &st, s.Built), role: keyRole(k, &st),
				tag: k.Tag(), alg: k.DNSKEY.Algorithm}
		}
	}
	return out
}

// logKeyChanges logs, at INFO, every key whose phase or role differs
// between old and new (every key when old is nil).
func logKeyChanges(log *slog.Logger, old, new *Signing) {
	before, after := old.keyViews(), new.keyViews()
	files := make([]string, 0, len(after))
	for f := range after {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		a := after[f]
		b, had := before[f]
		if had && b.phase == a.phase && b.role == a.role && b.tag == a.tag {
			continue
		}
		args := []any{"zone", a.zone, "tag", a.tag, "alg", a.alg, "role", a.role, "state", a.phase}
		if had {
			args = append(args, "was", b.phase)
		}
		log.Info("dnssec key", append(args, "file", filepath.Base(a.file))...)
	}
	for f, b := range before {
		if _, ok := after[f]; !ok {
			log.Info("dnssec key", "zone", b.zone, "tag", b.tag, "alg", b.alg, "role", b.role, "state", "removed",
				"was", b.phase, "file", filepath.Base(b.file))
		}
	}
}
