package index

import (
	"slices"
	"testing"

	"github.com/argusmon/argus/storage"
)

func list(v ...storage.SeriesRef) Postings { return NewListPostings(v) }

func TestPostingsCombinators(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    func() Postings
		want []storage.SeriesRef
	}{
		{"intersect", func() Postings { return Intersect(list(1, 2, 3, 5, 8), list(2, 3, 4, 8, 9), list(0, 2, 8)) }, []storage.SeriesRef{2, 8}},
		{"intersect disjoint", func() Postings { return Intersect(list(1, 3), list(2, 4)) }, nil},
		{"intersect with empty", func() Postings { return Intersect(list(1, 3), EmptyPostings()) }, nil},
		{"merge", func() Postings { return Merge(list(1, 4, 9), list(2, 4, 10), list(), list(0)) }, []storage.SeriesRef{0, 1, 2, 4, 9, 10}},
		{"merge none", func() Postings { return Merge() }, nil},
		{"without", func() Postings { return Without(list(1, 2, 3, 4, 5), list(0, 2, 4, 6)) }, []storage.SeriesRef{1, 3, 5}},
		{"without all", func() Postings { return Without(list(1, 2), list(1, 2)) }, nil},
		{"without nothing", func() Postings { return Without(list(1, 2), EmptyPostings()) }, []storage.SeriesRef{1, 2}},
		{"nested", func() Postings {
			return Without(Merge(Intersect(list(1, 2, 3, 4), list(2, 4)), list(7)), list(4))
		}, []storage.SeriesRef{2, 7}},
		{"big endian", func() Postings { return newBigEndianPostings([]byte{0, 0, 0, 3, 0, 0, 1, 0}) }, []storage.SeriesRef{3, 256}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandPostings(tc.p())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			// SeekTo to each expected element, from a fresh iterator, lands on it.
			for _, v := range tc.want {
				p := tc.p()
				if !p.SeekTo(v) || p.At() != v {
					t.Fatalf("SeekTo(%d) failed", v)
				}
				// Seeking backwards stays.
				if !p.SeekTo(0) || p.At() != v {
					t.Fatalf("SeekTo(0) after %d moved to %d", v, p.At())
				}
			}
			// Seeking past the end ends the iteration.
			if p := tc.p(); p.SeekTo(1000) {
				t.Fatalf("SeekTo(1000) found %d", p.At())
			}
		})
	}
}

func TestSeekThenNext(t *testing.T) {
	for name, mk := range map[string]func() Postings{
		"list":      func() Postings { return list(1, 3, 5, 7, 9) },
		"merge":     func() Postings { return Merge(list(1, 5, 9), list(3, 7)) },
		"intersect": func() Postings { return Intersect(list(1, 3, 5, 7, 9), list(0, 1, 3, 5, 7, 9)) },
		"without":   func() Postings { return Without(list(1, 2, 3, 5, 7, 9), list(2)) },
	} {
		p := mk()
		if !p.SeekTo(4) || p.At() != 5 {
			t.Fatalf("%s: SeekTo(4) = %d", name, p.At())
		}
		rest, _ := ExpandPostings(p)
		if !slices.Equal(rest, []storage.SeriesRef{7, 9}) {
			t.Fatalf("%s: after seek got %v", name, rest)
		}
	}
}
