package authdns

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/geo"
)

func TestAnswerHistoryKeepsTheLastSamples(t *testing.T) {
	var h answerHistory
	var totals dnsserver.StatsSnapshot
	start := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	reason, slot := int(geo.ReasonGeoIP), 3
	for i := 1; i <= historyLen+5; i++ {
		totals.DynAnswers[reason*dnsserver.MaxDCSlots+slot] += uint64(i) // i answers in interval i
		h.record(start.Add(time.Duration(i)*historyInterval), &totals)
	}
	got := h.samples()
	if len(got) != historyLen {
		t.Fatalf("%d samples kept, want %d", len(got), historyLen)
	}
	for j, s := range got {
		i := j + 6 // the first five fell out of the ring
		if s.Reasons[reason] != uint64(i) || s.Slots[slot] != uint64(i) || !s.At.Equal(start.Add(time.Duration(i)*historyInterval)) {
			t.Fatalf("sample %d: %d answers (slot %d) at %v, want %d", j, s.Reasons[reason], s.Slots[slot], s.At, i)
		}
	}
	totals.DynAnswers[reason*dnsserver.MaxDCSlots+slot] += 7
	if cur := h.current(start, &totals); cur.Reasons[reason] != 7 {
		t.Errorf("interval so far: %d answers, want 7", cur.Reasons[reason])
	}
}

func TestBuildChartFoldsSmallSeriesIntoOther(t *testing.T) {
	values := map[string][]uint64{}
	for i, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		values[name] = []uint64{uint64(100 - i), 0}
	}
	values["silent"] = []uint64{0, 0}
	c := buildChart("x", "X", values, 2)
	if len(c.Series) != chartSeriesMax {
		t.Fatalf("%d series, want %d", len(c.Series), chartSeriesMax)
	}
	var names []string
	for _, s := range c.Series {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,c,d,e,f,g,other" {
		t.Errorf("series %s", got)
	}
	if other := c.Series[chartSeriesMax-1]; other.Total != 93+92+91 {
		t.Errorf("other sums %d", other.Total)
	}
	if c.Max != 93+92+91 {
		t.Errorf("max %d", c.Max)
	}
	// The newest value sits on the right edge, a zero on the baseline.
	last := c.Series[0].Points[strings.LastIndexByte(c.Series[0].Points, ' ')+1:]
	if want := "552.0,122.0"; last != want {
		t.Errorf("last point %s, want %s", last, want)
	}
}

func TestBuildGrid(t *testing.T) {
	states := map[string]geo.StateInfo{
		"site/esams":             {State: "DOWN!", RealState: "UP", Source: "file", ForcedBy: "admin_state:1"},
		"site/eqiad":             {State: "UP", RealState: "UP"},
		"geoip/text-addrs/eqiad": {State: "UP", RealState: "UP"},
		"metafo/mf/esams":        {State: "DOWN!", RealState: "DOWN"},
		"192.0.2.1/www_http":     {State: "DOWN", RealState: "DOWN"},
	}
	g := buildGrid(states, nil)
	if got := strings.Join(g.Sites, ","); got != "eqiad,esams" {
		t.Errorf("sites %s", got)
	}
	var rows []string
	for _, r := range g.Rows {
		rows = append(rows, r.Name+":"+r.Kind)
	}
	if got := strings.Join(rows, " "); got != "site:site geoip/text-addrs:resource metafo/mf:resource" {
		t.Errorf("rows %s", got)
	}
	if c := g.Rows[1].Cells[1]; c.Known || c.Site != "esams" {
		t.Errorf("text-addrs has no esams, got %+v", c)
	}
	if c := g.Rows[0].Cells[1]; !c.Forced() || c.Key != "site/esams" {
		t.Errorf("site/esams cell %+v", c)
	}
	if len(g.Monitored) != 1 || g.Monitored[0].Key != "192.0.2.1/www_http" {
		t.Errorf("monitored %+v", g.Monitored)
	}
	if down := downSites(g); len(down) != 1 || down[0] != "site esams (forced: admin_state:1)" {
		t.Errorf("down sites %q", down)
	}
}

// Names from geoip.yaml and zone files reach the page only escaped.
func TestStatusPageEscapesNames(t *testing.T) {
	hostile := `x"><script>alert(1)</script>`
	states := map[string]geo.StateInfo{
		"site/" + hostile:           {State: "UP", RealState: "UP"},
		"geoip/" + hostile + "/dc1": {State: "DOWN", RealState: "UP", Source: "etcd", ForcedBy: hostile},
	}
	v := statusView{
		Status:  &Status{Zones: []ZoneInfo{{Name: hostile, Serial: 1}}, Staged: &StagedInfo{ID: hostile}},
		Grid:    buildGrid(states, nil),
		Charts:  []chart{buildChart("c", hostile, map[string][]uint64{hostile: {1}}, 1)},
		Answers: buildAnswerTable(map[string]uint64{"geoip " + hostile: 3}),
	}
	var buf bytes.Buffer
	if err := statusPageTmpl.Execute(&buf, v); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script") {
		t.Errorf("markup injected:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "&lt;script&gt;") {
		t.Errorf("the name is not shown escaped:\n%s", buf.String())
	}
}
