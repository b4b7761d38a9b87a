package probe

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// conn is a connected TCP socket driven by the runtime's poller. It is
// opened with system calls of its own rather than through net.Dialer: a
// check needs neither the resolver, nor the local address, nor
// TCP_NODELAY, and at thousands of checks a second those cost as much
// user time as the connect itself.
type conn struct {
	*os.File
	addr netip.AddrPort
	stop func() bool // ends the context watch
}

// dial connects to addr. Until Close, the end of ctx unblocks reads and
// writes with an error.
func dial(ctx context.Context, addr netip.AddrPort) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(ctx, err)
	}
	sa, family, err := sockaddr(addr)
	if err != nil {
		return nil, dialErr(addr, err)
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, dialErr(addr, os.NewSyscallError("socket", err))
	}
	err = syscall.Connect(fd, sa)
	if err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		return nil, dialErr(addr, os.NewSyscallError("connect", err))
	}
	// A non-blocking descriptor is registered with the poller.
	c := &conn{File: os.NewFile(uintptr(fd), "tcp"), addr: addr}
	c.stop = context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	if err == nil {
		return c, nil
	}
	if err := c.waitConnected(); err != nil {
		c.Close()
		return nil, ctxErr(ctx, dialErr(addr, err))
	}
	return c, nil
}

// waitConnected waits until the connect in progress ends and returns its
// error. No error is pending both while the handshake runs and once it
// is done, so, as net does, getpeername tells the two apart; that also
// covers the poller's spurious wake-ups and the first look, which
// RawConn.Write takes before it waits.
func (c *conn) waitConnected() error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var soErr error
	werr := rc.Write(func(fd uintptr) bool {
		n, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		switch {
		case err != nil:
			soErr = os.NewSyscallError("getsockopt", err)
		case n == int(syscall.EINPROGRESS), n == int(syscall.EALREADY), n == int(syscall.EINTR):
			return false
		case n == int(syscall.EISCONN):
		case n != 0:
			soErr = os.NewSyscallError("connect", syscall.Errno(n))
		default:
			if _, err := syscall.Getpeername(int(fd)); err != nil {
				return false // not connected yet
			}
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return soErr
}

// Close closes the socket and stops watching the context.
func (c *conn) Close() error {
	c.stop()
	return c.File.Close()
}

// LocalAddr is unknown: nothing asks the kernel for it.
func (c *conn) LocalAddr() net.Addr { return &net.TCPAddr{} }

func (c *conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.addr) }

// dialErr is err as net.Dial words it ("dial tcp ADDR: connect: ...").
func dialErr(addr netip.AddrPort, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: err}
}

// sockaddr is addr as the socket calls take it.
func sockaddr(addr netip.AddrPort) (syscall.Sockaddr, int, error) {
	a := addr.Addr()
	switch {
	case !a.IsValid():
		return nil, 0, &net.AddrError{Err: "invalid address", Addr: addr.String()}
	case a.Is4() || a.Is4In6():
		return &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: a.Unmap().As4()}, syscall.AF_INET, nil
	}
	sa := &syscall.SockaddrInet6{Port: int(addr.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if n, err := strconv.Atoi(z); err == nil {
			sa.ZoneId = uint32(n)
		} else if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else {
			return nil, 0, err
		}
	}
	return sa, syscall.AF_INET6, nil
}
