package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Page describes a command once, for both its --help and its man page.
type Page struct {
	Name     string   // "lvsd", or "lvsd check" for a subcommand
	Summary  string   // one line, for NAME and the top of --help
	Synopsis []string // usage lines, each starting with Name
	// Text is the description: paragraphs separated by blank lines; a
	// line that starts with a space is kept as written (lists, examples).
	Text     string
	Flags    *flag.FlagSet // nil: no flags of its own
	Commands []Page        // subcommands
	Exit     []Item        // exit statuses: Term is the number
	Env      []Item        // environment variables
	Files    []Item
	Examples []Item   // Term is the command line, Text says what it does
	SeeAlso  []string // "authdns(1)"
}

// Item is a term and its explanation.
type Item struct{ Term, Text string }

// WriteHelp writes p as --help shows it.
func (p *Page) WriteHelp(w io.Writer) {
	if p.Summary != "" {
		fmt.Fprintf(w, "%s: %s\n\n", p.Name, p.Summary)
	}
	if len(p.Synopsis) == 1 {
		fmt.Fprintf(w, "Usage: %s\n", p.Synopsis[0])
	} else {
		fmt.Fprintln(w, "Usage:")
		for _, s := range p.Synopsis {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if p.Text != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(p.Text, "\n"))
	}
	if len(p.Commands) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		for _, c := range p.Commands {
			for _, s := range c.Synopsis {
				fmt.Fprintf(w, "  %s\n", s)
			}
			writeIndented(w, c.Text, "        ")
		}
	}
	if p.Flags != nil && hasFlags(p.Flags) {
		fmt.Fprintln(w, "\nFlags:")
		p.Flags.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  %s\n", flagTerm(f))
			writeIndented(w, flagText(f), "        ")
		})
	}
	writeItems(w, "Exit status", p.Exit)
	writeItems(w, "Environment", p.Env)
}

func writeItems(w io.Writer, title string, items []Item) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, it := range items {
		fmt.Fprintf(w, "  %-4s %s\n", it.Term, it.Text)
	}
}

func writeIndented(w io.Writer, text, indent string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", indent, l)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagTerm is "--name ARG", or "-n ARG" for a one-letter name.
func flagTerm(f *flag.Flag) string {
	arg, _ := flag.UnquoteUsage(f)
	dash := "--"
	if len(f.Name) == 1 {
		dash = "-"
	}
	if arg == "" {
		return dash + f.Name
	}
	return dash + f.Name + " " + arg
}

// flagText is the flag's usage and its default when that is not the
// type's zero value.
func flagText(f *flag.Flag) string {
	_, usage := flag.UnquoteUsage(f)
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return usage
	}
	return fmt.Sprintf("%s (default %s)", usage, f.DefValue)
}

// Help prints p's --help on stdout and returns ExitOK.
func Help(stdout io.Writer, p *Page) int {
	p.WriteHelp(stdout)
	return ExitOK
}
