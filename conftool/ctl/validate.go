package ctl

import (
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/internal/conf"
)

// validate checks every written value before anything is written: the
// value itself (conftool's strict parsing; for routes, routing.yaml's
// forms), that it is a valid admin_state entry, and that every site it
// names is known. A deletion is always allowed: it is how a stray object
// is cleaned up. Each refusal names its key (`key: field: reason`).
func validate(changes []change, ks knownSites) error {
	var errs conf.List
	for _, c := range changes {
		if c.New == nil {
			continue
		}
		errs.Append(conf.Pos{}, conftool.AtKey(c.Key, validateOne(c, ks)))
	}
	return errs.Err()
}

func validateOne(c change, ks knownSites) error {
	if err := conftool.Validate(c.Kind, c.New); err != nil {
		return err
	}
	o := c.after()
	switch c.Kind {
	case conftool.Node:
		return ks.check("dc", o.Tag("dc"))
	case conftool.Site:
		if _, _, err := conftool.AdminEntry(o); err != nil {
			return err
		}
		return ks.check("site", o.Name())
	case conftool.AdminState:
		if _, _, err := conftool.AdminEntry(o); err != nil {
			return err
		}
		if site, ok := siteOfAdminKey(o.Name()); ok {
			return ks.check("site", site)
		}
		return nil
	case conftool.Route:
		spec, err := parseRoute(c.New)
		if err != nil {
			return err
		}
		if err := ks.check("site", o.Tag("site")); err != nil {
			return err
		}
		for _, hop := range spec.Choices {
			if err := ks.check("next hop", hop); err != nil {
				return err
			}
		}
		return nil
	case conftool.AppRoute:
		spec, err := parseAppRoute(c.New)
		if err != nil {
			return err
		}
		for _, dc := range spec.DCs {
			if err := ks.check("DC", dc); err != nil {
				return err
			}
		}
	}
	return nil
}
