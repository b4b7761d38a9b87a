// Package overview renders the overview page of `trafficctl serve`: a world
// map of the sites coloured by state with the routes of one cluster drawn as
// arrows, the resolved route of every cluster and entry site, the warnings,
// and, with etcd, the audit log's last changes. It draws; routing decides.
package overview
