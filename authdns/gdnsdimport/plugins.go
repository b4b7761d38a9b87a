package gdnsdimport

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/vscf"
)

// resolverPlugins are gdnsd's plugins that answer DYNA/DYNC records, other
// than geoip: plugins.yaml holds their stanzas.
var resolverPlugins = map[string]bool{"metafo": true, "multifo": true, "simplefo": true, "weighted": true,
	"static": true, "reflect": true, "null": true}

// monitorPlugins are gdnsd's monitoring plugins: their settings live in
// service_types; their plugin-wide stanzas configure gdnsd's helper.
var monitorPlugins = map[string]bool{"http_status": true, "tcp_connect": true, "extmon": true, "extfile": true}

// plugins translates gdnsd's plugins hash: geoip into t.geo, the other
// resolver plugins into t.plugins.
func (t *translator) pluginsStanza(p *vscf.Pair) {
	if p.Value.Kind != vscf.Hash {
		t.notef(p.Value.Pos, "plugins", Error, "want a hash of plugin names, found %s", p.Value.Kind)
		return
	}
	for _, pp := range p.Value.Pairs {
		path := "plugins." + pp.Key
		v := pp.Value
		known := pp.Key == "geoip" || resolverPlugins[pp.Key] || monitorPlugins[pp.Key]
		switch {
		case !known:
			t.notef(pp.KeyPos, path, Error, "gdnsd has no plugin %q (and refuses it)", pp.Key)
		case v.Kind != vscf.Hash:
			t.notef(v.Pos, path, Error, "want a hash, found %s", v.Kind)
		case pp.Key == "geoip":
			t.geo = t.convert(v, path, t.geoipKey)
			t.geoPair = pp
		case monitorPlugins[pp.Key]:
			for _, k := range v.Pairs {
				t.notef(k.KeyPos, join(path, k.Key), NotNeeded, "authdns runs its checks itself, with no helper process")
			}
		case pp.Key == "metafo":
			t.addPair(t.plugins, pp, t.convert(v, path, t.metaKey))
		default:
			t.addPair(t.plugins, pp, t.convert(v, path, t.resourceKey))
		}
	}
}

// geoipKey rewrites a key of the geoip stanza: maps, then the keys of
// resources and their defaults.
func (t *translator) geoipKey(key string, v *vscf.Node, path string) *ynode {
	if path == "plugins.geoip.maps" && v.Kind == vscf.Hash {
		m := yMapOf()
		m.end = v.EndComments
		for _, p := range v.Pairs {
			t.addPair(m, p, t.geoMap(p.Value, join(path, p.Key)))
		}
		return m
	}
	return t.metaKey(key, v, path)
}

// metaKey rewrites a key of a meta plugin's stanza (geoip's resources,
// metafo): `datacenters` and `dcmap` names are copied as written.
func (t *translator) metaKey(key string, v *vscf.Node, path string) *ynode {
	switch key {
	case "undefined_datacenters_ok", "skip_first":
		return boolValue(v)
	case "datacenters":
		return t.copyNode(v, path)
	}
	return t.resourceKey(key, v, path)
}

// resourceKey rewrites the parameters gdnsd reads as numbers or booleans
// in resources (multifo, simplefo, weighted and the configurations meta
// plugins synthesize), and weighted's [ADDRESS, WEIGHT] pairs.
func (t *translator) resourceKey(key string, v *vscf.Node, path string) *ynode {
	switch key {
	case "up_thresh":
		return floatValue(v)
	case "ignore_health", "multi", "skip_first":
		return boolValue(v)
	case "service_types":
		return t.copyNode(v, path)
	}
	if v.Kind == vscf.Array && len(v.Items) == 2 && v.Items[0].Kind == vscf.Scalar {
		if w := uintValue(v.Items[1]); w != nil && uintValue(v.Items[0]) == nil {
			s := t.copyNode(v, path)
			s.items[1].v = w
			return s
		}
	}
	return nil
}

// removedMapKeys are geoip map keys of gdnsd 2.x that 3.x refuses.
var removedMapKeys = map[string]bool{"city_no_region": true, "city_auto_mode": true, "geoip_db": true,
	"geoip_db_v4_overlay": true, "skip_level": true}

// geoMap translates one geoip map.
func (t *translator) geoMap(v *vscf.Node, path string) *ynode {
	if v.Kind != vscf.Hash {
		return t.copyNode(v, path)
	}
	return t.convert(v, path, func(key string, n *vscf.Node, kp string) *ynode {
		if kp != join(path, key) {
			return nil // deeper than the map's own keys
		}
		switch key {
		case "datacenters", "map":
			return t.copyNode(n, kp)
		case "geoip2_db":
			return t.dbPath(n)
		case "nets":
			return t.nets(n, kp)
		case "auto_dc_coords":
			return t.convert(n, kp, func(_ string, c *vscf.Node, _ string) *ynode {
				if c.Kind != vscf.Array {
					return nil
				}
				s := &ynode{kind: ySeq}
				for _, it := range c.Items {
					f := floatValue(it)
					if f == nil {
						f = t.copyNode(it, kp)
					}
					s.items = append(s.items, &yitem{v: f, comments: it.Comments, line: it.LineComment})
				}
				return s
			})
		case "auto_dc_limit":
			return uintValue(n)
		case "ignore_ecs":
			return boolValue(n)
		}
		if removedMapKeys[key] {
			t.notef(n.Pos, kp, Error, "not translated: a gdnsd 2.x key, which gdnsd 3.x refuses")
		} else {
			t.notef(n.Pos, kp, Error, "not translated: gdnsd refuses this map key")
		}
		return dropped
	})
}

// dbPath makes a geoip2_db file name absolute: gdnsd reads it under
// GDNSD_DIR/geoip/, or --geoip-db-dir.
func (t *translator) dbPath(n *vscf.Node) *ynode {
	if n.Kind != vscf.Scalar || filepath.IsAbs(n.Value) {
		return nil
	}
	return yStr(filepath.Join(t.dbDir, n.Value))
}

// nets translates a map's nets: an inline hash as it is, a file into a
// YAML nets file of the output directory.
func (t *translator) nets(n *vscf.Node, path string) *ynode {
	if n.Kind != vscf.Scalar {
		return nil
	}
	src := n.Value
	if !filepath.IsAbs(src) {
		src = filepath.Join(t.from, "geoip", src)
	}
	if rel, ok := t.netsOut[src]; ok {
		return yStr(rel)
	}
	name := filepath.Clean(n.Value)
	if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
		name = filepath.Base(name)
	}
	rel := filepath.ToSlash(filepath.Join("nets", name))
	root, err := vscf.ParseFile(src)
	if err != nil {
		var ce *conf.Error
		if errors.As(err, &ce) {
			e := *ce
			e.Pos.File = t.rel(e.Pos.File)
			err = &e
		}
		t.notef(n.Pos, path, Error, "nets file %v", err)
		return nil
	}
	if root.Kind != vscf.Hash {
		t.notef(n.Pos, path, Error, "nets file %s: want a hash of PREFIX => [DC, ...], found %s", n.Value, root.Kind)
		return nil
	}
	t.netsOut[src] = rel
	y := t.copyNode(root, path)
	t.files[rel] = encodeYAML([]string{"# geoip nets, translated from gdnsd's " + t.rel(src) + " by authdns import-gdnsd."}, y)
	return yStr(rel)
}

// rel names path relative to the gdnsd directory when it is inside it.
func (t *translator) rel(path string) string {
	if r, err := filepath.Rel(t.from, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
