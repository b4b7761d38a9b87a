package gdnsdimport

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/vscf"
)

// Options are an import's inputs.
type Options struct {
	From, To   string   // the gdnsd directory (holding config) and the output directory
	Listen     []string // IP:port addresses replacing options.listen
	GeoIPDBDir string   // where relative geoip2_db names resolve (default From/geoip)
	StateDir   string   // gdnsd's state directory (admin_state, extfile/); see Result.StateDir
	Force      bool     // replace a non-empty To
	Log        *slog.Logger
}

// Result is what an import did.
type Result struct {
	Notes []Note
	// StateDir is the gdnsd state directory used, and StateFrom why:
	// --state-dir, options.state_dir, the gdnsd directory when it holds an
	// admin_state, else gdnsd's default.
	StateDir, StateFrom string
	AdminState          bool  // an admin_state was copied
	CheckErr            error // authdns's own check of the output; nil when it is accepted
}

// Failed tells whether the output does not answer as gdnsd would: an
// option that changes answers was not translated, or authdns refuses it.
func (r *Result) Failed() bool {
	if r.CheckErr != nil {
		return true
	}
	for _, n := range r.Notes {
		if n.Level == Error {
			return true
		}
	}
	return false
}

// gdnsdStateDir is gdnsd's default state directory.
const gdnsdStateDir = "/var/lib/gdnsd"

// translator holds one import's state.
type translator struct {
	o       Options
	from    string // the gdnsd directory, absolute
	dbDir   string // where geoip2_db names resolve, absolute
	notes   []Note
	cfg     *ynode // authdns.yaml
	geo     *ynode // geoip.yaml; nil without a geoip stanza
	geoPair *vscf.Pair
	plugins *ynode            // plugins.yaml
	files   map[string][]byte // every generated file, by output path
	netsOut map[string]string // nets file read → its output path

	stateDir    string
	listenCount int
	header      []string // comments of config's options and plugins, atop authdns.yaml
}

// Import translates o.From into o.To. The output is built beside o.To and
// renamed into place, so a failed import leaves nothing half-written. An
// error means nothing was written: the gdnsd configuration does not parse,
// o.To is not empty, or a file could not be read or written. Options that
// could not be translated, and authdns's own check of the output, are in
// the Result.
func Import(o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := usableOut(o.From, o.To, o.Force); err != nil {
		return nil, err
	}
	t, res, err := translateDir(o)
	if err != nil {
		return nil, err
	}
	if err := t.write(res); err != nil {
		return nil, err
	}
	sortNotes(t.notes)
	res.Notes = t.notes
	cfg, err := authdns.LoadConfig(filepath.Join(o.To, "authdns.yaml"))
	if err == nil {
		_, err = authdns.Check(cfg, o.Log)
	}
	res.CheckErr = err
	return res, nil
}

// translateDir reads o.From and translates it in memory: t.files holds
// every generated file.
func translateDir(o Options) (*translator, *Result, error) {
	from, err := filepath.Abs(o.From)
	if err != nil {
		return nil, nil, err
	}
	t := &translator{o: o, from: from, cfg: yMapOf(), plugins: yMapOf(), files: map[string][]byte{}, netsOut: map[string]string{}}
	root, err := t.readConfig()
	if err != nil {
		return nil, nil, err
	}
	res := &Result{}
	opts := root.Get("options")
	res.StateDir, res.StateFrom = t.findStateDir(opts)
	t.stateDir = res.StateDir
	t.dbDir = filepath.Join(from, "geoip")
	if o.GeoIPDBDir != "" {
		if t.dbDir, err = filepath.Abs(o.GeoIPDBDir); err != nil {
			return nil, nil, err
		}
	}
	t.translate(root, opts)
	t.encode()
	sortNotes(t.notes)
	res.Notes = t.notes
	return t, res, nil
}

// usableOut refuses an output directory that holds anything, unless
// force, and one that overlaps the gdnsd directory: --force would replace
// it, and a copy of zones/ into itself would not end.
func usableOut(from, to string, force bool) error {
	if to == "" {
		return errors.New("no output directory")
	}
	f, err1 := filepath.Abs(from)
	o, err2 := filepath.Abs(to)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if within(f, o) || within(o, f) {
		return fmt.Errorf("%s and %s overlap: write the output elsewhere", to, from)
	}
	entries, err := os.ReadDir(to)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case len(entries) > 0 && !force:
		return fmt.Errorf("%s is not empty (--force replaces it)", to)
	}
	return nil
}

