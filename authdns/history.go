package authdns

import (
	"context"
	"sync"
	"time"

	"github.com/geotraffic/geotraffic/dnsserver"
)

// The status page's chart of DYNA/DYNC answers: every historyInterval the
// sampler reads the answer path's existing counters once and keeps the
// differences in a ring of historyLen samples, so a query pays nothing
// and memory stays bounded.
const (
	historyInterval = 10 * time.Second
	historyLen      = 30 // five minutes
)

// answerSample is the DYNA/DYNC answers of one interval, ending at At.
type answerSample struct {
	At      time.Time
	Reasons [dnsserver.NumDynReasons]uint64
	Slots   [dnsserver.MaxDCSlots]uint64
}

// answerHistory is the ring of the last historyLen samples.
type answerHistory struct {
	mu    sync.Mutex
	ring  [historyLen]answerSample
	n     int          // samples kept (≤ historyLen)
	next  int          // where the next sample goes
	total answerSample // the counters' totals at the last sample
}

// record adds the interval ending at at, from the counters' totals t.
func (h *answerHistory) record(at time.Time, t *dnsserver.StatsSnapshot) {
	s := h.current(at, t)
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range s.Reasons {
		h.total.Reasons[i] += s.Reasons[i]
	}
	for i := range s.Slots {
		h.total.Slots[i] += s.Slots[i]
	}
	h.ring[h.next] = s
	h.next = (h.next + 1) % historyLen
	h.n = min(h.n+1, historyLen)
}

// current is the interval so far: the answers since the last sample.
func (h *answerHistory) current(at time.Time, t *dnsserver.StatsSnapshot) answerSample {
	cur := answerTotals(at, t)
	h.mu.Lock()
	defer h.mu.Unlock()
	s := answerSample{At: at}
	for i := range s.Reasons {
		s.Reasons[i] = delta(cur.Reasons[i], h.total.Reasons[i])
	}
	for i := range s.Slots {
		s.Slots[i] = delta(cur.Slots[i], h.total.Slots[i])
	}
	return s
}

// answerTotals sums the counters by reason and by DC slot.
func answerTotals(at time.Time, t *dnsserver.StatsSnapshot) answerSample {
	s := answerSample{At: at}
	for r := range dnsserver.NumDynReasons {
		for slot := range dnsserver.MaxDCSlots {
			n := t.DynCount(r, slot)
			s.Reasons[r] += n
			s.Slots[slot] += n
		}
	}
	return s
}

// delta is cur-prev; counters only grow, but a wrap must not show as a
// huge spike.
func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return 0
	}
	return cur - prev
}

// samples returns the kept samples, oldest first.
func (h *answerHistory) samples() []answerSample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]answerSample, 0, h.n)
	for i := range h.n {
		out = append(out, h.ring[(h.next-h.n+i+historyLen)%historyLen])
	}
	return out
}

// sampleAnswers records a sample every historyInterval until ctx ends.
func (d *Daemon) sampleAnswers(ctx context.Context) {
	tick := time.NewTicker(historyInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t := d.srv.Stats()
			d.answers.record(now, &t)
		}
	}
}

// AnswerHistory is GET /v1/answers: DYNA/DYNC answers per interval over
// the last minutes, by reason and by chosen data centre, oldest first.
type AnswerHistory struct {
	IntervalSeconds int              `json:"interval_seconds"`
	Samples         []AnswerInterval `json:"samples"`
	Current         AnswerInterval   `json:"current"` // the interval so far
}

// AnswerInterval is the answers of the interval ending at End (zero
// counts left out).
type AnswerInterval struct {
	End     time.Time         `json:"end"`
	Reasons map[string]uint64 `json:"reasons"`
	Sites   map[string]uint64 `json:"sites"`
}

// AnswerHistory reports the kept samples and the interval so far.
func (d *Daemon) AnswerHistory() *AnswerHistory {
	samples, cur := d.answerSamples()
	out := &AnswerHistory{IntervalSeconds: int(historyInterval / time.Second), Samples: []AnswerInterval{},
		Current: d.answerInterval(cur)}
	for _, s := range samples {
		out.Samples = append(out.Samples, d.answerInterval(s))
	}
	return out
}

// answerSamples returns the kept samples and the interval so far.
func (d *Daemon) answerSamples() ([]answerSample, answerSample) {
	t := d.srv.Stats()
	return d.answers.samples(), d.answers.current(time.Now(), &t)
}

func (d *Daemon) answerInterval(s answerSample) AnswerInterval {
	iv := AnswerInterval{End: s.At, Reasons: map[string]uint64{}, Sites: map[string]uint64{}}
	for r, n := range s.Reasons {
		if n > 0 {
			iv.Reasons[reasonName(r)] = n
		}
	}
	for slot, n := range s.Slots {
		if n > 0 {
			iv.Sites[d.slots.Name(slot)] += n
		}
	}
	return iv
}
