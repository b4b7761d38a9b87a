package pool

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// Pool documents are outside input (a file, or whatever an HTTP server
// answers). Every line of the legacy format is either a server or a
// problem on that line; a server's weight is in range.
func FuzzParseLegacy(f *testing.F) {
	f.Add([]byte("# c\n{ 'host': 'mw1', 'weight': 10, 'enabled': True }\n{'host': \"mw2\", 'weight': 0, 'enabled': False} # x\n"))
	f.Add([]byte("<html>502</html>\n{ 'host': 'a', 'weight': '10', 'enabled': True }\n{ 'host': 'a', 'weight': 1,"))
	f.Add([]byte("{ 'host': 'e', 'weight': __import__('os'), 'enabled': True }\r\n\n  # indented\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, bad := ParseLegacy("f", data)
		lines := strings.Split(string(data), "\n")
		for i, e := range bad {
			if e.Pos.File != "f" || e.Pos.Line < 1 || e.Pos.Line > len(lines) || !strings.HasPrefix(e.Reason, "bad configuration line") {
				t.Fatalf("problem %q is not about a line of the document", e)
			}
			if i > 0 && bad[i-1].Pos.Line >= e.Pos.Line {
				t.Fatalf("problems not one a line in order: %v", bad)
			}
		}
		for h, s := range p {
			if strings.TrimSpace(h) == "" || s.Weight > MaxWeight {
				t.Fatalf("bad server %q %+v", h, s)
			}
		}
		if len(p) > len(lines)-len(bad) {
			t.Fatalf("%d servers from %d lines with %d bad", len(p), len(lines), len(bad))
		}
	})
}

// A JSON pool is accepted only if it is a JSON object of objects (or
// null) with valid fields; otherwise every problem is on a line of it.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"a": {"enabled": true, "weight": 10}, "b": {"enabled": false, "weight": 0}, "c": {}, "d": null}`))
	f.Add([]byte("{\n\"a\": {\"weight\": 1.5},\n\"b\": [],\n\"\": {}\n}"))
	f.Add([]byte(`<html>502</html>`))
	f.Add([]byte(`{"a": {"weight": 1e2, "enabled": "yes"}} trailing`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseJSON("f", data)
		if err != nil {
			var es conf.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %#v is not conf.Errors", err)
			}
			for _, e := range es {
				if e.Pos.File != "f" || e.Pos.Line < 1 || e.Pos.Line > bytes.Count(data, []byte("\n"))+1 {
					t.Fatalf("problem %q is not on a line of the document", e)
				}
			}
			return
		}
		var raw map[string]map[string]json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil || raw == nil {
			t.Fatalf("accepted %q, which is not an object of objects: %v", data, err)
		}
		for h, s := range p {
			if _, ok := raw[h]; !ok || strings.TrimSpace(h) == "" || s.Weight > MaxWeight {
				t.Fatalf("bad server %q %+v", h, s)
			}
		}
	})
}
