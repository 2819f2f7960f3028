package tsdb

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// Selections with each matcher type see exactly the series left after
// head GC removed some, including values whose postings went from several
// series to one and from one to none.
func TestPostingsMatchersAfterGC(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	var all []labels.Labels
	for i := range 12 {
		b := labels.NewBuilder(labels.FromStrings(
			"__name__", fmt.Sprintf("m%d", i%3),
			"id", fmt.Sprint(i), // one series per value
			"job", fmt.Sprintf("j%d", i%4),
		))
		b.Set("zone", []string{"a", "b", ""}[i%3]) // "" leaves the label out
		all = append(all, b.Labels())
	}
	// Even series stop before the truncation point and are collected.
	const cut = 100 * 15_000
	live := map[string]bool{}
	for i, l := range all {
		n := 200
		if i%2 == 0 {
			n = 50
		} else {
			live[l.String()] = true
		}
		fillSeries(t, db, []labels.Labels{l}, 0, 15_000, n)
	}
	if err := db.truncateHead(cut); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		ms   []*labels.Matcher
	}{
		{"equal", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "j1")}},
		{"equal, collected value", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "j0")}},
		{"equal, single series value", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "id", "3")}},
		{"equal, collected single series value", []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "id", "4")}},
		{"not equal", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "zone", "a")}},
		{"not equal empty", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "zone", "")}},
		{"regexp set", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "id", "1|2|3|5")}},
		{"regexp", []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "job", "j[13]")}},
		{"not regexp", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotRegexp, "id", "1.*")}},
		{"mixed", []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchRegexp, "__name__", "m.*"),
			labels.MustNewMatcher(labels.MatchNotEqual, "job", "j3"),
			labels.MustNewMatcher(labels.MatchNotRegexp, "zone", "b"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, l := range all {
				if live[l.String()] && matchesAll(tc.ms, l) {
					want = append(want, l.String())
				}
			}
			got := keys(query(t, db, math.MinInt64, math.MaxInt64, tc.ms...))
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}

	// The collected values are gone from the label values too.
	if got, want := db.postings.labelValues("job"), []string{"j1", "j3"}; !slices.Equal(got, want) {
		t.Fatalf("job values %v, want %v", got, want)
	}
}

func matchesAll(ms []*labels.Matcher, l labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

// A value's postings move between one inline reference and a list as
// series come and go, and always read back sorted.
func TestValuePostingsSingleAndList(t *testing.T) {
	vp := newValuePostings()
	refsOf := func(v string) []storage.SeriesRef { return vp.appendRefs(nil, v) }
	gone := func(rs ...storage.SeriesRef) func(storage.SeriesRef) bool {
		return func(r storage.SeriesRef) bool { return slices.Contains(rs, r) }
	}
	steps := []struct {
		do   func()
		want []storage.SeriesRef
	}{
		{func() { vp.add("v", 7) }, []storage.SeriesRef{7}},
		{func() { vp.add("v", 3) }, []storage.SeriesRef{3, 7}},
		{func() { vp.add("v", 9) }, []storage.SeriesRef{3, 7, 9}},
		{func() { vp.deleteFunc("v", gone(3, 9)) }, []storage.SeriesRef{7}},
		{func() { vp.add("v", 8) }, []storage.SeriesRef{7, 8}},
		{func() { vp.deleteFunc("v", gone(7, 8)) }, nil},
		{func() { vp.add("v", 2) }, []storage.SeriesRef{2}},
	}
	for i, s := range steps {
		s.do()
		if got := refsOf("v"); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: got %v, want %v", i, got, s.want)
		}
	}
	// Lists freed on the way are reused rather than piling up.
	vp.add("w", 1)
	vp.add("w", 2)
	if len(vp.lists) != 1 {
		t.Fatalf("%d lists allocated for one multi-series value", len(vp.lists))
	}
}

// The reference index finds what was set, forgets what was removed, walks
// in reference order and frees a page once it is empty.
func TestRefIndex(t *testing.T) {
	var x refIndex
	refs := []storage.SeriesRef{1, 2, refPageSize + 5, 3*refPageSize + 1}
	for _, r := range refs {
		x.set(&memSeries{ref: r})
	}
	for _, r := range refs {
		if s := x.get(r); s == nil || s.ref != r {
			t.Fatalf("get(%d) = %v", r, s)
		}
	}
	for _, r := range []storage.SeriesRef{0, 4, 2 * refPageSize, 100 * refPageSize} {
		if s := x.get(r); s != nil {
			t.Fatalf("get(%d) found %d", r, s.ref)
		}
	}
	x.remove(refPageSize + 5)
	x.remove(refPageSize + 5) // twice is harmless
	x.remove(2)
	var walked []storage.SeriesRef
	x.each(func(s *memSeries) bool { walked = append(walked, s.ref); return true })
	if want := []storage.SeriesRef{1, 3*refPageSize + 1}; !slices.Equal(walked, want) {
		t.Fatalf("walked %v, want %v", walked, want)
	}
	if (*x.dir.Load())[1] != nil {
		t.Fatal("empty page not freed")
	}
}
