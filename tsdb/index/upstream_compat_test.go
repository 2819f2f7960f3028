// Upstream tsdb/index is imported only here: it is the reference the file
// format must match.

package index

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	upstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunks"
	upindex "github.com/prometheus/prometheus/tsdb/index"

	"github.com/argusmon/argus/storage"
)

func TestUpstreamReadsArgusIndex(t *testing.T) {
	series := testData(300)
	name := filepath.Join(t.TempDir(), "index")
	refs := writeIndex(t, name, series)

	r, err := upindex.NewFileReader(name, upindex.DecodePostingsRaw)
	if err != nil {
		t.Fatalf("upstream open: %v", err)
	}
	defer r.Close()
	ctx := context.Background()
	var b labels.ScratchBuilder
	var chks []chunks.Meta
	for i, s := range series {
		if err := r.Series(storage2up(refs[i]), &b, &chks); err != nil {
			t.Fatal(err)
		}
		if !labels.Equal(b.Labels(), s.lset) || len(chks) != len(s.chunks) {
			t.Fatalf("series %d: upstream read %s with %d chunks, want %s with %d", i, b.Labels(), len(chks), s.lset, len(s.chunks))
		}
		for j, c := range chks {
			if w := s.chunks[j]; uint64(c.Ref) != w.Ref || c.MinTime != w.MinTime || c.MaxTime != w.MaxTime {
				t.Fatalf("series %d chunk %d: upstream %+v, want %+v", i, j, c, w)
			}
		}
	}
	names, err := r.LabelNames(ctx)
	if err != nil || !slices.Equal(names, []string{"__name__", "instance", "job", "series"}) {
		t.Fatalf("upstream label names: %v %v", names, err)
	}
	p, err := r.Postings(ctx, "job", "api")
	if err != nil {
		t.Fatal(err)
	}
	got, err := upindex.ExpandPostings(p)
	if err != nil {
		t.Fatal(err)
	}
	var want []uint64
	for i, s := range series {
		if s.lset.Get("job") == "api" {
			want = append(want, uint64(refs[i]))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("upstream postings job=api: %d refs, want %d", len(got), len(want))
	}
	for i := range got {
		if uint64(got[i]) != want[i] {
			t.Fatalf("upstream postings differ at %d", i)
		}
	}
}

func TestArgusReadsUpstreamIndex(t *testing.T) {
	series := testData(300)
	name := filepath.Join(t.TempDir(), "index")
	w, err := upindex.NewWriter(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range symbolsOf(series) {
		if err := w.AddSymbol(s); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range series {
		var metas []chunks.Meta
		for _, c := range s.chunks {
			metas = append(metas, chunks.Meta{Ref: chunks.ChunkRef(c.Ref), MinTime: c.MinTime, MaxTime: c.MaxTime})
		}
		if err := w.AddSeries(storage2up(storage.SeriesRef(i)), s.lset, metas...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := OpenFile(name)
	if err != nil {
		t.Fatalf("open upstream index: %v", err)
	}
	defer r.Close()
	all, err := r.AllPostings()
	if err != nil {
		t.Fatal(err)
	}
	refs, err := ExpandPostings(all)
	if err != nil || len(refs) != len(series) {
		t.Fatalf("all postings: %d refs, %v", len(refs), err)
	}
	var b labels.ScratchBuilder
	var chks []ChunkMeta
	for i, ref := range refs {
		lset, err := r.Series(ref, &b, &chks)
		if err != nil {
			t.Fatal(err)
		}
		if !labels.Equal(lset, series[i].lset) || (len(chks) > 0 || len(series[i].chunks) > 0) && !reflect.DeepEqual(chks, series[i].chunks) {
			t.Fatalf("series %d: got %s %v, want %s %v", i, lset, chks, series[i].lset, series[i].chunks)
		}
	}
	if got := r.LabelValues("job"); !slices.Equal(got, []string{"api", "db", "node"}) {
		t.Fatalf("job values: %v", got)
	}
}

func storage2up(r storage.SeriesRef) upstorage.SeriesRef { return upstorage.SeriesRef(r) }
