package routing

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes v as indented JSON, leaving `=>` and `<` unescaped
// because explanations quote admin_state lines.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// PathString renders a path as "ulsfo > codfw > eqiad".
func PathString(r Result) string { return strings.Join(r.Path, " > ") }

func reasonCodes(r Result) string {
	var codes []string
	for _, x := range r.Reasons {
		codes = append(codes, x.Reason)
	}
	return strings.Join(codes, ",")
}

// AppString renders an app choice as "eqiad (configured)" or
// "- (unreachable)".
func AppString(a AppRoute) string {
	dc := a.DC
	if dc == "" {
		dc = "-"
	}
	return dc + " (" + a.Reason + ")"
}

func appsString(r Result) string {
	var parts []string
	for _, name := range sortedKeys(r.Apps) {
		parts = append(parts, name+"="+AppString(r.Apps[name]))
	}
	return strings.Join(parts, " ")
}

// entryState is the ENTRY column: DOWN when admin_state takes the entry
// site out (only clients with stale DNS should still arrive there).
func entryState(r Result) string {
	if r.EntryDown {
		return "DOWN"
	}
	return "up"
}

// WriteRoutesTable writes one line per cluster and entry site.
func WriteRoutesTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tSITE\tENTRY\tSTATUS\tPATH\tREASONS\tAPPS")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Cluster, r.Site, entryState(r), r.Status, PathString(r), reasonCodes(r), appsString(r))
	}
	return tw.Flush()
}

// WriteExplain writes a result hop by hop with reasons; app limits the
// apps shown to one when not empty.
func WriteExplain(w io.Writer, r Result, app string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: %s", r.Cluster, r.Site, r.Status)
	if r.Status == StatusDegraded {
		fmt.Fprintf(&b, " (no valid DC for %s)", strings.Join(UnreachableApps(r), ", "))
	}
	if r.EntryDown {
		b.WriteString("; entry site DOWN")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "path: %s\n", PathString(r))
	for _, x := range r.Reasons {
		next := x.Next
		if next == "" {
			next = "(nowhere)"
		}
		fmt.Fprintf(&b, "  %s -> %s: %s", x.Site, next, x.Reason)
		if x.Detail != "" {
			fmt.Fprintf(&b, ": %s", x.Detail)
		}
		b.WriteString("\n")
	}
	for _, name := range sortedKeys(r.Apps) {
		if app != "" && name != app {
			continue
		}
		a := r.Apps[name]
		fmt.Fprintf(&b, "app %s: ", name)
		if a.DC != "" {
			fmt.Fprintf(&b, "%s %s ", a.DC, a.Backend)
		}
		fmt.Fprintf(&b, "(%s)", a.Reason)
		if a.Detail != "" {
			fmt.Fprintf(&b, ": %s", a.Detail)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteWhatIfTable writes before/after for every cluster, entry site and
// app; CHANGED marks the rows that differ.
func WriteWhatIfTable(w io.Writer, changes []Change) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tSITE\tAPP\tBEFORE\tAFTER\tCHANGED")
	mark := func(changed bool) string {
		if changed {
			return "yes"
		}
		return "-"
	}
	for _, c := range changes {
		b, a := c.Before, c.After
		pathChanged := b.Status != a.Status || PathString(b) != PathString(a) || reasonCodes(b) != reasonCodes(a)
		fmt.Fprintf(tw, "%s\t%s\t-\t%s [%s]\t%s [%s]\t%s\n", c.Cluster, c.Site,
			PathString(b)+" "+b.Status, reasonCodes(b), PathString(a)+" "+a.Status, reasonCodes(a), mark(pathChanged))
		for _, name := range sortedKeys(b.Apps) {
			x, y := b.Apps[name], a.Apps[name]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Cluster, c.Site, name, AppString(x), AppString(y),
				mark(x.DC != y.DC || x.Backend != y.Backend || x.Reason != y.Reason))
		}
	}
	return tw.Flush()
}
