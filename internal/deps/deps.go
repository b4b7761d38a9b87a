// Package deps pins the project's dependencies while parts are being built
// in parallel; it is deleted once every dependency has a real importer.
package deps

import (
	_ "github.com/cloudflare/ipvs"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/maxmind/mmdbwriter"
	_ "github.com/miekg/dns"
	_ "github.com/oschwald/maxminddb-golang/v2"
	_ "github.com/osrg/gobgp/v3/api"
	_ "github.com/osrg/gobgp/v3/pkg/apiutil"
	_ "github.com/osrg/gobgp/v3/pkg/server"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "google.golang.org/protobuf/types/known/anypb"
)
