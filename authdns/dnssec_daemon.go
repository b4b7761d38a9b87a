package authdns

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/geotraffic/geotraffic/dnssec"
	"github.com/geotraffic/geotraffic/internal/filewatch"
)

// Key directory watching and re-signing: a new key file, a key's timing
// event or a signature refresh makes a new Signing for the zones served
// now, without a reload.
const (
	// keyWatchDebounce lets a tool write a key's .key and .private
	// before they are read.
	keyWatchDebounce = 200 * time.Millisecond
	// keyPoll re-checks the key files where inotify does not work.
	keyPoll = 10 * time.Second
	// minResignDelay bounds how often timing events can re-sign.
	minResignDelay = time.Second
	// resignRetry is when a failed re-signing is tried again, key files
	// fixed or not: signatures must be refreshed before they expire.
	resignRetry = 30 * time.Second
)

// signingLoop is the daemon's key watcher and timing timer.
type signingLoop struct {
	mu     sync.Mutex
	dirs   []string
	cancel context.CancelFunc
	timer  *time.Timer
	armed  *Signing // the Signing the timer was set for
	// retired sums the statistics of the signers no longer served, so
	// the exported counters never go back.
	retired dnssec.Stats
	served  *dnssec.Signer
}

// signingSwapped follows the served state's Signing (under d.mu): it logs
// key changes, re-arms the timer and keeps the metrics' totals.
func (d *Daemon) signingSwapped(old, st *State) {
	l := &d.signing
	l.mu.Lock()
	defer l.mu.Unlock()
	var prev *Signing
	if old != nil {
		prev = old.Signing
	}
	if st.Signing != prev {
		logKeyChanges(d.log, prev, st.Signing)
	}
	if s := signerOf(st.Signing); s != l.served {
		if l.served != nil {
			l.retired = addStats(l.retired, l.served.Stats())
		}
		l.served = s
	}
	if d.ctx != nil && st.Signing != l.armed {
		l.armed = st.Signing
		d.armLocked(st.Signing.Next())
	}
}

func signerOf(s *Signing) *dnssec.Signer {
	if s == nil {
		return nil
	}
	return s.Signer
}

// armLocked sets the timer for at (zero: none), under d.signing.mu.
func (d *Daemon) armLocked(at time.Time) {
	l := &d.signing
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if at.IsZero() {
		return
	}
	l.timer = time.AfterFunc(max(time.Until(at), minResignDelay), func() { d.resign("timing") })
}

// resign makes a new Signing for the zones served now. Keys are read and
// zones signed outside d.mu (seconds for a large zone), so reloads and
// admin changes go on meanwhile; a reload or commit that swapped in other
// zones meanwhile made its own, and this one is dropped.
func (d *Daemon) resign(reason string) {
	d.mu.Lock()
	cur := d.state.Load()
	stopped := d.ctx == nil || d.ctx.Err() != nil
	d.mu.Unlock()
	if stopped || cur.Config.DNSSEC == nil {
		return
	}
	start := time.Now()
	s, err := BuildSigning(cur.Config, cur.Zones, start, d.log)
	if err != nil {
		d.log.Error("dnssec: keys not applied; the previous keys and signatures keep serving", "reason", reason,
			"retry_in", resignRetry, "err", err)
		d.signing.mu.Lock()
		d.armLocked(time.Now().Add(resignRetry))
		d.signing.mu.Unlock()
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.state.Load()
	if now.Config != cur.Config || now.Zones != cur.Zones || d.ctx.Err() != nil {
		return
	}
	d.swap(now.WithSigning(s))
	d.log.Info("dnssec: zones signed", "reason", reason, "signed_zones", signedZones(s),
		"next", s.Next(), "took", time.Since(start).Round(time.Millisecond))
}

func signedZones(s *Signing) int {
	n := 0
	if s == nil {
		return 0
	}
	for _, zk := range s.Keys {
		if st := zk.At(s.Built); st.Signing() {
			n++
		}
	}
	return n
}

// watchKeysLocked (under d.mu) watches the key directories of cfg,
// replacing the watch of other directories.
func (d *Daemon) watchKeysLocked(cfg *Config) {
	l := &d.signing
	l.mu.Lock()
	defer l.mu.Unlock()
	dirs := cfg.DNSSEC.KeyDirs()
	if slices.Equal(dirs, l.dirs) && (l.cancel != nil || len(dirs) == 0) {
		return
	}
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
	l.dirs = dirs
	if len(dirs) == 0 {
		return
	}
	files := make([]string, len(dirs))
	for i, dir := range dirs {
		files[i] = filepath.Join(dir, "K") // the directory is what counts (AnyName)
	}
	w := filewatch.New(filewatch.Options{Files: files, AnyName: true, Debounce: keyWatchDebounce, Poll: keyPoll,
		Log: d.log, Name: "dnssec keys",
		Changed: func() { d.resign("key files changed") },
		Check:   d.recheckKeys,
	})
	ctx, cancel := context.WithCancel(d.ctx)
	l.cancel = cancel
	go w.Run(ctx)
}

// recheckKeys re-signs when the key files differ from those served (a
// poll, or a watch set up again).
func (d *Daemon) recheckKeys() {
	st := d.state.Load()
	if st.Signing == nil {
		return
	}
	digest, err := keyFilesDigest(st.Config.DNSSEC.KeyDirs())
	if err == nil && digest == st.Signing.Digest {
		return
	}
	d.resign("key files changed")
}

// stopSigning ends the watch and the timer (Shutdown).
func (d *Daemon) stopSigning() {
	l := &d.signing
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// signerStats is every signer's statistics since the start.
func (d *Daemon) signerStats() dnssec.Stats {
	l := &d.signing
	l.mu.Lock()
	total, s := l.retired, l.served
	l.mu.Unlock()
	if s == nil {
		return total
	}
	return addStats(total, s.Stats())
}

// addStats sums two signers' counters; the gauges are b's.
func addStats(a, b dnssec.Stats) dnssec.Stats {
	b.Signatures += a.Signatures
	b.SignErrors += a.SignErrors
	b.CacheHits += a.CacheHits
	b.CacheMisses += a.CacheMisses
	b.CacheEvictions += a.CacheEvictions
	return b
}
