package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Manual is an operator's emergency depool of one server (lvsd ctl
// depool): the server counts as disabled whatever the pool says until it
// is repooled. Without Force the depool threshold still applies: the
// depool is refused when it would take too much capacity, and the server
// may be held pooled later like any disabled one; with Force it leaves
// IPVS and stays out.
type Manual struct {
	User   string    `json:"user"`
	Reason string    `json:"reason,omitempty"`
	Force  bool      `json:"force,omitempty"`
	Since  time.Time `json:"since"`
}

// String is the status line: "manually depooled by USER: REASON".
func (m Manual) String() string {
	s := "manually depooled by " + m.User
	if m.Reason != "" {
		s += ": " + m.Reason
	}
	if m.Force {
		s += " (forced)"
	}
	return s
}

// ErrNoServer is returned for a host the service does not have.
var ErrNoServer = errors.New("no such server in the service")

// ErrNotDepooled is returned when repooling a server not manually depooled.
var ErrNotDepooled = errors.New("server is not manually depooled")

// ThresholdError refuses a depool that would go below the depool threshold.
type ThresholdError struct {
	Service, Host   string
	Up, Total       int
	DepoolThreshold float64
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("%s: depooling %s would leave %d up and enabled of %d servers, below the depool threshold %g (use --force to depool anyway)",
		e.Service, e.Host, e.Up, e.Total, e.DepoolThreshold)
}

// RestoreManual sets the manual depools in force (from the state file)
// before the first pool: a host not in the pool yet takes its entry when
// it arrives.
func (c *Coordinator) RestoreManual(m map[string]Manual) {
	c.mu.Lock()
	c.manual = map[string]Manual{}
	for h, e := range m {
		c.manual[h] = e
		if s, ok := c.servers[h]; ok {
			c.applyManual(s)
		}
	}
	c.done()
}

// Manuals returns the manual depools in force, by host.
func (c *Coordinator) Manuals() map[string]Manual {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Manual, len(c.manual))
	for h, m := range c.manual {
		out[h] = m
	}
	return out
}

// Depool takes host out at once (see Manual). Depooling a server already
// manually depooled replaces the entry.
func (c *Coordinator) Depool(host string, m Manual) error {
	c.mu.Lock()
	s, ok := c.servers[host]
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("%s: %s: %w", c.set.Name, host, ErrNoServer)
	}
	if !m.Force && s.Pooled {
		up := c.upEnabled() - countIf(s.Up && s.Enabled)
		if !thresholdMet(up, len(c.servers), c.set.DepoolThreshold) {
			c.mu.Unlock()
			return &ThresholdError{Service: c.set.Name, Host: host, Up: up, Total: len(c.servers), DepoolThreshold: c.set.DepoolThreshold}
		}
	}
	if c.manual == nil {
		c.manual = map[string]Manual{}
	}
	c.manual[host] = m
	c.applyManual(s)
	c.logf(slog.LevelWarn, "Server %s %s", host, m)
	c.ensureDepoolThreshold(nil)
	c.done()
	return nil
}

// Repool ends a manual depool: the server is enabled again as far as the
// pool says, and pooled when up.
func (c *Coordinator) Repool(host string) error {
	c.mu.Lock()
	m, ok := c.manual[host]
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("%s: %s: %w", c.set.Name, host, ErrNotDepooled)
	}
	delete(c.manual, host)
	if s, ok := c.servers[host]; ok {
		s.Manual = nil
		s.Enabled = s.poolEnabled
		if s.Enabled && s.Ready && s.Up {
			c.repool(s)
		}
	}
	c.logf(slog.LevelWarn, "Server %s repooled by operator (was %s)", host, m)
	c.done()
	return nil
}

// applyManual disables s for its manual entry; c.mu is held.
func (c *Coordinator) applyManual(s *Server) {
	m := c.manual[s.Host]
	s.Manual = &m
	s.Enabled = false
	s.Pooled = false
	delete(c.pooledDown, s.Host)
	// Out now: not the kernel's state kept after a restart (adopt.go).
	s.adopting, s.adoption, s.Adopted = false, nil, false
}

// forced tells whether host is manually depooled with --force, which the
// depool threshold never pools again; c.mu is held.
func (c *Coordinator) forced(host string) bool {
	return c.manual[host].Force
}

// effectiveEnabled is the pool's enabled flag unless a manual depool is in
// force; c.mu is held.
func (c *Coordinator) effectiveEnabled(host string, poolEnabled bool) bool {
	_, manual := c.manual[host]
	return poolEnabled && !manual
}
