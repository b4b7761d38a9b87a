package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

func (s *Server) serveTCP(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: don't spin
			continue
		}
		if n := s.tcpActive.Add(1); n > s.tcpMax.Load() {
			// At the limit: refuse rather than queue, so one client
			// opening connections cannot starve the rest.
			s.tcpActive.Add(-1)
			s.tcpStat.TCPRejected.Add(1)
			s.log.Debug("tcp: connection limit reached; closing", "client", c.RemoteAddr().String(), "limit", s.tcpMax.Load())
			c.Close()
			continue
		}
		s.tcpStat.TCPAccepted.Add(1)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			s.tcpActive.Add(-1)
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handleConn(c)
	}
}

// handleConn serves one TCP connection: RFC 7766 pipelining, answered in
// order; replies are flushed when no further query is already buffered, so
// a burst of pipelined queries costs few writes.
func (s *Server) handleConn(c net.Conn) {
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.tcpActive.Add(-1)
		s.wg.Done()
	}()
	wk := s.workers.Get().(*worker)
	defer func() { s.workers.Put(wk) }() // the worker in use at the end: a panic replaces it
	var src netip.Addr
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		src = ap.Addr()
	}
	br := bufio.NewReaderSize(c, 16*1024)
	bw := bufio.NewWriterSize(c, 16*1024)
	msg := make([]byte, 65535)
	out := make([]byte, 0, 65537)
	var lenBuf [2]byte
	for {
		c.SetReadDeadline(time.Now().Add(time.Duration(s.tcpIdle.Load())))
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(br, msg[:n]); err != nil {
			return
		}
		s.tcpStat.TCP.Add(1)
		resp, ok := s.answerGuarded(wk, s.snap.Load(), msg[:n], src, true, out)
		if !ok {
			// Dropped, and the connection goes on with the next query.
			wk = wk.renewed()
			continue
		}
		if resp == nil {
			continue
		}
		binary.BigEndian.PutUint16(lenBuf[:], uint16(len(resp)))
		c.SetWriteDeadline(time.Now().Add(time.Duration(s.tcpIdle.Load())))
		bw.Write(lenBuf[:])
		bw.Write(resp)
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if closing {
			bw.Flush()
			return
		}
	}
}
