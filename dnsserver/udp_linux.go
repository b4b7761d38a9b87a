//go:build linux

package dnsserver

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP on Linux reads and writes in batches with recvmmsg/sendmmsg, through
// the socket's RawConn so the goroutine still parks in the netpoller when the
// socket is empty. Under load one syscall pair serves up to udpBatch
// queries; at low load it costs what recvfrom/sendto did. Nothing is
// allocated per packet: every buffer and header lives in udpBatchState, and
// the two closures handed to RawConn are made once per socket.

const (
	udpBatch     = 32
	maxQuerySize = 4096 // larger queries are dropped (gdnsd takes 1024)
)

type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

type udpBatchState struct {
	in      [udpBatch]mmsghdr
	inIov   [udpBatch]unix.Iovec
	names   [udpBatch]unix.RawSockaddrInet6 // large enough for IPv4 too
	inBuf   [udpBatch][maxQuerySize]byte
	out     [udpBatch]mmsghdr
	outIov  [udpBatch]unix.Iovec
	outBuf  [udpBatch][]byte
	got     int
	sent    int
	pending int
	errno   syscall.Errno
}

func newUDPBatchState() *udpBatchState {
	b := &udpBatchState{}
	for i := range b.in {
		b.inIov[i].Base = &b.inBuf[i][0]
		b.inIov[i].SetLen(maxQuerySize)
		b.in[i].hdr.Iov = &b.inIov[i]
		b.in[i].hdr.SetIovlen(1)
		b.in[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.outBuf[i] = make([]byte, 0, 65537)
		b.out[i].hdr.Iov = &b.outIov[i]
		b.out[i].hdr.SetIovlen(1)
	}
	return b
}

func (s *Server) serveUDP(c *net.UDPConn, st *Stats) {
	defer s.wg.Done()
	rc, err := c.SyscallConn()
	if err != nil {
		s.serveUDPPortable(c, st)
		return
	}
	wk := newWorker(st)
	b := newUDPBatchState()
	recv := func(fd uintptr) bool {
		for i := range b.in {
			b.in[i].hdr.Namelen = uint32(unsafe.Sizeof(b.names[i]))
			b.in[i].hdr.Flags = 0
		}
		n, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), udpBatch, unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		b.got, b.errno = int(n), e
		return true
	}
	send := func(fd uintptr) bool {
		n, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[b.sent])), uintptr(b.pending-b.sent), unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		if e != 0 {
			b.sent++ // skip the message the kernel refused (e.g. unreachable client)
		} else {
			b.sent += int(n)
		}
		return true
	}
	for {
		if err := rc.Read(recv); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if b.errno != 0 || b.got <= 0 {
			continue
		}
		snap := s.snap.Load()
		b.pending = 0
		for i := 0; i < b.got; i++ {
			st.UDP.Add(1)
			h := &b.in[i]
			if h.hdr.Flags&unix.MSG_TRUNC != 0 {
				st.Dropped.Add(1)
				continue
			}
			src, ok := sockaddrAddr(&b.names[i])
			if !ok {
				st.Dropped.Add(1)
				continue
			}
			resp := wk.answer(snap, b.inBuf[i][:h.len], src, false, b.outBuf[b.pending][:0])
			if resp == nil {
				continue
			}
			o := &b.out[b.pending]
			b.outIov[b.pending].Base = &resp[0]
			b.outIov[b.pending].SetLen(len(resp))
			o.hdr.Name = h.hdr.Name
			o.hdr.Namelen = h.hdr.Namelen
			b.pending++
		}
		for b.sent = 0; b.sent < b.pending; {
			if err := rc.Write(send); err != nil {
				break
			}
		}
	}
}

// sockaddrAddr reads the source address the kernel wrote.
func sockaddrAddr(sa *unix.RawSockaddrInet6) (netip.Addr, bool) {
	switch sa.Family {
	case unix.AF_INET6:
		return netip.AddrFrom16(sa.Addr).Unmap(), true
	case unix.AF_INET:
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(v4.Addr), true
	}
	return netip.Addr{}, false
}
