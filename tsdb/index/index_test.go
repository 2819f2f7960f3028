package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

type testSeries struct {
	lset   labels.Labels
	chunks []ChunkMeta
}

// testData returns label-sorted series with a realistic label mix.
func testData(n int) []testSeries {
	var out []testSeries
	ref := uint64(8)
	for i := range n {
		lset := labels.FromStrings(
			"__name__", fmt.Sprintf("metric_%d", i%7),
			"instance", fmt.Sprintf("host-%03d:9100", i%23),
			"job", []string{"node", "api", "db"}[i%3],
			"series", fmt.Sprint(i),
		)
		var chks []ChunkMeta
		for c := range i % 4 {
			mint := int64(1_000_000 + c*7_200_000 + i)
			chks = append(chks, ChunkMeta{Ref: ref, MinTime: mint, MaxTime: mint + 1_799_985})
			ref += uint64(100 + i%50)
		}
		out = append(out, testSeries{lset, chks})
	}
	slices.SortFunc(out, func(a, b testSeries) int { return labels.Compare(a.lset, b.lset) })
	// Chunk refs must grow with series order.
	ref = 8
	for i := range out {
		for j := range out[i].chunks {
			out[i].chunks[j].Ref = ref
			ref += 137
		}
	}
	return out
}

func symbolsOf(series []testSeries) []string {
	set := map[string]struct{}{}
	for _, s := range series {
		s.lset.Range(func(l labels.Label) {
			set[l.Name] = struct{}{}
			set[l.Value] = struct{}{}
		})
	}
	var out []string
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func writeIndex(t testing.TB, name string, series []testSeries) []storage.SeriesRef {
	t.Helper()
	w, err := NewWriter(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range symbolsOf(series) {
		if err := w.AddSymbol(s); err != nil {
			t.Fatal(err)
		}
	}
	var refs []storage.SeriesRef
	for _, s := range series {
		ref, err := w.AddSeries(s.lset, s.chunks...)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 500} {
		t.Run(fmt.Sprint(n, " series"), func(t *testing.T) {
			series := testData(n)
			name := filepath.Join(t.TempDir(), "index")
			refs := writeIndex(t, name, series)
			r, err := OpenFile(name)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()

			syms, err := r.Symbols()
			if err != nil {
				t.Fatal(err)
			}
			if want := symbolsOf(series); !slices.Equal(syms, want) && !(len(syms) == 0 && len(want) == 0) {
				t.Fatalf("symbols: got %d, want %d", len(syms), len(want))
			}
			var b labels.ScratchBuilder
			var chks []ChunkMeta
			for i, s := range series {
				lset, err := r.Series(refs[i], &b, &chks)
				if err != nil {
					t.Fatal(err)
				}
				if !labels.Equal(lset, s.lset) || !(len(chks) == 0 && len(s.chunks) == 0) && !reflect.DeepEqual(chks, s.chunks) {
					t.Fatalf("series %d: got %s %v, want %s %v", i, lset, chks, s.lset, s.chunks)
				}
			}
			all, err := r.AllPostings()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ExpandPostings(all)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(refs) || len(refs) > 0 && !slices.Equal(got, refs) {
				t.Fatalf("all postings: got %v, want %v", got, refs)
			}
			if n < 3 {
				return
			}
			if got := r.LabelNames(); !slices.Equal(got, []string{"__name__", "instance", "job", "series"}) {
				t.Fatalf("label names: %v", got)
			}
			if got := r.LabelValues("job"); !slices.Equal(got, []string{"api", "db", "node"}) {
				t.Fatalf("job values: %v", got)
			}
			// Postings for two values are the union of the matching series.
			p, err := r.Postings("job", "db", "api", "nope")
			if err != nil {
				t.Fatal(err)
			}
			got, _ = ExpandPostings(p)
			var want []storage.SeriesRef
			for i, s := range series {
				if j := s.lset.Get("job"); j == "db" || j == "api" {
					want = append(want, refs[i])
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("postings job=~db|api: got %d refs, want %d", len(got), len(want))
			}
		})
	}
}

func TestWriterRejectsMisuse(t *testing.T) {
	dir := t.TempDir()
	a, b := labels.FromStrings("a", "1"), labels.FromStrings("a", "2")
	for _, tc := range []struct {
		name string
		do   func(w *Writer) error
	}{
		{"unsorted symbols", func(w *Writer) error {
			_ = w.AddSymbol("b")
			return w.AddSymbol("a")
		}},
		{"unsorted series", func(w *Writer) error {
			for _, s := range []string{"1", "2", "a"} {
				_ = w.AddSymbol(s)
			}
			_, _ = w.AddSeries(b)
			_, err := w.AddSeries(a)
			return err
		}},
		{"missing symbol", func(w *Writer) error {
			_, err := w.AddSeries(a)
			return err
		}},
		{"overlapping chunks", func(w *Writer) error {
			_ = w.AddSymbol("1")
			_ = w.AddSymbol("a")
			_, err := w.AddSeries(a, ChunkMeta{Ref: 8, MinTime: 0, MaxTime: 10}, ChunkMeta{Ref: 20, MinTime: 10, MaxTime: 20})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(context.Background(), filepath.Join(dir, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if err := tc.do(w); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestCorruptIndexIsError(t *testing.T) {
	name := filepath.Join(t.TempDir(), "index")
	refs := writeIndex(t, name, testData(50))
	good, _ := os.ReadFile(name)
	for _, off := range []int{0, 4, 10, 40, len(good) / 2, len(good) - 60, len(good) - 10} {
		b := slices.Clone(good)
		b[off] ^= 0x40
		r, err := NewReader(b)
		if err != nil {
			continue
		}
		// Sections checked lazily fail on use.
		var sb labels.ScratchBuilder
		var chks []ChunkMeta
		for _, ref := range refs {
			_, _ = r.Series(ref, &sb, &chks)
		}
	}
	r, err := NewReader(good)
	if err != nil {
		t.Fatal(err)
	}
	var sb labels.ScratchBuilder
	var chks []ChunkMeta
	for _, ref := range []storage.SeriesRef{0, refs[len(refs)-1] + 1, 1 << 40} {
		if _, err := r.Series(ref, &sb, &chks); !errors.Is(err, ErrCorrupt) {
			t.Errorf("series %d: got %v, want ErrCorrupt", ref, err)
		}
	}
	if _, err := NewReader(good[:len(good)-1]); err == nil {
		t.Error("truncated index opened without error")
	}
}

func FuzzReader(f *testing.F) {
	name := filepath.Join(f.TempDir(), "index")
	writeIndex(f, name, testData(10))
	seed, _ := os.ReadFile(name)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(b)
		if err != nil {
			return
		}
		_, _ = r.Symbols()
		var sb labels.ScratchBuilder
		var chks []ChunkMeta
		for _, name := range append(r.LabelNames(), "") {
			values := r.LabelValues(name)
			if name == "" {
				values = []string{""}
			}
			p, err := r.Postings(name, values...)
			if err != nil {
				continue
			}
			for p.Next() {
				_, _ = r.Series(p.At(), &sb, &chks)
			}
		}
		for ref := range storage.SeriesRef(len(b)/16 + 2) {
			_, _ = r.Series(ref, &sb, &chks)
		}
	})
}
