package block

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

type sample struct {
	t int64
	v float64
}

type testSeries struct {
	lset    labels.Labels
	samples []sample
}

const (
	baseT    = int64(1_700_000_000_000)
	interval = int64(15_000)
)

// testData returns label-sorted series covering 3h from baseT with a
// realistic mix: counters, gauges with noise, constant series, sparse
// series and a stale marker.
func testData(n, samples int) []testSeries {
	var out []testSeries
	for i := range n {
		lset := labels.FromStrings(
			"__name__", []string{"http_requests_total", "node_cpu_seconds_total", "up", "go_goroutines"}[i%4],
			"instance", fmt.Sprintf("10.0.%d.%d:9100", i%5, i%17),
			"job", []string{"api", "node", "db"}[i%3],
			"series", fmt.Sprint(i),
		)
		var ss []sample
		step := interval
		if i%10 == 9 {
			step *= 8 // sparse
		}
		cnt := 0.0
		for j := range samples {
			t := baseT + int64(j)*step + int64(i%3) // jitter
			if t >= baseT+3*3600_000 {
				break
			}
			var v float64
			switch i % 4 {
			case 0, 1:
				cnt += float64((i*j)%17) + 0.25
				v = cnt
			case 2:
				v = 1
			default:
				v = 100 + math.Sin(float64(j)/10)*20
			}
			if i%13 == 0 && j == samples/2 {
				v = math.Float64frombits(value.StaleNaN)
			}
			ss = append(ss, sample{t, v})
		}
		out = append(out, testSeries{lset, ss})
	}
	slices.SortFunc(out, func(a, b testSeries) int { return labels.Compare(a.lset, b.lset) })
	return out
}

// sliceSource is a SeriesSource over test series, cut into chunks of 120
// samples as the head does, in the encodings of encs in turn (XOR if none).
type sliceSource struct {
	encs   []chunkenc.Encoding
	series []testSeries
	i      int
	chunks []Chunk
}

func newSliceSource(series []testSeries) *sliceSource { return &sliceSource{series: series, i: -1} }

func (s *sliceSource) Next() bool {
	s.i++
	if s.i >= len(s.series) {
		return false
	}
	s.chunks = s.chunks[:0]
	ss := s.series[s.i].samples
	for len(ss) > 0 {
		n := min(len(ss), 120)
		enc := chunkenc.EncXOR
		if len(s.encs) > 0 {
			enc = s.encs[len(s.chunks)%len(s.encs)]
		}
		c, err := chunkenc.NewFloatChunk(enc)
		if err != nil {
			panic(err)
		}
		app, err := c.Appender()
		if err != nil {
			panic(err)
		}
		for _, x := range ss[:n] {
			if err := app.Append(x.t, x.v); err != nil {
				panic(err)
			}
		}
		s.chunks = append(s.chunks, Chunk{MinTime: ss[0].t, MaxTime: ss[n-1].t, Encoding: enc, Data: c.Bytes()})
		ss = ss[n:]
	}
	return true
}

func (s *sliceSource) At() (labels.Labels, []Chunk) { return s.series[s.i].lset, s.chunks }
func (s *sliceSource) Err() error                   { return nil }

func writeTestBlock(t testing.TB, dir string, series []testSeries) string {
	t.Helper()
	id, err := Write(context.Background(), dir, baseT, baseT+3*3600_000, newSliceSource(series), nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// readAll returns every series and its samples selected by ms.
func readAll(t testing.TB, q storage.Querier, ms ...*labels.Matcher) map[string][]sample {
	t.Helper()
	if len(ms) == 0 {
		ms = []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}
	}
	set := q.Select(context.Background(), true, nil, ms...)
	got := map[string][]sample{}
	var it storage.Iterator
	var prev labels.Labels
	for set.Next() {
		s := set.At()
		if !prev.IsEmpty() && labels.Compare(prev, s.Labels()) >= 0 {
			t.Fatalf("series out of order: %s after %s", s.Labels(), prev)
		}
		prev = s.Labels()
		it = s.Iterator(it)
		key := s.Labels().String()
		got[key] = []sample{}
		for it.Next() == storage.ValFloat {
			ts, v := it.At()
			got[key] = append(got[key], sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func wantData(series []testSeries, keep func(labels.Labels) bool, mint, maxt int64) map[string][]sample {
	want := map[string][]sample{}
	for _, s := range series {
		if keep != nil && !keep(s.lset) {
			continue
		}
		var ss []sample
		for _, x := range s.samples {
			if x.t >= mint && x.t <= maxt {
				ss = append(ss, x)
			}
		}
		if len(ss) > 0 {
			want[s.lset.String()] = ss
		}
	}
	return want
}

func assertData(t testing.TB, want, got map[string][]sample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d series, want %d", len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("series %s missing", k)
		}
		if len(g) != len(w) {
			t.Fatalf("series %s: got %d samples, want %d", k, len(g), len(w))
		}
		for i := range w {
			if g[i].t != w[i].t || math.Float64bits(g[i].v) != math.Float64bits(w[i].v) {
				t.Fatalf("series %s sample %d: got %v, want %v", k, i, g[i], w[i])
			}
		}
	}
}
