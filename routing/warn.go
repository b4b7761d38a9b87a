package routing

import (
	"github.com/geotraffic/geotraffic/internal/conf"

	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// Warning renders a problem that does not reject a file.
func Warning(e *conf.Error) string { return "warning: " + e.Error() }

// AdminStateWarnings lists the admin_state lines (and etcd objects) whose key is a `site/...`
// key or glob that matches no site of cfg: such a line (a typo such as
// `site/cdfw => DOWN`) changes nothing for routing and would otherwise go
// unnoticed. Other keys (geoip/...) are GeoDNS's and not checked here.
func AdminStateWarnings(cfg *Config, st *adminstate.State) []*conf.Error {
	if st == nil {
		return nil
	}
	var out []*conf.Error
	sites := sortedKeys(cfg.Sites)
	for _, e := range st.Entries {
		if !strings.HasPrefix(e.Pattern, "site/") {
			continue
		}
		matched := false
		for _, s := range sites {
			if adminstate.Match(e.Pattern, SiteKey(s)) {
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		msg := "matches no site of " + cfg.File + " (sites: " + strings.Join(sites, ", ") + "); this line changes nothing for routing"
		if e.Source != "" { // from etcd: the object's key, not a line of the file
			out = append(out, &conf.Error{Pos: conf.Pos{File: e.Origin("")}, Key: e.Pattern, Reason: strings.Replace(msg, "this line", "this object", 1)})
			continue
		}
		out = append(out, &conf.Error{Pos: conf.At(st.File, e.Line), Key: e.Pattern, Reason: msg})
	}
	return out
}
