package adminstate

import (
	"bytes"
	"errors"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// admin_state is edited by hand: any text is either a state whose entries
// come from its lines, or refused with every problem on a line of it.
func FuzzParse(f *testing.F) {
	f.Add([]byte("geoip/generic-map/esams => DOWN\ngeoip/text*/ulsfo => up/30 # c\n\"site/eqiad\" => \"DOWN/120\"\n; c\n"))
	f.Add([]byte("a\nsite/x => SIDEWAYS\nsite/[x => DOWN\nsite/y => DOWN/268435456\n"))
	f.Add([]byte("\"a b\" = \"UP\"\n\"unterminated => DOWN\nx => DOWN/-1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse("f", data)
		lines := bytes.Count(data, []byte("\n")) + 1
		if err != nil {
			var es conf.Errors
			if st != nil || !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse = %v, %#v: want nil and conf.Errors", st, err)
			}
			for i, e := range es {
				if e.Pos.File != "f" || e.Pos.Line < 1 || e.Pos.Line > lines || (i > 0 && es[i-1].Pos.Line >= e.Pos.Line) {
					t.Fatalf("problems not one a line, in order, on lines of the text:\n%v", err)
				}
			}
			return
		}
		for i, e := range st.Entries {
			if e.Line < 1 || e.Line > lines || (i > 0 && st.Entries[i-1].Line >= e.Line) || (e.HasTTL && e.TTL > MaxTTL) {
				t.Fatalf("entry %+v", e)
			}
			if err := validGlob(e.Pattern); err != nil {
				t.Fatalf("entry %+v has a bad glob: %v", e, err)
			}
		}
	})
}
