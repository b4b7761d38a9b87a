package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
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
		// Over a limit: refuse rather than queue, so one client opening
		// connections cannot starve the rest.
		tc := s.tcp.admit(c)
		if tc == nil {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go s.handleConn(tc)
	}
}

// handleConn serves one TCP connection: RFC 7766 pipelining, answered in
// order; replies are flushed when no further query is already buffered, so
// a burst of pipelined queries costs few writes. Between queries the
// connection is idle, and the pool may close it; once the first byte of a
// query is in, it is busy and only its timeout or shutdown ends it.
func (s *Server) handleConn(tc *tcpConn) {
	c := tc.Conn
	defer func() {
		c.Close()
		s.tcp.release(tc)
		s.wg.Done()
	}()
	wk := s.workers.Get().(*worker)
	defer func() { s.workers.Put(wk) }() // the worker in use at the end: a panic replaces it
	br := bufio.NewReaderSize(c, 16*1024)
	bw := bufio.NewWriterSize(c, 16*1024)
	msg := make([]byte, 65535)
	out := make([]byte, 0, 65537)
	var lenBuf [2]byte
	var timeout time.Duration
	for {
		if br.Buffered() == 0 {
			// Answers go out before waiting for more.
			if err := bw.Flush(); err != nil {
				return
			}
			var ok bool
			if timeout, ok = s.awaitQuery(tc, br); !ok {
				return
			}
		} else if s.tcp.isClosing() {
			bw.Flush() // pipelined queries still unread are left at shutdown
			return
		}
		c.SetReadDeadline(time.Now().Add(timeout))
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(br, msg[:n]); err != nil {
			return
		}
		s.tcpStat.TCP.Add(1)
		resp, ok := s.answerGuarded(wk, s.snap.Load(), msg[:n], tc.src, true, out)
		if !ok {
			// Dropped, and the connection goes on with the next query.
			wk = wk.renewed()
			continue
		}
		if resp == nil {
			continue
		}
		binary.BigEndian.PutUint16(lenBuf[:], uint16(len(resp)))
		c.SetWriteDeadline(time.Now().Add(timeout))
		bw.Write(lenBuf[:])
		bw.Write(resp)
	}
}

// awaitQuery waits, idle, for the first byte of the next query and marks
// the connection busy; it returns the timeout for the rest of the query,
// or false when the connection is to close.
func (s *Server) awaitQuery(tc *tcpConn, br *bufio.Reader) (time.Duration, bool) {
	idle, ok := s.tcp.waitIdle(tc)
	if !ok {
		return 0, false
	}
	tc.SetReadDeadline(time.Now().Add(idle))
	if _, err := br.Peek(1); err != nil {
		return 0, false
	}
	return s.tcp.wake(tc)
}
