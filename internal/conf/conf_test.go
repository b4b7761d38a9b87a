package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Pos: At("a.yaml", 3), Key: "listen", Reason: "bad"}, "a.yaml:3: listen: bad"},
		{Error{Pos: At("a.yaml", 3), Reason: "bad"}, "a.yaml:3: bad"},
		{Error{Pos: Pos{File: "/conftool/v1/x"}, Key: "weight", Reason: "bad"}, "/conftool/v1/x: weight: bad"},
		{Error{Key: "route_table.ulsfo", Reason: "bad"}, "route_table.ulsfo: bad"},
		{Error{Pos: Pos{Line: 4}, Reason: "bad"}, "line 4: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestListSortsByFileOrderThenLine(t *testing.T) {
	var l List
	l.Addf(At("b.yaml", 9), "x", "b9")
	l.Addf(At("a.yaml", 5), "", "a5")
	l.Addf(At("b.yaml", 2), "", "b2")
	l.Addf(Pos{File: "b.yaml", Line: 2, Col: 1}, "", "b2c1")
	l.Addf(At("a.yaml", 1), "", "a1")
	want := "b.yaml:2: b2\nb.yaml:2: b2c1\nb.yaml:9: x: b9\na.yaml:1: a1\na.yaml:5: a5"
	if got := l.Err().Error(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestListEmptyIsNil(t *testing.T) {
	var l List
	if err := l.Err(); err != nil {
		t.Fatalf("empty list: %v", err)
	}
}

func TestAppendFlattensAndWraps(t *testing.T) {
	var inner List
	inner.Addf(At("n.txt", 2), "", "two")
	inner.Addf(At("n.txt", 1), "", "one")
	var l List
	l.Append(Pos{}, inner.Err())
	l.Append(At("c.yaml", 7), fmt.Errorf("open: %w", fs.ErrNotExist))
	l.Append(Pos{}, nil)
	if l.Len() != 3 {
		t.Fatalf("len %d, want 3", l.Len())
	}
	err := l.Err()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is lost the wrapped cause: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Pos.File != "n.txt" {
		t.Errorf("errors.As: %+v", e)
	}
}
