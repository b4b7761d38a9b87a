package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults for the settings left zero, as gdnsd's; authdns.yaml's defaults
// are these.
const (
	DefaultMaxUDPSize     = 1232 // the DNS flag day 2020 EDNS buffer size
	DefaultTCPIdleTimeout = 37 * time.Second
	DefaultMaxTCPClients  = 256
	// More TCP defaults (per client network, under pressure) are in
	// tcppool.go, with the admission rules.
)

// Config is the socket side of the server.
type Config struct {
	Listen         []string      // host:port; each gets UDP and TCP
	UDPSockets     int           // SO_REUSEPORT sockets per address; default one per CPU
	TCPIdleTimeout time.Duration // default DefaultTCPIdleTimeout
	MaxTCPClients  int           // default DefaultMaxTCPClients
	// MaxTCPClientsPerIP bounds the connections of one client network:
	// its address cut to TCPClientIPv4Prefix or TCPClientIPv6Prefix bits.
	MaxTCPClientsPerIP  int // default DefaultMaxTCPClientsPerIP
	TCPClientIPv4Prefix int // default DefaultTCPClientIPv4Prefix
	TCPClientIPv6Prefix int // default DefaultTCPClientIPv6Prefix
	// UDPRcvBuf is the receive buffer asked for each UDP socket, in
	// bytes; 0 leaves the kernel's default (net.core.rmem_default).
	UDPRcvBuf int
}

// Server owns the sockets and the current Snapshot.
type Server struct {
	cfg  Config
	log  *slog.Logger
	snap atomic.Pointer[Snapshot]

	tcpStat *Stats
	tcp     *tcpPool

	gmu     sync.Mutex // guards groups and retired (Start, Rebind, Stats)
	groups  []*group
	retired []*Stats // counters of closed sockets, so totals never go back

	wg      sync.WaitGroup
	workers sync.Pool
	panics  panicLog
}

// group is the sockets of one listen address: UDP (SO_REUSEPORT, several)
// and one TCP listener.
type group struct {
	addr    string // as configured
	bound   string // host:port actually bound (port 0 resolved)
	sockets int
	udp     []udpSocket
	udpStat []*Stats
	tcp     net.Listener
}

// udpSocket is one bound UDP socket; serveUDP (per platform) reads it
// until Close.
type udpSocket interface {
	LocalAddr() net.Addr
	Close() error
	rcvBuf() int                  // effective receive buffer (see UDPRcvBuf)
	resize(want int) (int, error) // a new receive buffer, in place
}

// New returns a server that will answer from snap once started.
func New(cfg Config, snap *Snapshot, log *slog.Logger) *Server {
	cfg = withDefaults(cfg)
	s := &Server{cfg: cfg, log: log, tcpStat: new(Stats)}
	s.tcp = newTCPPool(limitsOf(cfg), s.tcpStat, log)
	s.workers.New = func() any { return newWorker(s.tcpStat) }
	s.snap.Store(snap)
	return s
}

