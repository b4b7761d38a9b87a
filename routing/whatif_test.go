package routing

import (
	"bytes"
	"strings"
	"testing"
)

func TestWhatIf(t *testing.T) {
	cfg := mustParse(t, seeds)
	base := mustState(t, "site/esams => DOWN")
	changes, err := WhatIf(cfg, base, []string{"codfw"})
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for _, c := range changes {
		changed[c.Site] = c.Changed
		if c.Site == "ulsfo" {
			if got := PathString(c.Before) + " | " + PathString(c.After); got != "ulsfo > codfw > eqiad | ulsfo > eqiad" {
				t.Errorf("ulsfo: %s", got)
			}
			if d := c.After.Reasons[0].Detail; !strings.Contains(d, "codfw is DOWN (what-if)") {
				t.Errorf("after detail: %q", d)
			}
		}
	}
	// ulsfo's path moves; codfw's path stays (a DOWN entry still routes) but
	// its active-active restbase leaves the DOWN DC codfw.
	if !changed["ulsfo"] || changed["esams"] || changed["eqiad"] || !changed["codfw"] {
		t.Errorf("changed = %v", changed)
	}
	if base.Len() != 1 {
		t.Fatal("what-if modified the base state")
	}
	if _, err := WhatIf(cfg, nil, []string{"cdfw"}); err == nil || !strings.Contains(err.Error(), `unknown site "cdfw"`) {
		t.Fatalf("typo accepted: %v", err)
	}

	var buf bytes.Buffer
	if err := WriteWhatIfTable(&buf, changes); err != nil {
		t.Fatal(err)
	}
	var ulsfoLine string
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(line, "text") && strings.Contains(line, "ulsfo") && strings.Contains(line, " - ") {
			ulsfoLine = line
		}
	}
	if !strings.Contains(ulsfoLine, "ulsfo > eqiad ok [nearest,configured]") || !strings.HasSuffix(strings.TrimSpace(ulsfoLine), "yes") {
		t.Errorf("ulsfo row: %q\n%s", ulsfoLine, buf.String())
	}
}

func TestWhatIfAppsChange(t *testing.T) {
	changes, err := WhatIf(mustParse(t, seeds), nil, []string{"eqiad"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Site == "esams" {
			if got := c.Before.Apps["api"].DC + ">" + c.After.Apps["api"].DC; got != "eqiad>codfw" || !c.Changed {
				t.Errorf("esams api: %s changed=%v", got, c.Changed)
			}
			if c.After.Apps["appservers"].Reason != ReasonUnreachable {
				t.Errorf("appservers: %+v", c.After.Apps["appservers"])
			}
		}
	}
}

func TestWriteExplain(t *testing.T) {
	res := Resolve(mustParse(t, seeds), mustState(t, "site/codfw => DOWN"))
	var r Result
	for _, x := range res {
		if x.Site == "ulsfo" {
			r = x
		}
	}
	var buf bytes.Buffer
	WriteExplain(&buf, r, "api")
	out := buf.String()
	for _, w := range []string{"text/ulsfo: ok", "path: ulsfo > eqiad", "ulsfo -> eqiad: nearest: no usable choice (codfw is DOWN (admin_state line 1: site/codfw => DOWN))",
		"eqiad -> direct: configured", "app api: eqiad api.eqiad (configured)"} {
		if !strings.Contains(out, w) {
			t.Errorf("explain lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "app restbase") {
		t.Errorf("explain with an app shows other apps:\n%s", out)
	}
}

// A DOWN entry site still gets its route (stale DNS); the table's ENTRY
// column and explain say it is DOWN.
func TestEntryDownShown(t *testing.T) {
	res := Resolve(mustParse(t, seeds), mustState(t, "site/esams => DOWN"))
	var buf bytes.Buffer
	if err := WriteRoutesTable(&buf, res); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		f := strings.Fields(line)
		want := "up"
		if f[1] == "esams" {
			want = "DOWN"
		}
		if f[2] != want {
			t.Errorf("ENTRY of %s = %s, want %s\n%s", f[1], f[2], want, buf.String())
		}
	}
	for _, r := range res {
		if r.Site == "esams" {
			buf.Reset()
			WriteExplain(&buf, r, "")
			if !strings.HasPrefix(buf.String(), "text/esams: ok; entry site DOWN\n") || !r.EntryDown {
				t.Errorf("explain:\n%s", buf.String())
			}
		}
	}
}
