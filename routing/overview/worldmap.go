package overview

import (
	"math"
	"strconv"
	"strings"
)

// The map is an equirectangular projection of every longitude and of the
// latitudes from mapTop down to mapBottom: the polar caps hold no sites.
const (
	mapWidth  = 1000.0
	mapTop    = 84.0
	mapBottom = -58.0
	mapScale  = mapWidth / 360 // SVG units per degree, on both axes
	mapHeight = (mapTop - mapBottom) * mapScale
)

// Geometry of the drawing, in SVG units.
const (
	markerRadius = 6.0
	arrowGap     = 3.0  // between an arrow's ends and the markers
	arrowBend    = 0.18 // the control point's offset, as a share of the length
)

// point is a position on the map, in SVG units from its top left corner.
type point struct{ X, Y float64 }

// project places a latitude and longitude (degrees) on the map; points
// beyond the drawn latitudes land on its edge, so a site is never lost.
func project(lat, lon float64) point {
	lat = math.Max(mapBottom, math.Min(mapTop, lat))
	lon = math.Max(-180, math.Min(180, lon))
	return point{X: (lon + 180) * mapScale, Y: (mapTop - lat) * mapScale}
}

// num formats an SVG coordinate: a tenth of a unit is finer than a pixel.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if s == "-0.0" {
		return "0.0"
	}
	return s
}

// landPaths returns the SVG path data of each continent outline.
func landPaths() []string {
	out := make([]string, 0, len(continents))
	for _, poly := range continents {
		var b strings.Builder
		for i, ll := range poly {
			p := project(ll[1], ll[0])
			if i == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			b.WriteString(num(p.X) + " " + num(p.Y))
		}
		b.WriteString(" Z")
		out = append(out, b.String())
	}
	return out
}

// arrowPath is the path data of an arrow from the marker at a to the
// marker at b: a quadratic curve bent to the left of its direction, so
// that the way back (b to a) is drawn beside it rather than over it, and
// stopped short of both markers so that its head stays visible.
func arrowPath(a, b point) string {
	dx, dy := b.X-a.X, b.Y-a.Y
	d := math.Hypot(dx, dy)
	cut := markerRadius + arrowGap
	if d <= 2*cut { // markers touching: nothing sensible to draw between them
		return "M" + num(a.X) + " " + num(a.Y) + " L" + num(b.X) + " " + num(b.Y)
	}
	ux, uy := dx/d, dy/d
	s := point{a.X + ux*cut, a.Y + uy*cut}
	e := point{b.X - ux*cut, b.Y - uy*cut}
	bend := arrowBend * d
	c := point{(s.X+e.X)/2 + uy*bend, (s.Y+e.Y)/2 - ux*bend}
	return "M" + num(s.X) + " " + num(s.Y) + " Q" + num(c.X) + " " + num(c.Y) + " " + num(e.X) + " " + num(e.Y)
}