func withDefaults(cfg Config) Config {
	if cfg.UDPSockets <= 0 {
		cfg.UDPSockets = runtime.NumCPU()
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if cfg.MaxTCPClients <= 0 {
		cfg.MaxTCPClients = DefaultMaxTCPClients
	}
	if cfg.MaxTCPClientsPerIP <= 0 {
		cfg.MaxTCPClientsPerIP = DefaultMaxTCPClientsPerIP
	}
	if cfg.TCPClientIPv4Prefix <= 0 || cfg.TCPClientIPv4Prefix > 32 {
		cfg.TCPClientIPv4Prefix = DefaultTCPClientIPv4Prefix
	}
	if cfg.TCPClientIPv6Prefix <= 0 || cfg.TCPClientIPv6Prefix > 128 {
		cfg.TCPClientIPv6Prefix = DefaultTCPClientIPv6Prefix
	}
	return cfg
}

// Store swaps in a new snapshot; queries in flight finish on the old one.
func (s *Server) Store(snap *Snapshot) { s.snap.Store(snap) }

// Snapshot returns the snapshot now serving.
func (s *Server) Snapshot() *Snapshot { return s.snap.Load() }

// Stats sums the counters of every socket, open or closed.
func (s *Server) Stats() StatsSnapshot {
	var t StatsSnapshot
	s.gmu.Lock()
	for _, g := range s.groups {
		for _, st := range g.udpStat {
			st.addTo(&t)
		}
	}
	for _, st := range s.retired {
		st.addTo(&t)
	}
	s.gmu.Unlock()
	s.tcpStat.addTo(&t)
	return t
}

// BlockingUDPReaders is the number of goroutines that serve UDP by
// blocking in the kernel (one per UDP socket on Linux, none elsewhere).
// Each can hold a scheduler P while it waits, so a process that wants its
// other goroutines (TCP, control, metrics) to run promptly under UDP load
// raises GOMAXPROCS by this much; cmd/authdns does.
func (s *Server) BlockingUDPReaders() int {
	if !udpReadersBlock {
		return 0
	}
	s.gmu.Lock()
	defer s.gmu.Unlock()
	n := 0
	for _, g := range s.groups {
		n += len(g.udp)
	}
	return n
}

// TCPConns is the number of open TCP connections.
func (s *Server) TCPConns() int {
	n, _ := s.tcp.stats()
	return n
}

// TCPMaxPerClient is the most open TCP connections one client network
// (as MaxTCPClientsPerIP counts them) holds.
func (s *Server) TCPMaxPerClient() int {
	_, n := s.tcp.stats()
	return n
}

// Addrs returns the bound UDP addresses (one per listen address), which
// resolves port 0 for tests.
func (s *Server) Addrs() []net.Addr {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	var out []net.Addr
	for _, g := range s.groups {
		out = append(out, g.udp[0].LocalAddr())
	}
	return out
}

// reusePort lets several sockets (and a restarted server) bind one address.
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

// open binds one listen address: n UDP sockets and a TCP listener. bindTo,
// when set, is the address to bind instead of addr (to keep a port that 0
// resolved when the socket count changes).
func (s *Server) open(addr, bindTo string, n, rcvbuf int) (*group, error) {
	g, err := s.openOnce(addr, bindTo, n, rcvbuf)
	// Port 0: the free UDP port may be taken for TCP; try another.
	for try := 0; err != nil && errors.Is(err, syscall.EADDRINUSE) && strings.HasSuffix(addr, ":0") && bindTo == "" && try < 20; try++ {
		g, err = s.openOnce(addr, bindTo, n, rcvbuf)
	}
	return g, err
}

func (s *Server) openOnce(addr, bindTo string, n, rcvbuf int) (*group, error) {
	lc := net.ListenConfig{Control: reusePort}
	ctx := context.Background()
	if bindTo == "" {
		bindTo = addr
	}
	host, port, err := net.SplitHostPort(bindTo)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w", addr, err)
	}
	network := "udp4"
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		network = "udp6"
	}
	g := &group{addr: addr, sockets: n}
	for i := 0; i < n; i++ {
		uc, err := listenUDP(net.JoinHostPort(host, port), rcvbuf)
		if err != nil {
			g.close()
			return nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		// Port 0 asks for a free port: the other sockets of this
		// address, and TCP, share the one the first socket got.
		port = strconv.Itoa(uc.LocalAddr().(*net.UDPAddr).Port)
		g.udp = append(g.udp, uc)
		g.udpStat = append(g.udpStat, new(Stats))
	}
	tcpNet := "tcp4"
	if network == "udp6" {
		tcpNet = "tcp6"
	}
	g.bound = net.JoinHostPort(host, port)
	ln, err := lc.Listen(ctx, tcpNet, g.bound)
	if err != nil {
		g.close()
		return nil, fmt.Errorf("listen tcp %s: %w", addr, err)
	}
	g.tcp = ln
	return g, nil
}

