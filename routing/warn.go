package routing

import (
	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// Warning renders a problem that does not reject a file.
func Warning(e *Error) string { return "warning: " + e.Error() }

// AdminStateWarnings lists the admin_state lines whose key is a `site/...`
// key or glob that matches no site of cfg: such a line (a typo such as
// `site/cdfw => DOWN`) changes nothing for routing and would otherwise go
// unnoticed. Other keys (geoip/...) are GeoDNS's and not checked here.
func AdminStateWarnings(cfg *Config, st *adminstate.State) []*Error {
	if st == nil {
		return nil
	}
	var out []*Error
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
		if !matched {
			out = append(out, &Error{File: st.File, Line: e.Line, Key: e.Pattern,
				Msg: "matches no site of " + cfg.File + " (sites: " + strings.Join(sites, ", ") + "); this line changes nothing for routing"})
		}
	}
	return out
}
