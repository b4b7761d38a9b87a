package keys

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LoadDir reads every key pair in dir (K*.key with its K*.private; the
// old dot-less K<zone>+... names too), keyed by canonical zone name. A
// .key without its .private and one key in two pairs of files
// (dnssec-revoke leaves the unrevoked pair behind unless given -r) are
// errors; a .private alone is skipped, as a key being written (Write and
// dnssec-keygen write the .private first). Every error is returned,
// joined; any error returns no keys. A directory without keys gives an
// empty map.
func LoadDir(dir string) (map[string]*ZoneKeys, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dnssec keys: %w", err)
	}
	var errs []error
	var all []*Key
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "K") || e.IsDir() {
			continue
		}
		b, ok := strings.CutSuffix(filepath.Join(dir, name), ".key")
		if !ok {
			continue
		}
		k, err := ReadKey(b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, k)
	}
	errs = append(errs, duplicates(all)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	zones := make(map[string]*ZoneKeys)
	for _, k := range all {
		z := zones[k.Zone]
		if z == nil {
			z = &ZoneKeys{Zone: k.Zone}
			zones[k.Zone] = z
		}
		z.Keys = append(z.Keys, k)
	}
	for _, z := range zones {
		sortKeys(z.Keys)
	}
	return zones, nil
}

// duplicates reports key material found in more than one pair of files.
func duplicates(all []*Key) []error {
	var errs []error
	seen := make(map[string]*Key)
	for _, k := range all {
		pub, _ := base64.StdEncoding.DecodeString(k.DNSKEY.PublicKey)
		id := fmt.Sprintf("%s/%d/%s", k.Zone, k.DNSKEY.Algorithm, pub)
		if o := seen[id]; o != nil {
			errs = append(errs, fmt.Errorf("%s.key: the same key as %s.key (keep one of them)", k.File, o.File))
			continue
		}
		seen[id] = k
	}
	return errs
}

// sortKeys orders keys by tag, algorithm, public key: the order of the
// DNSKEY set and of the signatures, the same at every load.
func sortKeys(ks []*Key) {
	slices.SortFunc(ks, func(a, b *Key) int {
		return cmp.Or(cmp.Compare(a.Tag(), b.Tag()), cmp.Compare(a.DNSKEY.Algorithm, b.DNSKEY.Algorithm),
			bytes.Compare([]byte(a.DNSKEY.PublicKey), []byte(b.DNSKEY.PublicKey)))
	})
}
