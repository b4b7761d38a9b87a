package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
)

// HTTP is a GET request sent to one server.
type HTTP struct {
	// URL is http:// or https://; its host is the Host header and the TLS
	// server name, not where the request goes.
	URL       string
	UserAgent string // "" sends Go's default, Go-http-client/1.1
	// BodyLimit is how much of the body is read (and discarded) before
	// the connection is closed.
	BodyLimit int64
}

// maxLine bounds the status line and each header line read.
const maxLine = 4096

// bufs are the read buffers of checks under way: a check needs one for
// the length of a round trip, and thousands of checks a second would
// otherwise each allocate one.
var bufs = sync.Pool{New: func() any { return new([maxLine]byte) }}

// Get sends h to addr over a new connection (HTTP/1.1, Connection:
// close) and returns the response's status. A redirect is not followed:
// its status is the result. A server certificate is not verified (servers
// present the public name's certificate; a health check is not the place
// to judge it).
//
// It writes the request and reads the status line and headers itself
// rather than through net/http: a check is one request on one connection
// that needs only the status, and net/http's request, response and
// buffer machinery would cost several times the check's own work at
// thousands of checks a second. As gdnsd's http_status, it reads the
// status line and skips header lines up to the blank line without
// judging them.
func (h HTTP) Get(ctx context.Context, addr netip.AddrPort) (status int, err error) {
	u, err := url.Parse(h.URL)
	if err != nil {
		return 0, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return 0, fmt.Errorf("unsupported protocol scheme %q", u.Scheme)
	}
	if u.Host == "" || strings.ContainsAny(u.Host, " \r\n") {
		return 0, fmt.Errorf("invalid host %q in URL", u.Host)
	}
	req := h.request(u)
	c, err := dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var rw io.ReadWriter = c
	if u.Scheme == "https" {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, ctxErr(ctx, err)
		}
		rw = tc
	}
	if _, err := rw.Write(req); err != nil {
		return 0, ctxErr(ctx, err)
	}
	buf := bufs.Get().(*[maxLine]byte)
	defer bufs.Put(buf)
	r := lineReader{r: rw, buf: buf[:]}
	status, err = r.response(h.BodyLimit)
	return status, ctxErr(ctx, err)
}

// request is the request's bytes: what net/http's Request.Write sends for
// a GET with Connection: close.
func (h HTTP) request(u *url.URL) []byte {
	ua := h.UserAgent
	if ua == "" {
		ua = "Go-http-client/1.1"
	}
	var b bytes.Buffer
	b.Grow(64 + len(u.Host) + len(ua) + len(u.Path) + len(u.RawQuery))
	b.WriteString("GET ")
	b.WriteString(u.RequestURI())
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(u.Host)
	b.WriteString("\r\nUser-Agent: ")
	b.WriteString(ua)
	b.WriteString("\r\nConnection: close\r\n\r\n")
	return b.Bytes()
}

// lineReader reads CRLF- or LF-ended lines from r through buf.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buf[start:end] is read and not consumed
	n          int64
}

// response reads responses up to the final one (1xx other than 101 are
// interim), then discards up to limit bytes of what follows its headers,
// and returns its status.
func (l *lineReader) response(limit int64) (int, error) {
	for {
		line, err := l.line()
		if err != nil {
			return 0, err
		}
		status, err := parseStatus(line)
		if err != nil {
			return 0, err
		}
		for {
			h, err := l.line()
			if err != nil {
				return 0, err
			}
			if len(h) == 0 {
				break
			}
		}
		if status >= 100 && status < 200 && status != 101 {
			continue
		}
		l.discard(limit)
		return status, nil
	}
}

// line is the next line without its end; it is valid until the next call.
func (l *lineReader) line() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.start:l.end], '\n'); i >= 0 {
			line := l.buf[l.start : l.start+i]
			l.start += i + 1
			return bytes.TrimSuffix(line, []byte("\r")), nil
		}
		if l.start > 0 {
			l.end = copy(l.buf, l.buf[l.start:l.end])
			l.start = 0
		}
		if l.end == len(l.buf) {
			return nil, errors.New("malformed HTTP response: line too long")
		}
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if n == 0 && err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// discard reads up to limit bytes past the consumed ones, ignoring errors.
func (l *lineReader) discard(limit int64) {
	limit -= int64(l.end - l.start)
	for limit > 0 {
		n, err := l.r.Read(l.buf[:min(int64(len(l.buf)), limit)])
		limit -= int64(n)
		if err != nil {
			return
		}
	}
}

// parseStatus is the status code of a status line "HTTP/x.y NNN reason".
func parseStatus(line []byte) (int, error) {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || !validProto(proto) || len(rest) < 3 || (len(rest) > 3 && rest[3] != ' ') {
		return 0, fmt.Errorf("malformed HTTP response %q", line)
	}
	code := 0
	for _, c := range rest[:3] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("malformed HTTP status code %q", rest[:3])
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, fmt.Errorf("malformed HTTP status code %q", rest[:3])
	}
	return code, nil
}

// validProto accepts "HTTP/" followed by a one-digit major and minor
// version, as net/http does.
func validProto(p []byte) bool {
	return len(p) == 8 && string(p[:5]) == "HTTP/" && p[5] >= '0' && p[5] <= '9' && p[6] == '.' && p[7] >= '0' && p[7] <= '9'
}

// ctxErr is ErrTimedOut when ctx's deadline ended the check, else err.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimedOut
	}
	return err
}

var _ net.Conn = (*conn)(nil)
