package ctl

// Usage is confctl's --help.
const Usage = `Usage: confctl [GLOBAL FLAGS] COMMAND ...

confctl reads and changes the state kept in etcd in conftool's layout:
pooled nodes (read by lvsd), site states and admin_state entries (authdns,
trafficctl), cache routes and app routes (trafficctl). Global flags come
before the command, as conftool's.

Commands:
  select 'TAG=REGEX,...' get            print each selected object on one line, sorted by key:
                                        {"mw1001.eqiad.wmnet": {"weight": 10, "pooled": "yes"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}
  select 'TAG=REGEX,...' set/K=V[:K=V]  set fields of every selected object
  select 'TAG=REGEX,...' delete         delete every selected object
  pool|depool|drain|decommission HOST-REGEX
                                        set pooled=yes | pooled=no | weight=0 (pooled kept) |
                                        pooled=inactive on every node whose name matches, in
                                        every dc, cluster and service
  sync --pools FILE --routing FILE [--prune]
                                        create the objects the files define and etcd lacks;
                                        list (with --prune: delete) those they no longer define
  log [-n N] [--json]                   print the last N audit records (default 20; 0: all)

Object types (--object-type), their tags, keys (under --prefix) and values:
  node         dc,cluster,service,name  pools/DC/CLUSTER/SERVICE/NAME  {"weight": 0..65535, "pooled": "yes"|"no"|"inactive"}
  site         name                     sites/NAME                     {"state": "up"|"down"}
  admin-state  key                      admin-state/KEY                {"state": "UP"|"DOWN", "ttl": N}  (ttl optional)
  route        cluster,site             routes/CLUSTER/SITE            {"route": "direct"|SITE|[SITE, ...]}
  app-route    cluster,app              app-routes/CLUSTER/APP         {"route": DC|[DC, ...]|{"active-active": [DC, ...]}}
A site that is down is "site/NAME => DOWN" for authdns and trafficctl. In set, a
route is route=direct, route=codfw, route=codfw,eqiad or JSON: route='["codfw","eqiad"]'.

Selectors: every TAG=REGEX must match, each regex anchored at both ends
('name=mw1001' matches mw1001 only; 'name=mw1001.*' every name starting so).
An empty selector ('') selects every object of the type.

Creating objects: select matches existing objects only. A set creates a
site, admin-state, route or app-route object that does not exist when the
selector gives every tag of the type exactly: each regex must match one
string, a plain name or one with its metacharacters escaped:
  confctl --object-type admin-state select 'key=geoip/generic-map/esams' set/state=DOWN:ttl=300
  confctl --object-type admin-state select 'key=geoip/www-res/\*' set/state=DOWN
  confctl --object-type route --routing routing.yaml select 'cluster=text,site=esams' set/route=codfw,eqiad
Nodes are created by sync only, as in conftool.

Before anything is written:
  - every value is validated: unknown fields, pooled outside yes/no/inactive,
    a weight outside 0..65535, and a site or DC that is not known are refused
    with the object's key. Known sites are the sites: of routing.yaml with
    --routing, else the site objects in etcd (with neither, not checked).
  - a route or app-route change, and a site going down (a site object, or an
    admin-state key that can force site/NAME), is resolved against the whole
    routing first, with the routing package's own resolution: routing.yaml,
    overridden by every route and app-route object, under the site states.
    A change that leaves the routing invalid (a loop, no direct site, an
    unknown site) is refused; one that makes a route unreachable or takes
    an app's last DC away is refused with the routes it breaks. These
    changes need --routing (or $CONFCTL_ROUTING).
  - a change of more than one object is confirmed on the terminal (y/N)
    unless --yes; with no terminal and no --yes it is refused.
All objects of one command are written in one etcd transaction, guarded by
the revisions they were read at (and, for routing changes, by every route
and site object the check read): if any changed meanwhile, nothing is
written and confctl fails. sync alone may take several transactions of at
most 127 objects each; each is guarded, and running sync again finishes an
interrupted run. Every write appends an audit record (who: $SUDO_USER or
$USER, when, the command, each object's old and new value) under
PREFIX/log/ in the same transaction, and logs the same to stderr.

Global flags:
  --etcd URL[,URL]     etcd endpoints (default $CONFCTL_ETCD, else http://127.0.0.1:2379)
  --prefix P           key prefix (default /conftool/v1)
  --object-type T      node, site, admin-state, route or app-route (default node)
  --cacert F           CA certificate (PEM) for etcd's TLS certificate
  --cert F --key F     client certificate and key (PEM), for etcd with client certificates
  --user U             etcd user (RBAC); the password is $CONFCTL_PASSWORD
  --routing FILE       routing.yaml (default $CONFCTL_ROUTING)
  --yes                change several objects without asking
  --force              write a change the routing check refuses as breaking routes, after
                       a loud warning and a confirmation; it is recorded in the audit log.
                       It never passes an invalid value or an invalid routing (a loop).
  --timeout D          give up on etcd after D (default 10s)

Environment: CONFCTL_ETCD, CONFCTL_PASSWORD, CONFCTL_ROUTING; SUDO_USER or USER
names who made a change.

Exit status: 0 done; 1 refused or failed (nothing written, except by the
transactions sync finished before a failure); 2 usage error.
`
