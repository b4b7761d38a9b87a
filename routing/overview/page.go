package overview

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/routing"
)

//go:embed overview.html
var templateFS embed.FS

// page is parsed once; html/template escapes every name by context, so a
// site, key or user name from config or etcd cannot inject markup.
var page = template.Must(template.New("overview.html").Funcs(statuspage.Funcs).ParseFS(templateFS, "overview.html"))

// Page renders the overview of in, as rendered at now.
func Page(in Input, now time.Time) (statuspage.Page, error) {
	v := build(in)
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return statuspage.Page{}, fmt.Errorf("overview: %w", err)
	}
	json := []string{"/routes"}
	if v.Cluster != "" {
		json = append(json, "/routes/"+v.Cluster)
	}
	return statuspage.Page{Daemon: "trafficctl", Title: "Routing overview", Rendered: now,
		JSON: append(json, "/status"), Alerts: alerts(in, v), Body: template.HTML(buf.String())}, nil
}

// alerts says what needs attention, most severe first once sorted by
// statuspage: refused inputs, etcd out of reach and unreachable routes,
// then DOWN sites, degraded and shut down routes and warnings; "ok" when
// there is none.
func alerts(in Input, v view) []statuspage.Alert {
	var out []statuspage.Alert
	add := func(level, format string, args ...any) {
		out = append(out, statuspage.Alert{Level: level, Text: fmt.Sprintf(format, args...)})
	}
	for _, kind := range sortedKeys(in.Errors) {
		add("critical", "%s refused; the last good one stays in force: %s", kind, in.Errors[kind])
	}
	if in.Etcd != nil && !in.Etcd.Connected {
		add("critical", "etcd (%s) is unreachable; its last good state stays in force", strings.Join(in.Etcd.Endpoints, ", "))
	}
	if v.Unknown != "" {
		add("warning", "no cluster %q; showing %s", v.Unknown, v.Cluster)
	}
	for _, s := range v.Sites {
		if s.State == "DOWN" {
			add("warning", "%s", s.Why)
		}
	}
	for _, st := range []string{routing.StatusUnreachable, routing.StatusDegraded, routing.StatusShutdown} {
		level := "warning" // degraded, or shut down on purpose
		if st == routing.StatusUnreachable {
			level = "critical"
		}
		for _, c := range v.Clusters {
			var sites []string
			for _, r := range v.Routes {
				if r.Cluster == c && r.Status == st {
					sites = append(sites, r.Site)
				}
			}
			if len(sites) > 0 {
				add(level, "%s: %s for users entering at %s", c, st, strings.Join(sites, ", "))
			}
		}
	}
	for _, w := range in.Warnings {
		add("warning", "%s", w)
	}
	if in.Etcd != nil && in.Etcd.AuditErr != "" {
		add("warning", "audit log not shown: %s", in.Etcd.AuditErr)
	}
	if len(out) == 0 {
		add("ok", "every site is up and all %d routes are ok", len(v.Routes))
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
