// Package unixctl opens a daemon's local control socket: a Unix socket
// created with mode 0600 that admits only root and the daemon's own user
// (checked with SO_PEERCRED, since root ignores the mode), and tells the
// handlers who the peer is; for clients, it dials the socket and explains
// a refusal.
package unixctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Listener is a control socket's listener; Accept returns only clients
// that Allowed admits.
type Listener struct {
	*net.UnixListener
	log  *slog.Logger
	self uint32
}

// Listen creates the socket at path with mode 0600 from the start: it is
// bound under a temporary name, restricted, then renamed into place, so no
// other user can connect in between. A live socket at path (another
// daemon) is an error; a stale one is replaced. Refused clients are
// logged to log.
func Listen(path string, log *slog.Logger) (*Listener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another process is listening on this socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("%s: removing a stale socket: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (*Listener, error) {
		ul.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return &Listener{UnixListener: ul, log: log, self: uint32(os.Getuid())}, nil
}

// Allowed is the admission rule: root, or the daemon's own user.
func Allowed(uid, self uint32) bool { return uid == 0 || uid == self }

// Accept returns the next admitted client; others are logged and closed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		uid, err := PeerUID(c)
		if err == nil && Allowed(uid, l.self) {
			return c, nil
		}
		if l.log != nil {
			l.log.Warn("control: refused a client of another user", "uid", uid, "err", err)
		}
		c.Close()
	}
}

// PeerUID is the user id of a Unix socket's peer (SO_PEERCRED).
func PeerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, cerr
	}
	return cred.Uid, nil
}

type peerKey struct{}

// ConnContext is an http.Server ConnContext that records the peer's
// user for PeerUser.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if uc, ok := c.(*net.UnixConn); ok {
		if uid, err := PeerUID(uc); err == nil {
			return context.WithValue(ctx, peerKey{}, uid)
		}
	}
	return ctx
}

// PeerUser is the peer's user name (its uid when the name is unknown),
// "" without ConnContext's record.
func PeerUser(ctx context.Context) string {
	uid, ok := ctx.Value(peerKey{}).(uint32)
	if !ok {
		return ""
	}
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return "uid " + id
}

// Dialer returns an http.Transport DialContext that connects to the
// control socket at path whatever address the request URL names.
func Dialer(path string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}

// RefusedError is what a client of a control socket sees when the daemon
// closed the connection without answering: what Accept does to a user it
// does not admit. Its text leaves out the underlying error, which names
// the name the socket was bound under rather than its path.
type RefusedError struct {
	Path string
	Err  error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: the daemon closed the connection without answering: "+
		"only root and the daemon's own user may use this socket (the daemon logs each refusal)", e.Path)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// ClientError wraps the error of a request over the control socket at
// path, as a RefusedError when the connection was closed before an answer.
func ClientError(path string, err error) error {
	if closedWithoutAnswer(err) {
		return &RefusedError{Path: path, Err: err}
	}
	return fmt.Errorf("%s: %w", path, err)
}

func closedWithoutAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		// net/http's unexported error for a request it may retry (a GET)
		// on a connection closed before any answer.
		strings.Contains(err.Error(), "server closed idle connection")
}
