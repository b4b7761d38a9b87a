package config

import (
	"bytes"
	"errors"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// pybal.conf is outside input: any text either parses into services lvsd
// can apply or is refused with conf.Errors, sorted, each on a line of the
// text.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("[global]\ninstrumentation = maybe\n[s\nport = 1\n[a]\nprotocol = sctp\n"))
	f.Add([]byte("[DEFAULT]\nx = %(y)s\ny = %(x)s\n[s]\nprotocol = udp\nip = ::1\nport = 53\nscheduler = mh\nops = on\nconfig = etcd://h/conftool/v1/pools/a/b/c/\n"))
	f.Add([]byte("a = b\n[global]\nbgp = yes\nbgp-local-asn = 1\nbgp-peer-address = [\"10.0.0.1\"]\n  continued\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f", data)
		if err != nil {
			checkErrors(t, err, data)
			return
		}
		for _, s := range c.Services {
			if s.Key.Port == 0 || !s.Key.Addr.IsValid() || (s.Key.Protocol != ipvs.TCP && s.Key.Protocol != ipvs.UDP) ||
				!ipvs.ValidScheduler(s.Scheduler) || s.Rise < 1 || s.Fall < 1 || s.PoolURL == "" ||
				s.DepoolThreshold < 0 || s.DepoolThreshold > 1 || s.Pos.File != "f" || s.Pos.Line < 1 {
				t.Fatalf("accepted an invalid service: %+v", s)
			}
		}
	})
}

func checkErrors(t *testing.T, err error, data []byte) {
	var es conf.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("error %#v is not conf.Errors", err)
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for i, e := range es {
		if e.Pos.File != "f" || e.Pos.Line < 0 || e.Pos.Line > lines {
			t.Fatalf("error %q is not on a line of the text (%d lines)", e, lines)
		}
		if i > 0 && es[i-1].Pos.Line > e.Pos.Line {
			t.Fatalf("errors not sorted:\n%v", err)
		}
	}
}
