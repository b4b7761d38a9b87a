package authdns

import (
	"fmt"
	"slices"
	"strings"
)

// The answers charts: one line per reason or per data centre, drawn as an
// inline SVG polyline over the fixed span of the history ring, newest at
// the right edge.
const (
	chartW, chartH        = 560, 140
	chartLeft, chartRight = 44, 8
	chartTop, chartBottom = 8, 18
	chartSeriesMax        = 8 // the stylesheet's series colours; the rest are summed as "other"
)

type chart struct {
	ID, Title      string
	Width, Height  int
	Max            uint64
	Series         []chartSeries
	Samples        int
	Left, Right    int // plot area, for the axes and labels
	Top, Bottom    int
	SpanText, Unit string
}

type chartSeries struct {
	Index  int
	Name   string
	Total  uint64
	Points string  // SVG polyline points
	LastX  float64 // the interval so far, marked with a dot
	LastY  float64
}

// answerCharts draws the answers per reason and per data centre: the kept
// samples, then the interval so far as the rightmost point.
func (d *Daemon) answerCharts(kept []answerSample, current answerSample) []chart {
	samples := append(kept, current)
	reasons := make(map[string][]uint64)
	sites := make(map[string][]uint64)
	for i, s := range samples {
		for r, n := range s.Reasons {
			add(reasons, reasonName(r), len(samples), i, n)
		}
		for slot, n := range s.Slots {
			if n > 0 {
				add(sites, d.slots.Name(slot), len(samples), i, n)
			}
		}
	}
	return []chart{
		buildChart("chart-reasons", "DYNA/DYNC answers per reason", reasons, len(samples)),
		buildChart("chart-sites", "DYNA/DYNC answers per data centre", sites, len(samples)),
	}
}

func add(m map[string][]uint64, name string, n, i int, v uint64) {
	if m[name] == nil {
		m[name] = make([]uint64, n)
	}
	m[name][i] += v
}

// buildChart keeps the series with answers, the largest first, folding
// those past chartSeriesMax-1 into "other".
func buildChart(id, title string, values map[string][]uint64, n int) chart {
	type named struct {
		name  string
		vals  []uint64
		total uint64
	}
	var all []named
	for name, vals := range values {
		var t uint64
		for _, v := range vals {
			t += v
		}
		if t > 0 {
			all = append(all, named{name, vals, t})
		}
	}
	slices.SortFunc(all, func(a, b named) int {
		if a.total != b.total {
			return compareDesc(a.total, b.total)
		}
		return strings.Compare(a.name, b.name)
	})
	if len(all) > chartSeriesMax {
		other := named{name: "other", vals: make([]uint64, n)}
		for _, s := range all[chartSeriesMax-1:] {
			for i, v := range s.vals {
				other.vals[i] += v
			}
			other.total += s.total
		}
		all = append(all[:chartSeriesMax-1], other)
	}
	c := chart{ID: id, Title: title, Width: chartW, Height: chartH, Samples: n,
		Left: chartLeft, Right: chartW - chartRight, Top: chartTop, Bottom: chartH - chartBottom,
		SpanText: fmt.Sprintf("-%d min", historyLen*int(historyInterval.Seconds())/60),
		Unit:     fmt.Sprintf("per %ds", int(historyInterval.Seconds()))}
	for _, s := range all {
		c.Max = max(c.Max, slices.Max(s.vals))
	}
	for i, s := range all {
		pts, x, y := points(s.vals, c.Max)
		c.Series = append(c.Series, chartSeries{Index: i, Name: s.name, Total: s.total, Points: pts, LastX: x, LastY: y})
	}
	return c
}

func compareDesc(a, b uint64) int {
	if a > b {
		return -1
	}
	return 1
}

// chartSlots are the points a chart spans: the ring's samples and the
// interval so far.
const chartSlots = historyLen + 1

// points places the values at the right end of the chart's span, and
// returns the last point's place too.
func points(vals []uint64, top uint64) (pts string, x, y float64) {
	if top == 0 {
		top = 1
	}
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(chartH - chartTop - chartBottom)
	var b strings.Builder
	for i, v := range vals {
		slot := chartSlots - len(vals) + i
		x = float64(chartLeft) + plotW*float64(slot)/float64(chartSlots-1)
		y = float64(chartTop) + plotH*(1-float64(v)/float64(top))
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	return b.String(), x, y
}
