package conftool

import "strings"

// Object is one key/value of the layout as read from etcd.
type Object struct {
	Kind        Kind
	Key         string
	Tags        []string // values in Kind.Tags() order
	Value       []byte   // raw JSON
	ModRevision int64
}

// Name is the object's last tag (host, site, key, ...).
func (o Object) Name() string { return o.Tags[len(o.Tags)-1] }

// Tag returns the value of the named tag, or "".
func (o Object) Tag(name string) string {
	for i, n := range o.Kind.Tags() {
		if n == name {
			return o.Tags[i]
		}
	}
	return ""
}

// TagString is conftool's "tags" field: every tag but the name, as
// "dc=eqiad,cluster=appserver,service=apache2" ("" for one-tag kinds).
func (o Object) TagString() string {
	names := o.Kind.Tags()
	parts := make([]string, 0, len(names)-1)
	for i := 0; i < len(names)-1; i++ {
		parts = append(parts, names[i]+"="+o.Tags[i])
	}
	return strings.Join(parts, ",")
}
