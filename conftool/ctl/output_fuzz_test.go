package ctl

import (
	"encoding/json"
	"testing"

	"github.com/geotraffic/geotraffic/conftool"
)

// FuzzGetLine: `get` prints values anyone with etcd access wrote. Whatever
// the value, the line must be one valid JSON object holding the name.
func FuzzGetLine(f *testing.F) {
	for _, s := range []string{`{"weight": 10, "pooled": "yes"}`, `<html>502</html>`, `{"weight":-1,"x":[true,null,1.5e3]}`,
		`{"route":{"active-active":["eqiad"]}}`, `"just a string"`, `[[[[]]]]`, `{"a":"\u00e9<&>"}`, ``, `null`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, k := range conftool.Kinds() {
			tags := make([]string, len(k.Tags()))
			for i := range tags {
				tags[i] = "x"
			}
			line, _ := GetLine(conftool.Object{Kind: k, Key: "/k", Tags: tags, Value: []byte(value)})
			var got map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &got); err != nil || got["x"] == nil {
				t.Fatalf("%s %q: line %s is not JSON with the name: %v", k, value, line, err)
			}
		}
	})
}
