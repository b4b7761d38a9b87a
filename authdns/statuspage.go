package authdns

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/statuspage"
)

// The status page at / on the metrics listener: what the JSON views of
// the control API say, for a person, with the same views beside it as its
// JSON twins.

//go:embed statuspage.html
var statusPageHTML string

var statusPageTmpl = template.Must(template.New("authdns").Funcs(statuspage.Funcs).
	Funcs(template.FuncMap{"short": short}).Parse(statusPageHTML))

// statusTwins are the JSON views the page shows, in its order.
var statusTwins = []string{"/v1/status", "/v1/states", "/v1/stats", "/v1/answers"}

// statusView is what the page's template reads.
type statusView struct {
	Status  *Status
	Uptime  time.Duration
	Grid    stateGrid
	Charts  []chart
	Answers answerTable
}

// answerTable is the DYNA/DYNC answers since the start, data centre ×
// reason.
type answerTable struct {
	Reasons []string
	Rows    []answerRow
}

type answerRow struct {
	Site   string
	Counts []uint64
	Total  uint64
}

// mountStatusPage serves the page, its assets and its JSON twins on mux.
func (d *Daemon) mountStatusPage(mux *http.ServeMux) {
	mux.Handle("GET /{$}", statuspage.Handler(d.renderStatusPage))
	mux.Handle(statuspage.AssetPrefix, statuspage.Assets())
	mountJSONViews(mux, d)
}

func (d *Daemon) renderStatusPage(*http.Request) (statuspage.Page, error) {
	st := d.State()
	v := statusView{
		Status:  d.Status(),
		Uptime:  d.Uptime().Round(time.Second),
		Grid:    buildGrid(st.States(), st.Geo),
		Charts:  d.answerCharts(d.answerSamples()),
		Answers: buildAnswerTable(d.StatsInfo().DynAnswers),
	}
	var body bytes.Buffer
	if err := statusPageTmpl.Execute(&body, v); err != nil {
		return statuspage.Page{}, fmt.Errorf("authdns status page: %w", err)
	}
	title := "Authoritative DNS"
	if st.Config.NSID != "" {
		title += " · " + st.Config.NSID
	}
	return statuspage.Page{Daemon: "authdns", Title: title, Rendered: time.Now(), JSON: statusTwins,
		Alerts: statusAlerts(v), Body: template.HTML(body.String())}, nil
}

// statusAlerts puts what needs a look on top: a failed reload, a staged
// bundle, etcd out of reach, data centres DOWN.
func statusAlerts(v statusView) []statuspage.Alert {
	var out []statuspage.Alert
	s := v.Status
	if r := s.Reloads; r.LastFailed != nil && (r.LastOK == nil || r.LastFailed.After(*r.LastOK)) {
		out = append(out, statuspage.Alert{Level: "critical", Text: "the last reload failed at " +
			statuspage.UTC(*r.LastFailed) + ", still serving the previous state: " + r.LastError})
	}
	if p := s.Staged; p != nil {
		out = append(out, statuspage.Alert{Level: "warning", Text: "bundle " + p.ID + " (" + short(p.Digest) +
			") staged at " + statuspage.UTC(p.Created) + ", waiting for its commit"})
	}
	if e := s.Etcd; e != nil && !e.Connected {
		out = append(out, statuspage.Alert{Level: "critical", Text: "etcd is out of reach: the last good state keeps applying"})
	}
	if s.AdminStateWatch == "retrying" {
		out = append(out, statuspage.Alert{Level: "warning", Text: "admin_state's directory cannot be watched: the file is re-read every second"})
	}
	if u := s.AdminStateUnmatched; len(u) > 0 {
		out = append(out, statuspage.Alert{Level: "warning", Text: "admin_state entries that match nothing and change nothing (a typo?): " +
			strings.Join(u, "; ")})
	}
	if down := downSites(v.Grid); len(down) > 0 {
		out = append(out, statuspage.Alert{Level: "warning", Text: "DOWN: " + strings.Join(down, ", ")})
	}
	if len(out) == 0 {
		out = append(out, statuspage.Alert{Level: "ok", Text: fmt.Sprintf("serving %d zones; every data centre UP", len(s.Zones))})
	}
	return out
}

// downSites names the sites DOWN and why ("esams (forced: admin_state:1)").
func downSites(g stateGrid) []string {
	var out []string
	for _, r := range g.Rows {
		if r.Kind != "site" {
			continue
		}
		for _, c := range r.Cells {
			if !c.Known || statuspage.StateClass(c.Info.State) != "state-down" {
				continue
			}
			why := "monitored"
			if c.Forced() {
				why = "forced: " + c.Info.ForcedBy
			}
			out = append(out, "site "+c.Site+" ("+why+")")
		}
	}
	return out
}

// buildAnswerTable turns StatsInfo's "reason dc" counters into a table.
func buildAnswerTable(counts map[string]uint64) answerTable {
	bySite := map[string]map[string]uint64{}
	var t answerTable
	for key, n := range counts {
		reason, site, _ := strings.Cut(key, " ")
		if bySite[site] == nil {
			bySite[site] = map[string]uint64{}
		}
		bySite[site][reason] += n
		if !slices.Contains(t.Reasons, reason) {
			t.Reasons = append(t.Reasons, reason)
		}
	}
	slices.Sort(t.Reasons)
	for site, m := range bySite {
		r := answerRow{Site: site}
		for _, reason := range t.Reasons {
			r.Counts = append(r.Counts, m[reason])
			r.Total += m[reason]
		}
		t.Rows = append(t.Rows, r)
	}
	slices.SortFunc(t.Rows, func(a, b answerRow) int { return strings.Compare(a.Site, b.Site) })
	return t
}
