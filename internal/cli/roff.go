package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// WriteMan writes p as a man(7) page of section 1 with the sections
// man-pages(7) names: NAME, SYNOPSIS, DESCRIPTION, COMMANDS, OPTIONS, EXIT
// STATUS, ENVIRONMENT, FILES, EXAMPLES and SEE ALSO. It carries no date,
// so that the page only changes when the command's description does.
func (p *Page) WriteMan(w io.Writer) {
	fmt.Fprintf(w, ".\\\" Generated from the command's --help description (internal/cli); do not edit.\n")
	fmt.Fprintf(w, ".TH %s 1 \"\" \"geotraffic\" \"User Commands\"\n", strings.ToUpper(esc(p.Name)))
	// Flags and paths must not be hyphenated or stretched.
	fmt.Fprintln(w, ".nh\n.ad l")
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n", esc(p.Name), esc(p.Summary))
	fmt.Fprintln(w, ".SH SYNOPSIS")
	synopsis(w, p.Synopsis)
	if p.Text != "" {
		fmt.Fprintln(w, ".SH DESCRIPTION")
		text(w, p.Text)
	}
	if len(p.Commands) > 0 {
		fmt.Fprintln(w, ".SH COMMANDS")
		for _, c := range p.Commands {
			fmt.Fprintf(w, ".SS \"%s\"\n", esc(c.Name))
			synopsis(w, c.Synopsis)
			text(w, c.Text)
			if c.Flags != nil && hasFlags(c.Flags) {
				fmt.Fprintln(w, ".PP\nFlags:")
				flags(w, c.Flags)
			}
		}
	}
	if p.Flags != nil && hasFlags(p.Flags) {
		fmt.Fprintln(w, ".SH OPTIONS")
		flags(w, p.Flags)
	}
	items(w, "EXIT STATUS", p.Exit, false)
	items(w, "ENVIRONMENT", p.Env, true)
	items(w, "FILES", p.Files, true)
	if len(p.Examples) > 0 {
		fmt.Fprintln(w, ".SH EXAMPLES")
		for _, e := range p.Examples {
			fmt.Fprintf(w, ".PP\n%s\n.PP\n.RS 4\n.nf\n%s\n.fi\n.RE\n", esc(e.Text), esc(e.Term))
		}
	}
	if len(p.SeeAlso) > 0 {
		fmt.Fprintln(w, ".SH SEE ALSO")
		refs := make([]string, len(p.SeeAlso))
		for i, s := range p.SeeAlso {
			name, sec, _ := strings.Cut(strings.TrimSuffix(s, ")"), "(")
			refs[i] = fmt.Sprintf(".BR %s (%s)", esc(name), sec)
		}
		fmt.Fprintln(w, strings.Join(refs, ",\n"))
	}
}

func synopsis(w io.Writer, lines []string) {
	fmt.Fprintln(w, ".nf")
	for _, s := range lines {
		name, rest, _ := strings.Cut(s, " ")
		if rest == "" {
			fmt.Fprintf(w, ".B %s\n", esc(name))
		} else {
			fmt.Fprintf(w, "\\fB%s\\fR %s\n", esc(name), esc(rest))
		}
	}
	fmt.Fprintln(w, ".fi")
}

// text renders paragraphs: prose lines are filled, lines that start with
// a space are kept as written.
func text(w io.Writer, s string) {
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		fmt.Fprintln(w, ".PP")
		literal := false
		for _, l := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(l, " ")
			if indented != literal {
				if indented {
					fmt.Fprintln(w, ".nf")
				} else {
					fmt.Fprintln(w, ".fi")
				}
				literal = indented
			}
			fmt.Fprintln(w, esc(l))
		}
		if literal {
			fmt.Fprintln(w, ".fi")
		}
	}
}

func flags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, arg, _ := strings.Cut(flagTerm(f), " ")
		if arg == "" {
			fmt.Fprintf(w, ".TP\n.B %s\n", esc(name))
		} else {
			fmt.Fprintf(w, ".TP\n.BI %s \" %s\"\n", esc(name), esc(arg))
		}
		fmt.Fprintln(w, esc(flagText(f)))
	})
}

func items(w io.Writer, title string, list []Item, bold bool) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(w, ".SH %s\n", title)
	for _, it := range list {
		if bold {
			fmt.Fprintf(w, ".TP\n.B %s\n%s\n", esc(it.Term), esc(it.Text))
		} else {
			fmt.Fprintf(w, ".TP\n%s\n%s\n", esc(it.Term), esc(it.Text))
		}
	}
}

// esc escapes s for roff: backslashes, hyphens (so that options are not
// broken or turned into typographic dashes), and a leading control
// character.
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
