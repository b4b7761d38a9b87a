package main

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/routing"
)

// loadDNSView loads the authdns configuration exactly as the daemon does
// (zones, GeoIP, admin_state, `data: DIR`) and reduces it to what `check`
// needs: the sites GeoDNS knows, whether it sends anyone to each of them
// now, and the admin_state it read, which routing shares. etcd (nil: none)
// is overlaid under that admin_state, as authdns does when it follows etcd.
func loadDNSView(authdnsConfig string, etcd *adminstate.State) (*dnsView, error) {
	st, err := authdns.LoadState(authdnsConfig, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	file := st.Admin
	if etcd.Len() > 0 {
		st = st.WithAdmin(adminstate.Overlay(etcd, file))
	}
	if st.Geo == nil {
		return nil, fmt.Errorf("%s: no geoip section: GeoDNS sends users nowhere in particular", authdnsConfig)
	}
	v := &dnsView{down: map[string]bool{}, admin: file}
	states := st.States()
	for _, res := range st.Geo.Resources() {
		prefix := "geoip/" + res + "/"
		for key, s := range states {
			dc, ok := strings.CutPrefix(key, prefix)
			if !ok {
				continue
			}
			isDown := strings.HasPrefix(s.State, "DOWN")
			if prev, seen := v.down[dc]; !seen {
				v.down[dc] = isDown
				v.sites = append(v.sites, dc)
			} else {
				v.down[dc] = prev && isDown // down only if no resource answers with it
			}
		}
	}
	sort.Strings(v.sites)
	return v, nil
}

type dnsView struct {
	sites []string
	down  map[string]bool
	// admin is the admin_state authdns reads (its `admin_state:` or
	// DIR/admin_state); File is "" when the configuration names none.
	admin *adminstate.State
}

var _ routing.DNSView = (*dnsView)(nil)

func (v *dnsView) Sites() []string          { return v.sites }
func (v *dnsView) DNSDown(site string) bool { return v.down[site] }
