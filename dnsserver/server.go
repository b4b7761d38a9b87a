package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Config is the socket side of the server.
type Config struct {
	Listen         []string      // host:port; each gets UDP and TCP
	UDPSockets     int           // SO_REUSEPORT sockets per address; default one per CPU
	TCPIdleTimeout time.Duration // default 37 s, as gdnsd
	MaxTCPClients  int           // default 256
}

// Server owns the sockets and the current Snapshot.
type Server struct {
	cfg  Config
	log  *slog.Logger
	snap atomic.Pointer[Snapshot]

	udp     []*net.UDPConn
	tcp     []net.Listener
	udpStat []*Stats
	tcpStat *Stats
	tcpSem  chan struct{}

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
	wg      sync.WaitGroup
	workers sync.Pool
}

// New returns a server that will answer from snap once started.
func New(cfg Config, snap *Snapshot, log *slog.Logger) *Server {
	if cfg.UDPSockets <= 0 {
		cfg.UDPSockets = runtime.NumCPU()
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = 37 * time.Second
	}
	if cfg.MaxTCPClients <= 0 {
		cfg.MaxTCPClients = 256
	}
	s := &Server{cfg: cfg, log: log, tcpStat: new(Stats), conns: map[net.Conn]struct{}{},
		tcpSem: make(chan struct{}, cfg.MaxTCPClients)}
	s.workers.New = func() any { return newWorker(s.tcpStat) }
	s.snap.Store(snap)
	return s
}

// Store swaps in a new snapshot; queries in flight finish on the old one.
func (s *Server) Store(snap *Snapshot) { s.snap.Store(snap) }

// Snapshot returns the snapshot now serving.
func (s *Server) Snapshot() *Snapshot { return s.snap.Load() }

// Stats sums the counters of every socket.
func (s *Server) Stats() StatsSnapshot {
	var t StatsSnapshot
	for _, st := range s.udpStat {
		st.addTo(&t)
	}
	s.tcpStat.addTo(&t)
	return t
}

// TCPConns is the number of open TCP connections.
func (s *Server) TCPConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Addrs returns the bound UDP addresses (one per listen address), which
// resolves port 0 for tests.
func (s *Server) Addrs() []net.Addr {
	var out []net.Addr
	seen := map[string]bool{}
	for _, c := range s.udp {
		a := c.LocalAddr().String()
		if !seen[a] {
			seen[a] = true
			out = append(out, c.LocalAddr())
		}
	}
	return out
}

func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// Start opens every socket (all or none) and starts serving.
func (s *Server) Start() error {
	lc := net.ListenConfig{Control: reusePort}
	ctx := context.Background()
	fail := func(err error) error {
		s.closeSockets()
		return err
	}
	for _, addr := range s.cfg.Listen {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fail(fmt.Errorf("listen %q: %w", addr, err))
		}
		network := "udp4"
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			network = "udp6"
		}
		for i := 0; i < s.cfg.UDPSockets; i++ {
			pc, err := lc.ListenPacket(ctx, network, net.JoinHostPort(host, port))
			if err != nil {
				return fail(fmt.Errorf("listen udp %s: %w", addr, err))
			}
			uc := pc.(*net.UDPConn)
			// Port 0 asks for a free port: the other sockets of this
			// address, and TCP, share the one the first socket got.
			port = strconv.Itoa(uc.LocalAddr().(*net.UDPAddr).Port)
			s.udp = append(s.udp, uc)
		}
		tcpNet := "tcp4"
		if network == "udp6" {
			tcpNet = "tcp6"
		}
		ln, err := lc.Listen(ctx, tcpNet, net.JoinHostPort(host, port))
		if err != nil {
			return fail(fmt.Errorf("listen tcp %s: %w", addr, err))
		}
		s.tcp = append(s.tcp, ln)
		s.log.Info("listening", "udp", net.JoinHostPort(host, port), "tcp", ln.Addr().String(), "udp_sockets", s.cfg.UDPSockets)
	}
	for _, c := range s.udp {
		st := new(Stats)
		s.udpStat = append(s.udpStat, st)
		s.wg.Add(1)
		go s.serveUDP(c, st)
	}
	for _, ln := range s.tcp {
		s.wg.Add(1)
		go s.serveTCP(ln)
	}
	return nil
}

func (s *Server) closeSockets() {
	for _, c := range s.udp {
		c.Close()
	}
	for _, l := range s.tcp {
		l.Close()
	}
}

// Shutdown stops accepting, lets TCP clients finish the query in hand, and
// waits for every goroutine (bounded by ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.SetReadDeadline(time.Now()) // idle readers wake up and leave
	}
	s.mu.Unlock()
	s.closeSockets()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

func (s *Server) serveUDP(c *net.UDPConn, st *Stats) {
	defer s.wg.Done()
	wk := newWorker(st)
	buf := make([]byte, 65535)
	out := make([]byte, 0, 65537)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		st.UDP.Add(1)
		if resp := wk.answer(s.snap.Load(), buf[:n], from.Addr(), false, out); resp != nil {
			c.WriteToUDPAddrPort(resp, from)
		}
	}
}
