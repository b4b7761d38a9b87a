package health

import (
	"bytes"
	"testing"
)

// An extfile is written by other tools: any text is either a table of
// addresses to states or refused, never a panic or a partial table.
func FuzzParseExtfile(f *testing.F) {
	f.Add([]byte("127.0.0.1 => UP\n2001:db8::1 => DOWN/30 # c\n\"192.0.2.1\" = \"down/0\"\n; c\n"))
	f.Add([]byte("127.0.0.1 => UP\n127.0.0.1 => DOWN\n"))
	f.Add([]byte("127.0.0.1 => SIDEWAYS\n127.0.0.2\n127.0.0.3 => UP/268435456\n"))
	f.Add([]byte("\"unterminated => DOWN\nx => DOWN/-1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseExtfile("f", data)
		if err != nil {
			if got != nil {
				t.Fatalf("an error and a table %v", got)
			}
			if !bytes.HasPrefix([]byte(err.Error()), []byte("f:")) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for k, e := range got {
			if k == "" || e.ttl > MaxTTL || (!e.hasTTL && e.ttl != 0) {
				t.Fatalf("entry %q = %+v", k, e)
			}
		}
	})
}
