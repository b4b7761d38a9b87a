// Package conftool is the state kept in etcd, in conftool's key layout: the
// object kinds (node, site, admin-state, route, app-route), their keys and
// tags, strict parsing of their JSON values, conftool-style selectors, and
// the translation of site and admin-state objects into admin_state entries.
// Route values are read by package routing. It has no etcd client; package
// conftool/etcdstore reads and writes etcd.
package conftool
