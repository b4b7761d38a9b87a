package probe

import (
	"context"
	"net/netip"
)

// TCPConnect opens a TCP connection to addr and closes it at once.
func TCPConnect(ctx context.Context, addr netip.AddrPort) error {
	conn, err := dial(ctx, addr)
	if err != nil {
		return err
	}
	return conn.Close()
}
