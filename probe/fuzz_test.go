package probe

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzResponse feeds the HTTP response reader arbitrary server output:
// it must never panic, never read past the body limit, and report a
// status only from a well-formed final status line.
func FuzzResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.0 503 Service Unavailable\n\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
		"<html>502</html>\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099\r\n\r\n",
		"HTTP/1.1 200",
		strings.Repeat("X", maxLine+10),
	} {
		f.Add([]byte(seed), int64(16))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit int64) {
		limit = max(0, min(limit, 1<<20))
		src := bytes.NewReader(data)
		r := lineReader{r: src, buf: make([]byte, maxLine)}
		status, err := r.response(limit)
		if err != nil {
			return
		}
		if status < 100 || status > 999 {
			t.Fatalf("status %d from %q", status, data)
		}
		if !bytes.HasPrefix(data, []byte("HTTP/")) {
			t.Fatalf("status %d from output not starting with a status line: %q", status, data)
		}
		if status >= 100 && status < 200 && status != 101 {
			t.Fatalf("interim status %d returned as final", status)
		}
	})
}
