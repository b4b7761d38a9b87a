package gdnsdimport

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// Level says how much a Note matters.
type Level uint8

const (
	// NotNeeded marks an option with no meaning for authdns.
	NotNeeded Level = iota
	// Warning marks an option translated differently, or dropped, without
	// changing any answer.
	Warning
	// Error marks an option that changes answers and could not be
	// translated: the output does not answer as gdnsd would.
	Error
)

var levelNames = [...]string{NotNeeded: "not needed", Warning: "warning", Error: "error"}

// Note is one line of the import report: `config:12: option X: level: text`.
type Note struct {
	Pos    conf.Pos // File relative to the gdnsd directory when inside it
	Option string   // dotted path; options.* without the "options." prefix
	Level  Level
	Text   string
}

func (n Note) String() string {
	var b strings.Builder
	if p := n.Pos.String(); p != "" {
		b.WriteString(p + ": ")
	}
	if n.Option != "" {
		b.WriteString("option " + n.Option + ": ")
	}
	b.WriteString(levelNames[n.Level] + ": " + n.Text)
	return b.String()
}

// notef records a note about option at p.
func (t *translator) notef(p conf.Pos, option string, lv Level, format string, args ...any) {
	p.Col = 0
	if p.File != "" {
		if rel, err := filepath.Rel(t.from, p.File); err == nil && !strings.HasPrefix(rel, "..") {
			p.File = rel
		}
	}
	t.notes = append(t.notes, Note{Pos: p, Option: strings.TrimPrefix(option, "options."), Level: lv, Text: fmt.Sprintf(format, args...)})
}

// sortNotes puts notes in the order of the files they name (each file
// where it was first named) and of lines within a file.
func sortNotes(notes []Note) {
	order := map[string]int{}
	for _, n := range notes {
		if _, ok := order[n.Pos.File]; !ok {
			order[n.Pos.File] = len(order)
		}
	}
	sort.SliceStable(notes, func(i, j int) bool {
		a, b := notes[i].Pos, notes[j].Pos
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		return a.Line < b.Line
	})
}
