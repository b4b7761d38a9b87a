package authdns

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Limits on a data bundle, so a mistaken --data (a home directory) fails
// clearly instead of filling a server's memory.
const (
	MaxBundleFiles = 100000
	MaxBundleBytes = 1 << 30
)

// Bundle is the content of a data directory: the unit authdns-update rolls
// out. Paths are relative, slash-separated; dotfiles and dot-directories
// (.git, editor swap files, staging areas) are never part of it.
type Bundle struct {
	Files []File `json:"files"`
}

// File is one file of a Bundle.
type File struct {
	Path string `json:"path"`
	Data []byte `json:"data"`
}

// FileInfo describes one file without its content.
type FileInfo struct {
	Path   string `json:"path"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// ReadBundle reads every regular file under dir, following symlinks to
// files. Symlinks to directories are not followed (SymlinkedDirs lists
// them, so a caller can refuse them rather than leave their content out).
func ReadBundle(dir string) (*Bundle, error) {
	b := &Bundle{}
	total := 0
	err := walkData(dir, func(dir, p string, d fs.DirEntry) error {
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.Files = append(b.Files, File{Path: filepath.ToSlash(rel), Data: data})
		total += len(data)
		if len(b.Files) > MaxBundleFiles || total > MaxBundleBytes {
			return fmt.Errorf("more than %d files or %d bytes: is this really a DNS data directory?", MaxBundleFiles, MaxBundleBytes)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data %s: %w", dir, err)
	}
	b.sort()
	return b, nil
}

// SymlinkedDirs lists, relative to dir, the symlinks to directories under
// dir (outside dot-directories): content ReadBundle leaves out.
func SymlinkedDirs(dir string) ([]string, error) {
	var out []string
	err := walkData(dir, func(dir, p string, d fs.DirEntry) error {
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data %s: %w", dir, err)
	}
	return out, nil
}

// walkData calls fn for every entry under dir outside dot-files and
// dot-directories. A dir that is itself a symlink (data -> releases/N) is
// walked through; fn gets the resolved root.
func walkData(dir string, fn func(root, p string, d fs.DirEntry) error) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(root, p, d)
	})
}

func (b *Bundle) sort() {
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path < b.Files[j].Path })
}

// Validate checks that every path is a clean relative path inside the
// bundle with no dot component, and that no path repeats.
func (b *Bundle) Validate() error {
	if len(b.Files) > MaxBundleFiles {
		return fmt.Errorf("bundle: more than %d files", MaxBundleFiles)
	}
	seen := map[string]bool{}
	for _, f := range b.Files {
		p := f.Path
		if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.Contains(p, "\\") {
			return fmt.Errorf("bundle: bad path %q", p)
		}
		for _, part := range strings.Split(p, "/") {
			if strings.HasPrefix(part, ".") {
				return fmt.Errorf("bundle: path %q has a dot component", p)
			}
		}
		if seen[p] {
			return fmt.Errorf("bundle: %q appears twice", p)
		}
		seen[p] = true
	}
	b.sort()
	return nil
}

// Digest identifies the bundle's content: DigestOf its manifest.
func (b *Bundle) Digest() string { return DigestOf(b.Manifest()) }

// DigestOf identifies a data set by its manifest (in path order): sha256
// over every path and its content's sha256. Built from the manifest, not
// the content, so a server can fold a file that changed on disk (its
// admin_state) into the digest it reports without holding every file.
func DigestOf(files []FileInfo) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range files {
		binary.BigEndian.PutUint64(n[:], uint64(len(f.Path)))
		h.Write(n[:])
		h.Write([]byte(f.Path))
		sum, _ := hex.DecodeString(f.SHA256)
		h.Write(sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Manifest lists the files with their sizes and hashes.
func (b *Bundle) Manifest() []FileInfo {
	out := make([]FileInfo, len(b.Files))
	for i, f := range b.Files {
		sum := sha256.Sum256(f.Data)
		out[i] = FileInfo{Path: f.Path, Size: len(f.Data), SHA256: hex.EncodeToString(sum[:])}
	}
	return out
}

// WriteDir writes the bundle into dir, which must not exist yet.
func (b *Bundle) WriteDir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, f := range b.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
