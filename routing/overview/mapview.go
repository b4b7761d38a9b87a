package overview

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/routing"
)

// siteView is one site: its marker on the map and its row of the sites
// table.
type siteView struct {
	Name             string
	X, Y             string // marker centre
	LabelX, LabelY   string // label start
	Lat, Lon         string
	Class            string // state-up or state-down
	State            string // "up" or "DOWN"
	Why              string // why it is DOWN, as routing explains it; "" when up
	By               string // the admin_state line or etcd key that set its state; "" when none
	Direct, Shutdown bool   // in the cluster drawn
	Title            string
}

// arrowView is one hop of the drawn cluster's paths.
type arrowView struct {
	From, To string
	D        string // path data
	Kind     string // "configured" or "rerouted"
	Color    string // the stroke; the arrow head of the same colour is #head-Kind
	Title    string
}

// Arrow colours: the shared stylesheet's accent and degraded colours.
const (
	colorConfigured = "#2457c5"
	colorRerouted   = "#a15c00"
)

// siteState says whether site is DOWN and why (routing's explanation, as
// in the routes' details), and which admin_state line or etcd key set its
// state, DOWN or UP ("" when nothing did).
func siteState(st *adminstate.State, site string) (down bool, why, by string) {
	e, ok := st.Lookup(routing.SiteKey(site))
	if !ok {
		return false, "", ""
	}
	by = e.Origin("")
	if e.Source == "" {
		by = fmt.Sprintf("admin_state line %d: %s => %s", e.Line, e.Pattern, e.StateString())
	}
	down, why = routing.Down(st, site)
	return down, why, by
}

func sites(cfg *routing.Config, st *adminstate.State, c *routing.Cluster, drawn []routing.Result) []siteView {
	direct := map[string]bool{}
	for _, r := range drawn {
		for _, h := range r.Reasons {
			if h.Next == "direct" {
				direct[h.Site] = true
			}
		}
	}
	var out []siteView
	for _, name := range sortedSites(cfg) {
		s := cfg.Sites[name]
		p := project(s.Lat, s.Lon)
		down, why, by := siteState(st, name)
		sv := siteView{Name: name, X: num(p.X), Y: num(p.Y), LabelX: num(p.X + markerRadius + 3), LabelY: num(p.Y + 4),
			Lat: degrees(s.Lat), Lon: degrees(s.Lon), Class: "state-up", State: "up", Why: why, By: by, Direct: direct[name]}
		if down {
			sv.Class, sv.State = "state-down", "DOWN"
		}
		if c != nil {
			_, sv.Shutdown = c.Shutdown[name]
		}
		sv.Title = siteTitle(sv, c)
		out = append(out, sv)
	}
	return out
}

func siteTitle(s siteView, c *routing.Cluster) string {
	t := s.Name + ": " + s.State
	if s.By != "" {
		t += ", set by " + s.By
	}
	t += " [" + s.Lat + ", " + s.Lon + "]"
	if s.Direct {
		t += "; talks to the applications of " + c.Name
	}
	if s.Shutdown {
		t += "; in traffic_shutdown of " + c.Name
	}
	return t
}

func sortedSites(cfg *routing.Config) []string {
	out := make([]string, 0, len(cfg.Sites))
	for n := range cfg.Sites {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// arrows draws each hop of the cluster's paths once: a site makes one
// decision per cluster, so every path through it takes the same next hop.
func arrows(cfg *routing.Config, drawn []routing.Result) []arrowView {
	type edge struct{ from, to string }
	seen := map[edge]int{}
	users := map[edge][]string{}
	var out []arrowView
	for _, r := range drawn {
		for _, h := range r.Reasons {
			a, okA := cfg.Sites[h.Site]
			b, okB := cfg.Sites[h.Next]
			if !okA || !okB || h.Site == h.Next {
				continue // "direct", "" (nowhere to go), or an unknown name
			}
			e := edge{h.Site, h.Next}
			users[e] = append(users[e], r.Site)
			if _, ok := seen[e]; ok {
				continue
			}
			seen[e] = len(out)
			kind, color := "rerouted", colorRerouted
			if h.Reason == routing.ReasonConfigured {
				kind, color = "configured", colorConfigured
			}
			out = append(out, arrowView{From: h.Site, To: h.Next, Kind: kind, Color: color,
				D:     arrowPath(project(a.Lat, a.Lon), project(b.Lat, b.Lon)),
				Title: h.Site + " → " + h.Next + ": " + h.Reason + hopDetail(h.Detail)})
		}
	}
	for e, i := range seen {
		out[i].Title += "; on the path of users entering at " + strings.Join(users[e], ", ")
	}
	slices.SortFunc(out, func(x, y arrowView) int { return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To)) })
	return out
}

func hopDetail(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

// degrees formats a coordinate as routing.yaml gives it.
func degrees(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
