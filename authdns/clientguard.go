package authdns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// The bearer token is a password: over plain HTTP anyone on the path reads
// it. Clients send it in clear only to loopback addresses; anything else
// needs TLS (or a client certificate instead of the token).

// TokenInClear returns an error saying what to do instead when a client of
// addr with opts would send token over plain TCP to an address that is not
// loopback (a host name must resolve to loopback addresses only). It is
// nil for Unix sockets, TLS, and calls without a token.
func TokenInClear(addr, token string, opts ...ClientOption) error {
	if token == "" || !IsTCPAddr(addr) {
		return nil
	}
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	if _, ok := tlsTarget(addr, o); ok {
		return nil
	}
	host, _, _ := net.SplitHostPort(addr)
	if loopbackHost(host) {
		return nil
	}
	return inClearError(addr)
}

func inClearError(addr string) error {
	return fmt.Errorf("refusing to send the control token in clear to %s, which is not a loopback address: give that server control_tls_cert and control_tls_key and call https://%s (with --ca-file), or authenticate with a client certificate over TLS (control_client_ca on the server; --cert-file and --key-file here), or run the command on the server itself against its control socket",
		addr, addr)
}

// resolveTimeout bounds the look-up of a control host name.
const resolveTimeout = 5 * time.Second

func loopbackHost(host string) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().IsLoopback()
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.Unmap().IsLoopback() {
			return false
		}
	}
	return true
}

// loopbackOnlyDialer connects only to loopback addresses: the last guard
// for a token sent in clear, checked on the address actually dialled (a
// name may resolve differently than when TokenInClear looked).
func loopbackOnlyDialer(addr string) *net.Dialer {
	return &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.Unmap().IsLoopback() {
			return inClearError(addr)
		}
		return nil
	}}
}
