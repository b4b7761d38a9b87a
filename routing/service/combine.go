package service

import (
	"slices"
)

// kindEtcd is the etcd overrides' entry among the per-file errors and the
// `file` label of metrics: the overrides are one more input that can be
// refused while the last good one stays in force.
const kindEtcd = "etcd"

// combine applies the latest etcd overrides to the latest good
// routing.yaml, and reports whether the config in force changed. An
// override set that does not validate with the file is refused as a
// whole: the last good combination stays (bad input changes nothing).
// A new set that validates is recorded as accepted by the caller, with
// acceptEtcd, once its routes are published. Called with mu held.
func (s *Service) combine() (changed bool) {
	if s.cfg == nil {
		return false
	}
	if s.eff != nil && s.cfg == s.base && slices.Equal(s.remote.Sources(), s.applied.Sources()) {
		// Sources carry each object's revision: the same ones are the
		// same values, so nothing to re-validate (a garbage value that
		// the watcher refused, or a site change, leaves them alone). A
		// refused set that was undone back to these no longer stands.
		if s.lastError[kindEtcd] != "" {
			s.acceptEtcd()
		}
		return false
	}
	next, err := s.remote.Config(s.cfg)
	if err != nil {
		s.refuseEtcd(err)
		return false
	}
	s.logOverrides()
	s.eff, s.base, s.applied = next, s.cfg, s.remote
	return true
}

// refuseEtcd keeps the config in force and reports the refusal once per
// distinct error: a site change re-tries the same overrides.
func (s *Service) refuseEtcd(err error) {
	msg := err.Error()
	s.m.reloads.WithLabelValues(kindEtcd, "error").Inc()
	s.m.valid.WithLabelValues(kindEtcd).Set(0)
	if s.lastError[kindEtcd] != msg {
		s.log.Error("etcd: overrides refused; the last good combination stays in force",
			"revision", s.remote.Revision, "in_force", s.applied.Sources(), "err", msg)
	}
	s.lastError[kindEtcd] = msg
}

// acceptEtcd records the overrides in force as accepted (nothing without
// etcd); called after the routes they give are published.
func (s *Service) acceptEtcd() {
	if s.remote == nil {
		return
	}
	if s.lastError[kindEtcd] != "" {
		s.log.Info("etcd: overrides valid again", "revision", s.remote.Revision)
	}
	s.accept(kindEtcd)
}

// logOverrides logs the overrides that come into force or leave it.
func (s *Service) logOverrides() {
	if s.etcd == nil {
		return
	}
	before, after := s.applied.Sources(), s.remote.Sources()
	for _, src := range after {
		if !slices.Contains(before, src) {
			s.log.Info("etcd: override in force", "source", src)
		}
	}
	for _, src := range before {
		if !slices.Contains(after, src) {
			s.log.Info("etcd: override no longer in force", "source", src)
		}
	}
}
