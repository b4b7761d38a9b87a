package probe

import (
	"context"
	"net"
	"net/netip"
)

// TCPConnect opens a TCP connection to addr and closes it at once.
func TCPConnect(ctx context.Context, addr netip.AddrPort) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return ErrTimedOut
		}
		return err
	}
	return conn.Close()
}
