package overview

import (
	"math"
	"regexp"
	"strconv"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestProject(t *testing.T) {
	for _, c := range []struct {
		name     string
		lat, lon float64
		want     point
	}{
		{"top left corner", mapTop, -180, point{0, 0}},
		{"bottom right corner", mapBottom, 180, point{mapWidth, mapHeight}},
		{"null island", 0, 0, point{mapWidth / 2, mapTop * mapScale}},
		{"Amsterdam", 52.31, 4.94, point{(180 + 4.94) * mapScale, (mapTop - 52.31) * mapScale}},
		{"a degree is as wide as high", 1, 1, point{181 * mapScale, (mapTop - 1) * mapScale}},
		{"north pole clamped to the top edge", 90, 10, point{190 * mapScale, 0}},
		{"south pole clamped to the bottom edge", -90, -10, point{170 * mapScale, mapHeight}},
		{"longitude beyond 180 clamped", 0, 200, point{mapWidth, mapTop * mapScale}},
	} {
		if got := project(c.lat, c.lon); !near(got.X, c.want.X) || !near(got.Y, c.want.Y) {
			t.Errorf("%s: project(%g, %g) = %+v, want %+v", c.name, c.lat, c.lon, got, c.want)
		}
	}
	// East is right and north is up.
	w, e := project(0, -10), project(0, 10)
	n, s := project(10, 0), project(-10, 0)
	if !(w.X < e.X) || !(n.Y < s.Y) {
		t.Errorf("orientation: west %v east %v north %v south %v", w, e, n, s)
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0", -0.01: "0.0", 12.345: "12.3", 394.44: "394.4", -3.96: "-4.0"} {
		if got := num(v); got != want {
			t.Errorf("num(%g) = %q, want %q", v, got, want)
		}
	}
}

var numRE = regexp.MustCompile(`-?\d+(?:\.\d+)?`)

func numbers(t *testing.T, d string) []float64 {
	t.Helper()
	var out []float64
	for _, s := range numRE.FindAllString(d, -1) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestLandStaysOnTheMap(t *testing.T) {
	paths := landPaths()
	if len(paths) != len(continents) {
		t.Fatalf("%d paths for %d outlines", len(paths), len(continents))
	}
	for i, d := range paths {
		ns := numbers(t, d)
		if len(ns) != 2*len(continents[i]) {
			t.Errorf("path %d: %d numbers for %d points", i, len(ns), len(continents[i]))
		}
		for j := 0; j+1 < len(ns); j += 2 {
			if ns[j] < 0 || ns[j] > mapWidth || ns[j+1] < 0 || ns[j+1] > mapHeight {
				t.Errorf("path %d: point (%g, %g) off the %gx%g map", i, ns[j], ns[j+1], mapWidth, mapHeight)
			}
		}
	}
	for i, poly := range continents {
		for _, ll := range poly {
			if ll[0] < -180 || ll[0] > 180 || ll[1] < mapBottom || ll[1] > mapTop {
				t.Errorf("outline %d: [lon %g, lat %g] is off the drawn map: swapped?", i, ll[0], ll[1])
			}
		}
	}
}

func TestArrowPath(t *testing.T) {
	a, b := point{100, 100}, point{300, 100}
	ns := numbers(t, arrowPath(a, b)) // M sx sy Q cx cy ex ey
	if len(ns) != 6 {
		t.Fatalf("arrowPath: %v", ns)
	}
	cut := markerRadius + arrowGap
	if !near(ns[0], a.X+cut) || !near(ns[1], a.Y) || !near(ns[4], b.X-cut) || !near(ns[5], b.Y) {
		t.Errorf("ends %v: want them %g from the markers' centres", ns, cut)
	}
	// Left of the direction of travel: eastwards is up on the map (y
	// smaller); the way back bends to the other side, so both show.
	back := numbers(t, arrowPath(b, a))
	if !(ns[3] < a.Y) || !(back[3] > a.Y) {
		t.Errorf("control points %g (a->b) and %g (b->a) around y=%g: both arrows would overlap", ns[3], back[3], a.Y)
	}
	// Markers on top of each other: a straight segment, no NaN.
	if d := arrowPath(a, point{101, 101}); d != "M100.0 100.0 L101.0 101.0" {
		t.Errorf("touching markers: %q", d)
	}
}
