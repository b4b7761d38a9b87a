package authdns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/unixctl"
)

// Client calls a daemon's control API. A server is named by its control
// address: a Unix socket path, or host:port of the TCP control listener
// (which needs Token).
type Client struct {
	Addr  string
	Token string
	http  *http.Client
}

// IsTCPAddr tells a host:port control address from a socket path.
func IsTCPAddr(addr string) bool {
	if strings.ContainsRune(addr, '/') {
		return false
	}
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port != ""
}

// NewClient returns a client whose every call is bounded by timeout. An
// https://host:port address, or any TCP address with WithTLS, is reached
// over TLS.
func NewClient(addr, token string, timeout time.Duration, opts ...ClientOption) *Client {
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	// A request with a body waits for the server's 100 Continue before
	// sending it: a server that refuses a stage at once (busy, too large)
	// answers without reading the body, and a client still writing it would
	// see a broken pipe instead of the answer.
	tr := &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second}
	if target, ok := tlsTarget(addr, o); ok {
		// The dialer, not the request URL, decides where and how to
		// connect, so the URL can stay whatever the address makes it.
		tr.DialContext = tlsDialer(target, o.tls)
	} else if !IsTCPAddr(addr) {
		tr.DialContext = unixctl.Dialer(addr)
	} else if token != "" {
		tr.DialContext = loopbackOnlyDialer(addr).DialContext
	}
	return &Client{Addr: addr, Token: token, http: &http.Client{Transport: tr, Timeout: timeout}}
}

// APIError is an error answer from the daemon.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return e.Msg }

func (c *Client) url(path string) string {
	if IsTCPAddr(c.Addr) {
		return "http://" + c.Addr + path
	}
	return "http://authdns" + path
}

// wrap names the address in a transport error and, on a control socket,
// explains a connection closed without an answer (a refused user).
func (c *Client) wrap(err error) error {
	if IsTCPAddr(c.Addr) {
		return fmt.Errorf("%s: %w", c.Addr, err)
	}
	return unixctl.ClientError(c.Addr, err)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Expect", "100-continue")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.wrap(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil { // the daemon answered: not a refusal
		return fmt.Errorf("%s: %w", c.Addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &APIError{resp.StatusCode, e.Error}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: bad answer: %w", c.Addr, err)
	}
	return nil
}

// Status calls GET /v1/status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.do(ctx, "GET", "/v1/status", nil, &s)
}

// Data calls GET /v1/data.
func (c *Client) Data(ctx context.Context) (*DataInfo, error) {
	var s DataInfo
	return &s, c.do(ctx, "GET", "/v1/data", nil, &s)
}

// Raw calls any endpoint and returns the JSON answer.
func (c *Client) Raw(ctx context.Context, method, path string) (json.RawMessage, error) {
	var raw json.RawMessage
	return raw, c.do(ctx, method, path, nil, &raw)
}

// Stage calls POST /v1/stage. req.ID is chosen by the caller, so a stage
// whose answer is lost (a time-out) can still be aborted by that id;
// req.Before is the data digest the caller's diff was computed against.
func (c *Client) Stage(ctx context.Context, req *StageRequest) (*StageResult, error) {
	if err := checkStageID(req.ID); err != nil {
		return nil, err
	}
	var r StageResult
	return &r, c.do(ctx, "POST", "/v1/stage", req, &r)
}

// NewStageID returns a fresh bundle id for a stage request.
func NewStageID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Commit calls POST /v1/commit.
func (c *Client) Commit(ctx context.Context, id string) (*Status, error) {
	var s Status
	return &s, c.do(ctx, "POST", "/v1/commit", idRequest{id}, &s)
}

// Abort calls POST /v1/abort. It never sends an empty id: only the
// bundle's owner aborts it.
func (c *Client) Abort(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("abort needs the id of the staged bundle")
	}
	return c.do(ctx, "POST", "/v1/abort", idRequest{id}, nil)
}
