package webstatus

import (
	"context"
	"embed"
	"html/template"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
)

//go:embed page.html
var pageFS embed.FS

// body renders a View; html/template escapes every name from the
// configuration and the pools.
var body = template.Must(template.New("page.html").Funcs(statuspage.Funcs).ParseFS(pageFS, "page.html"))

// Render builds the page from st's state now.
func Render(ctx context.Context, st instrumentation.State, now time.Time) (statuspage.Page, error) {
	pools := st.Pools()
	kernel, err := st.IPVSStatus(ctx)
	v := Build(instrumentation.StateAlert(st, pools), pools, kernel, err, st.Announcer())
	var b strings.Builder
	if err := body.ExecuteTemplate(&b, "body", v); err != nil {
		return statuspage.Page{}, err
	}
	// The JSON twins are the PyBal-compatible API.
	twins := []string{"/alerts", "/pools", "/ipvs", "/bgp", "/metrics"}
	return statuspage.Page{Daemon: "lvsd", Title: "LVS services", Rendered: now, JSON: twins, Alerts: alerts(v),
		Body: template.HTML(b.String())}, nil
}

// alerts is /alerts' state, and the IPVS table's when it is unreadable.
func alerts(v View) []statuspage.Alert {
	out := []statuspage.Alert{{Level: v.Alert.Status, Text: v.Alert.Msg}}
	if v.IPVSErr != "" {
		out = append(out, statuspage.Alert{Level: "warning", Text: "IPVS table unavailable: " + v.IPVSErr})
	}
	return out
}
