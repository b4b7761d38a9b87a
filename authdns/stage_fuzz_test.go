package authdns

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The control API's stage body comes over the network: any bytes either
// decode (as serveStage decodes them) into an id and a bundle that
// Validate accepts, or are refused. An accepted bundle writes only inside
// its set directory and reads back with the same digest, so what a commit
// serves is what was staged.
func FuzzStageBody(f *testing.F) {
	good := func(b *Bundle) []byte {
		body, err := json.Marshal(&StageRequest{ID: "r-1.x_2", Before: "0123abcd", Bundle: *b})
		if err != nil {
			f.Fatal(err)
		}
		return body
	}
	data := f.TempDir()
	writeData(f, data, 1, "")
	b, err := ReadBundle(data)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good(b))
	f.Add(good(&Bundle{Files: []File{{Path: "zones/example.org", Data: []byte("x")}, {Path: "admin_state"}}}))
	for _, s := range []string{`{}`, `{"id": "a b", "before": "x"}`, `{"id": "x", "files": [{"path": "../x", "data": ""}]}`,
		`{"id": "x", "files": [{"path": "a", "data": "AA=="}, {"path": "a", "data": "AQ=="}]}`,
		`{"id": "x", "files": [{"path": "a/.git/b"}, {"path": "/etc/passwd"}, {"path": "a\\b"}]}`,
		`{"id": "x", "files": [{"path": "a", "data": "not base64"}]}`, `{"id": "x"} trailing`, `[`, `null`} {
		f.Add([]byte(s))
	}
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte) {
		var req StageRequest
		if json.NewDecoder(bytes.NewReader(body)).Decode(&req) != nil || checkStageID(req.ID) != nil || req.Bundle.Validate() != nil {
			return
		}
		set := filepath.Join(root, "data", "set")
		os.RemoveAll(filepath.Join(root, "data"))
		if err := os.Mkdir(filepath.Join(root, "data"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := req.Bundle.WriteDir(set); err != nil {
			return // a file where a directory must go ("a" and "a/b"): refused at stage
		}
		if got, _ := os.ReadDir(root); len(got) != 1 {
			t.Fatalf("writing the bundle made %d entries beside its data directory", len(got))
		}
		if got, _ := os.ReadDir(filepath.Join(root, "data")); len(got) != 1 {
			t.Fatalf("writing the bundle made %d entries beside its set", len(got))
		}
		back, err := ReadBundle(set)
		if err != nil {
			t.Fatal(err)
		}
		if back.Digest() != req.Bundle.Digest() || len(back.Files) != len(req.Bundle.Files) {
			t.Fatalf("bundle of %d files read back as %d, digest %s, was %s", len(req.Bundle.Files), len(back.Files),
				back.Digest(), req.Bundle.Digest())
		}
	})
}
