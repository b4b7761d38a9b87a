package instrumentation

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// DriftState is a State that also reports IPVS drift repairs (the daemon
// does, over both Directors).
type DriftState interface {
	State
	Drift() ipvs.DriftReport
}

// DriftJSON is /ipvs/drift's JSON: changes made to IPVS outside lvsd
// (ipvsadm by hand) that reconciliation undid.
type DriftJSON struct {
	// Total counts them by the ipvsadm command undone ("-d", "-e", ...).
	Total  map[string]uint64 `json:"total"`
	Recent []DriftRepairJSON `json:"recent"` // oldest first
}

// DriftRepairJSON is one repair, both ops in ipvsadm syntax.
type DriftRepairJSON struct {
	Undone   string    `json:"undone"`
	Restored string    `json:"restored"`
	At       time.Time `json:"at"`
}

// DriftToJSON converts a report.
func DriftToJSON(d ipvs.DriftReport) DriftJSON {
	out := DriftJSON{Total: map[string]uint64{}, Recent: []DriftRepairJSON{}}
	for k, n := range d.Total {
		out.Total[string(k)] = n
	}
	for _, r := range d.Recent {
		out.Recent = append(out.Recent, DriftRepairJSON{Undone: r.Undone.String(), Restored: r.Restored.String(), At: r.At.UTC()})
	}
	return out
}

// DriftText renders a report for humans, "" when there was no repair.
func DriftText(d DriftJSON) string {
	var n uint64
	kinds := make([]string, 0, len(d.Total))
	for k, c := range d.Total {
		n += c
		if c > 0 {
			kinds = append(kinds, k)
		}
	}
	if n == 0 {
		return ""
	}
	sort.Strings(kinds)
	var b strings.Builder
	fmt.Fprintf(&b, "IPVS drift repairs (changes made outside lvsd, undone): %d (", n)
	for i, k := range kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", k, d.Total[k])
	}
	b.WriteString(")\n")
	for _, r := range d.Recent {
		fmt.Fprintf(&b, "  %s undone %q, restored by %q\n", r.At.Format(time.RFC3339), r.Undone, r.Restored)
	}
	return b.String()
}

func serveDrift(w http.ResponseWriter, r *http.Request, st State) {
	ds, ok := st.(DriftState)
	if !ok {
		notFound(w, r)
		return
	}
	js := DriftToJSON(ds.Drift())
	reply(w, r, js, DriftText(js))
}

// driftKinds are the ipvsadm commands a drift repair can undo; each has
// a series from the start, so rate() and alerts see the first one.
var driftKinds = []ipvs.OpKind{ipvs.AddDest, ipvs.EditDest, ipvs.DeleteDest, ipvs.EditService, ipvs.DeleteService}

type driftCollector struct {
	desc *prometheus.Desc
	d    func() ipvs.DriftReport
}

// RegisterDrift registers lvsd_ipvs_drift_repairs_total{op} on reg, read
// from d at each scrape.
func RegisterDrift(reg prometheus.Registerer, d func() ipvs.DriftReport) error {
	return reg.Register(&driftCollector{d: d, desc: prometheus.NewDesc("lvsd_ipvs_drift_repairs_total",
		"Changes made to IPVS outside lvsd (ipvsadm by hand) that reconciliation undid, by the ipvsadm command undone",
		[]string{"op"}, nil)})
}

func (c *driftCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *driftCollector) Collect(ch chan<- prometheus.Metric) {
	rep := c.d()
	for _, k := range driftKinds {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(rep.Total[k]), string(k))
	}
}
