package geo

import (
	"net/netip"

	"github.com/geotraffic/geotraffic/internal/conf"
)

func (p *parser) parseWeighted(file string, v *conf.Node, path string, parent *Params, l *LeafConfig) {
	p.errf(file, v, path, "the weighted plugin is not supported yet")
}

// witem is a compiled weighted item.
type witem struct{ cname string }

func buildItems(items []WeightedItem) []witem { return nil }

type weightedHealth struct{}

func (m *Monitored) weighted(r *Resource, lh *leafHealth) {}

// allAddrs lists every address of the family, weighted's included.
func (f *family) allAddrs() []netip.Addr { return f.addrs }

const maxWeightedItems = 64

func (q *query) weighted(r *Resource, out *Answer) (bool, uint32) { return false, 0 }
