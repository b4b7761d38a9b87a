package coordinator

import "time"

// Check is one monitor's view of a server, for reporting.
type Check struct {
	Monitor string
	// Up is the monitor's (damped) verdict, the one that decides.
	Up bool
	// Last is when the last check completed (zero before the first);
	// LastUp is its own result, before damping.
	Last   time.Time
	LastUp bool
	// Error is the last failed check's reason, "" when none has failed;
	// ErrorAt is when it failed.
	Error   string
	ErrorAt time.Time
}

// checkRecord is what Checked remembers of a monitor's checks.
type checkRecord struct {
	last    time.Time
	lastUp  bool
	err     string
	errorAt time.Time
}

// record remembers a check's result; c.mu is held.
func (s *Server) record(monitor string, up bool, reason string, at time.Time) {
	if s.checks == nil {
		s.checks = map[string]checkRecord{}
	}
	r := s.checks[monitor]
	r.last, r.lastUp = at, up
	if !up {
		r.err, r.errorAt = orUnknown(reason), at
	}
	s.checks[monitor] = r
}

// report lists the configured monitors' checks of s in monitors' order;
// c.mu is held.
func (s *Server) report(monitors []string) []Check {
	out := make([]Check, 0, len(monitors))
	for _, m := range monitors {
		r := s.checks[m]
		out = append(out, Check{Monitor: m, Up: s.monitors[m], Last: r.last, LastUp: r.lastUp, Error: r.err, ErrorAt: r.errorAt})
	}
	return out
}
