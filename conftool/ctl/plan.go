package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// change is one object a command writes.
type change struct {
	Kind conftool.Kind
	Key  string
	Tags []string
	Old  *conftool.Object // nil: the object is created
	New  []byte           // nil: the object is deleted
}

// after is the object as it will be once written; it sorts after every
// object already in etcd, as its new revision will.
func (c change) after() conftool.Object {
	return conftool.Object{Kind: c.Kind, Key: c.Key, Tags: c.Tags, Value: c.New, ModRevision: math.MaxInt64}
}

func (c change) store() etcdstore.Change { return etcdstore.Change{Key: c.Key, Old: c.Old, New: c.New} }

// verb says what happens to the object.
func (c change) verb() string {
	switch {
	case c.Old == nil:
		return "create"
	case c.New == nil:
		return "delete"
	}
	return "set"
}

// creatable kinds may be created by a set with an exact selector; nodes
// are created by sync only, as conftool creates them from its data.
func creatable(k conftool.Kind) bool { return k != conftool.Node }

// selectObjects returns the objects of objs that sel matches.
func selectObjects(objs []conftool.Object, sel conftool.Selector) []conftool.Object {
	var out []conftool.Object
	for _, o := range objs {
		if sel.Match(o) {
			out = append(out, o)
		}
	}
	return out
}

// noMatch is the error for a selection that matched nothing.
func noMatch(sel conftool.Selector, action string) error {
	k := sel.Kind()
	msg := fmt.Sprintf("no %s object matches %q", k, sel.String())
	switch {
	case action != "set":
	case !creatable(k):
		msg += "; node objects are created by `confctl sync`"
	default:
		msg += fmt.Sprintf("; set creates one only when the selector gives every tag (%s) exactly, e.g. %s",
			strings.Join(k.Tags(), ", "), exampleSelector(k))
	}
	return errors.New(msg)
}

func exampleSelector(k conftool.Kind) string {
	switch k {
	case conftool.Site:
		return "'name=esams'"
	case conftool.AdminState:
		return "'key=geoip/generic-map/esams'"
	case conftool.Route:
		return "'cluster=text,site=esams'"
	}
	return "'cluster=text,app=api'"
}

// planSet applies the assignments to every selected object, or creates
// the one object an exact selector names. Objects the set leaves as they
// are (in canonical form) are not written. Every refusal names its key.
func planSet(l conftool.Layout, objs []conftool.Object, sel conftool.Selector, as []conftool.Assignment) ([]change, error) {
	matched := selectObjects(objs, sel)
	if len(matched) == 0 {
		tags, exact := sel.Exact()
		if !creatable(sel.Kind()) || !exact {
			return nil, noMatch(sel, "set")
		}
		key, err := l.Key(sel.Kind(), tags...)
		if err != nil {
			return nil, fmt.Errorf("cannot create from %q: %w", sel.String(), err)
		}
		matched = []conftool.Object{{Kind: sel.Kind(), Key: key, Tags: tags}}
	}
	var out []change
	var errs []error
	for _, o := range matched {
		c, skip, err := setOne(o, as)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !skip:
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}

// setOne plans one object; o.Value is nil for an object to create.
func setOne(o conftool.Object, as []conftool.Assignment) (c change, unchanged bool, err error) {
	c = change{Kind: o.Kind, Key: o.Key, Tags: o.Tags}
	if o.Value != nil {
		old := o
		c.Old = &old
	}
	c.New, err = conftool.Apply(o.Kind, o.Value, as)
	if err != nil {
		return c, false, conftool.AtKey(o.Key, err)
	}
	if c.Old != nil {
		if cur, err := conftool.Canonical(o.Kind, o.Value); err == nil && bytes.Equal(cur, c.New) {
			return c, true, nil
		}
	}
	return c, false, nil
}

// planDelete deletes every selected object.
func planDelete(objs []conftool.Object, sel conftool.Selector) ([]change, error) {
	matched := selectObjects(objs, sel)
	if len(matched) == 0 {
		return nil, noMatch(sel, "delete")
	}
	out := make([]change, len(matched))
	for i, o := range matched {
		old := o
		out[i] = change{Kind: o.Kind, Key: o.Key, Tags: o.Tags, Old: &old}
	}
	return out, nil
}

// applyChanges returns objs with the changes made, for resolving the
// state a change leads to.
func applyChanges(objs []conftool.Object, changes []change) []conftool.Object {
	byKey := map[string]change{}
	for _, c := range changes {
		byKey[c.Key] = c
	}
	var out []conftool.Object
	for _, o := range objs {
		if c, ok := byKey[o.Key]; ok {
			delete(byKey, o.Key)
			if c.New == nil {
				continue
			}
			o = c.after()
		}
		out = append(out, o)
	}
	for _, c := range changes {
		if _, ok := byKey[c.Key]; ok && c.New != nil {
			out = append(out, c.after())
		}
	}
	return out
}
