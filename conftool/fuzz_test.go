package conftool

import (
	"errors"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// FuzzValues feeds etcd values, as anyone with write access could store
// them, to every kind's parser: none may panic, a value accepted must
// survive Canonical and still be accepted, and a node, site or
// admin-state value refused is a *conf.Error that AtKey places at its
// key.
func FuzzValues(f *testing.F) {
	for _, s := range []string{`{"weight": 10, "pooled": "yes"}`, `{"state": "down"}`, `{"state": "DOWN", "ttl": 30}`,
		`{"route": ["codfw", "eqiad"]}`, `{"route": {"active-active": ["eqiad"]}}`, `<html>502</html>`, `{"weight": 1e3}`, ``, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range Kinds() {
			if err := Validate(k, []byte(s)); err != nil {
				var e *conf.Error
				if k != Route && k != AppRoute && (!errors.As(err, &e) || e.Pos != (conf.Pos{})) {
					t.Fatalf("%s: %q refused with %#v, want a *conf.Error without a position", k, s, err)
				}
				if at := AtKey("/k", err).Error(); !strings.HasPrefix(at, "/k: ") {
					t.Fatalf("%s: AtKey(%v) = %q", k, err, at)
				}
				continue
			}
			c, err := Canonical(k, []byte(s))
			if err != nil {
				t.Fatalf("%s: valid %q but Canonical: %v", k, s, err)
			}
			if err := Validate(k, c); err != nil {
				t.Fatalf("%s: canonical %q of %q refused: %v", k, c, s, err)
			}
		}
	})
}

// FuzzKeysAndSelectors: keys from etcd and selectors from the command line.
func FuzzKeysAndSelectors(f *testing.F) {
	f.Add("/conftool/v1/pools/eqiad/appserver/apache2/mw1001", "dc=eqiad,name=mw.*")
	f.Add("/conftool/v1/admin-state/geoip/x/*", "key=geoip/.*")
	f.Add("/conftool/v1/sites/", "name=(")
	l := NewLayout("")
	f.Fuzz(func(t *testing.T, key, sel string) {
		k, tags, ok := l.Parse(key)
		if !ok {
			return
		}
		back, err := l.Key(k, tags...)
		if err != nil || back != key {
			t.Fatalf("Parse(%q) = %s %q, Key = %q, %v", key, k, tags, back, err)
		}
		if s, err := ParseSelector(k, sel); err == nil {
			s.Match(Object{Kind: k, Key: key, Tags: tags})
		}
		if as, err := ParseAssignments(sel); err == nil {
			_, _ = Apply(k, nil, as)
		}
	})
}
