//go:build linux

package dnsserver

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// setRcvBuf sizes fd's receive buffer to want bytes and returns the size
// getsockopt reads back, which on Linux is twice what was granted (the
// kernel counts its per-packet bookkeeping against the buffer, so it
// doubles the request). SO_RCVBUFFORCE passes net.core.rmem_max but needs
// CAP_NET_ADMIN; without it (EPERM) SO_RCVBUF is used, which the kernel
// silently caps at rmem_max. force false skips the first attempt, so tests
// running as root can exercise the fallback. want 0 leaves the buffer as
// the kernel made it.
func setRcvBuf(fd, want int, force bool) (int, error) {
	if want > 0 {
		var err error = unix.EPERM
		if force {
			err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, want)
		}
		if errors.Is(err, unix.EPERM) {
			err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, want)
		}
		if err != nil {
			return 0, fmt.Errorf("SO_RCVBUF %d: %w", want, err)
		}
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return 0, fmt.Errorf("getsockopt SO_RCVBUF: %w", err)
	}
	return got, nil
}

// kernelDefaultRcvBuf is what a new socket gets (net.core.rmem_default):
// a reload to udp_rcvbuf 0 puts kept sockets back to it.
func kernelDefaultRcvBuf() (int, error) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_default")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// resize applies a new receive buffer size to a socket in use; queued
// packets stay queued.
func (u *rawUDP) resize(want int) (int, error) {
	if want == 0 {
		def, err := kernelDefaultRcvBuf()
		if err != nil {
			return 0, fmt.Errorf("net.core.rmem_default: %w", err)
		}
		// A new socket starts at rmem_default as is; a request is
		// doubled, so ask for half to end at the same size.
		want = max(def/2, 1)
	}
	n, err := setRcvBuf(u.fd, want, true)
	if err == nil {
		u.rcvbuf = n
	}
	return n, err
}

func (u *rawUDP) rcvBuf() int { return u.rcvbuf }

// rcvBufFactor: Linux reports twice the granted size (see setRcvBuf).
const rcvBufFactor = 2