func (g *group) close() {
	for _, c := range g.udp {
		c.Close()
	}
	if g.tcp != nil {
		g.tcp.Close()
	}
}

func (s *Server) serveGroup(g *group, rcvbuf int) {
	for i, c := range g.udp {
		s.wg.Add(1)
		go s.serveUDP(c, g.udpStat[i])
	}
	s.wg.Add(1)
	go s.serveTCP(g.tcp)
	s.log.Info("listening", "udp", g.bound, "tcp", g.tcp.Addr().String(), "udp_sockets", len(g.udp),
		"udp_rcvbuf", rcvbuf, "udp_rcvbuf_effective", g.rcvBuf())
	s.logRcvBuf(g, rcvbuf)
}

// Start opens every socket (all or none) and starts serving.
func (s *Server) Start() error {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if len(s.groups) > 0 {
		return errors.New("dnsserver: already started")
	}
	var opened []*group
	for _, addr := range s.cfg.Listen {
		g, err := s.open(addr, "", s.cfg.UDPSockets, s.cfg.UDPRcvBuf)
		if err != nil {
			for _, o := range opened {
				o.close()
			}
			return err
		}
		opened = append(opened, g)
	}
	s.groups = opened
	for _, g := range opened {
		s.serveGroup(g, s.cfg.UDPRcvBuf)
	}
	return nil
}

// Rebind applies new listen settings without a gap: sockets of addresses
// that stay are kept as they are; new addresses (and every address, when
// the UDP socket count changes) are bound and served before the sockets
// they replace are closed. If any new socket fails, nothing changes.
// A changed receive buffer size is applied in place to the sockets kept.
// TCP limit and timeout changes apply to new connections and to the next
// idle period of open ones; connections over a lowered limit are not closed.
func (s *Server) Rebind(cfg Config) error {
	cfg = withDefaults(cfg)
	s.gmu.Lock()
	defer s.gmu.Unlock()
	old := map[string]*group{}
	for _, g := range s.groups {
		old[g.addr] = g
	}
	var next, opened []*group
	keep := map[*group]bool{}
	for _, addr := range cfg.Listen {
		if g := old[addr]; g != nil && g.sockets == cfg.UDPSockets && !keep[g] {
			keep[g] = true
			next = append(next, g)
			continue
		}
		bindTo := ""
		if g := old[addr]; g != nil {
			bindTo = g.bound // same address, new socket count: keep its port
		}
		g, err := s.open(addr, bindTo, cfg.UDPSockets, cfg.UDPRcvBuf)
		if err != nil {
			for _, o := range opened {
				o.close()
			}
			return err
		}
		opened = append(opened, g)
		next = append(next, g)
	}
	for _, g := range opened {
		s.serveGroup(g, cfg.UDPRcvBuf)
	}
	if cfg.UDPRcvBuf != s.cfg.UDPRcvBuf {
		var kept []*group
		for _, g := range next {
			if keep[g] {
				kept = append(kept, g)
			}
		}
		s.resizeKept(kept, cfg.UDPRcvBuf)
	}
	for _, g := range s.groups {
		if !keep[g] {
			s.log.Info("closing listener", "udp", g.bound)
			g.close()
			s.retired = append(s.retired, g.udpStat...)
		}
	}
	s.groups = next
	s.cfg = cfg
	s.tcp.setLimits(limitsOf(cfg))
	return nil
}

func (s *Server) closeSockets() {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	for _, g := range s.groups {
		g.close()
	}
}

// Shutdown stops accepting, lets TCP clients finish the query in hand, and
// waits for every goroutine (bounded by ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.tcp.shutdown(false)
	s.closeSockets()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.tcp.shutdown(true)
		return ctx.Err()
	}
}