// readConfig parses GDNSD_DIR/config. gdnsd runs on defaults without one,
// with a warning, and so does the import.
func (t *translator) readConfig() (*vscf.Node, error) {
	if fi, err := os.Stat(t.from); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a gdnsd configuration directory", t.o.From)
	}
	path := filepath.Join(t.from, "config")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.notef(conf.Pos{File: path}, "", Warning, "no config file: gdnsd's defaults apply")
		return &vscf.Node{Kind: vscf.Hash}, nil
	}
	root, err := vscf.ParseFile(path)
	if err != nil {
		return nil, err
	}
	if root.Kind != vscf.Hash {
		return nil, root.Pos.Errorf("", "the config file must be a hash (options, service_types, plugins), not %s", root.Kind)
	}
	return root, nil
}

// findStateDir picks gdnsd's state directory.
func (t *translator) findStateDir(opts *vscf.Node) (dir, why string) {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	if t.o.StateDir != "" {
		return abs(t.o.StateDir), "--state-dir"
	}
	if v := opts.Get("state_dir"); v != nil && v.Kind == vscf.Scalar {
		return abs(v.Value), "options.state_dir"
	}
	if _, err := os.Stat(filepath.Join(t.from, "admin_state")); err == nil {
		return t.from, "admin_state found in " + t.o.From
	}
	return gdnsdStateDir, "gdnsd's default"
}

// translate builds authdns.yaml, geoip.yaml and plugins.yaml from config.
func (t *translator) translate(root, opts *vscf.Node) {
	t.options(opts)
	var services *vscf.Pair
	for _, p := range root.Pairs {
		if p.Key == "options" || p.Key == "plugins" {
			t.header = append(t.header, p.Comments...)
		}
		switch p.Key {
		case "options":
			if p.Value.Kind != vscf.Hash {
				t.notef(p.Value.Pos, "options", Error, "want a hash, found %s", p.Value.Kind)
			}
		case "service_types":
			services = p
		case "plugins":
			t.pluginsStanza(p)
		default:
			t.notef(p.KeyPos, p.Key, Error, "gdnsd refuses this key: config holds options, service_types and plugins")
		}
	}
	if t.geo != nil {
		p := t.cfg.add("geoip", yStr("geoip.yaml"))
		p.comments = t.geoPair.Comments
	}
	if len(t.plugins.pairs) > 0 {
		t.cfg.add("plugins", yStr("plugins.yaml"))
	}
	if services != nil {
		t.serviceTypes(services)
	}
}

// encode renders authdns.yaml, geoip.yaml and plugins.yaml into t.files.
func (t *translator) encode() {
	header := func(what string) []string {
		return []string{fmt.Sprintf("# %s, translated from gdnsd's %s by authdns import-gdnsd.", what, filepath.Join(t.o.From, "config"))}
	}
	t.files["authdns.yaml"] = encodeYAML(append(header("authdns configuration"), t.header...), t.cfg)
	if t.geo != nil {
		t.files["geoip.yaml"] = encodeYAML(header("plugins.geoip"), t.geo)
	}
	if len(t.plugins.pairs) > 0 {
		t.files["plugins.yaml"] = encodeYAML(header("gdnsd's resolver plugins"), t.plugins)
	}
}

// write builds the output directory beside o.To and renames it into place.
func (t *translator) write(res *Result) (err error) {
	to := filepath.Clean(t.o.To)
	tmp, err := os.MkdirTemp(filepath.Dir(to), "."+filepath.Base(to)+".import-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for name, data := range t.files {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	if err := t.copyZones(filepath.Join(tmp, "zones")); err != nil {
		return err
	}
	if res.AdminState, err = copyFile(filepath.Join(res.StateDir, "admin_state"), filepath.Join(tmp, "admin_state")); err != nil {
		return err
	}
	return place(tmp, to)
}

// place renames the finished directory tmp to to, replacing what is there
// (usableOut has checked that this is allowed).
func place(tmp, to string) error {
	if err := os.Rename(tmp, to); err == nil {
		return nil
	}
	old := tmp + ".old"
	if err := os.Rename(to, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Rename(old, to)
		return err
	}
	return os.RemoveAll(old)
}

// within tells whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
