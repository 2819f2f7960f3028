package tsdb

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/headchunks"
)

// mmGroup is where the chunks of one series found in chunks_head lie in
// mmChunks.sorted. It holds no pointer, so that a million of them cost the
// garbage collector nothing.
type mmGroup struct{ lo, hi int32 }

// mmChunks collects the chunks found in chunks_head and indexes them by
// series without an allocation per series: scanning appends to two flat
// slices and index groups them with a counting sort. The newest timestamp
// of every series on disk is then known before the WAL is read, so that
// the WAL reader drops the samples already in chunks rather than handing
// them to the replay workers. Once the WAL is replayed, verify reads the
// last chunk of the series that got no newer sample, for its newest value:
// after a restart, most series have newer samples in the WAL.
type mmChunks struct {
	refs   []storage.SeriesRef // series of chunks[i], in file order
	chunks []headChunk
	maxRef storage.SeriesRef

	sorted []headChunk // chunks grouped by series, file order within one
	groups []mmGroup   // by increasing reference
	// dense (reference to group index + 1) indexes the groups when
	// references are dense enough, sparse otherwise.
	dense  []int32
	sparse map[storage.SeriesRef]int32
	taken  int

	skipped int // chunks left out: unsupported or inconsistent
}

// add collects a chunk found in chunks_head. Out-of-order chunks and other
// encodings (Prometheus's histograms) are skipped: Argus recovers
// out-of-order samples from the WBL.
func (m *mmChunks) add(c headchunks.Chunk) error {
	if c.OutOfOrder || !chunkenc.Encoding(c.Encoding).IsFloat() {
		m.skipped++
		return nil
	}
	ref := storage.SeriesRef(c.SeriesRef)
	m.refs = append(m.refs, ref)
	m.chunks = append(m.chunks, headChunk{minT: c.MinT, maxT: c.MaxT, ref: c.Ref})
	m.maxRef = max(m.maxRef, ref)
	return nil
}

// index groups the chunks by series, dropping those that do not start
// after the previous chunk of their series ends.
func (m *mmChunks) index() {
	n := len(m.chunks)
	if n == 0 {
		return
	}
	order := make([]int32, n)
	if m.maxRef < maxDenseRef && int(m.maxRef) <= 4*n+1024 {
		// Counting sort: stable and linear.
		m.dense = make([]int32, m.maxRef+2)
		for _, r := range m.refs {
			m.dense[r+1]++
		}
		for i := 1; i < len(m.dense); i++ {
			m.dense[i] += m.dense[i-1]
		}
		for i, r := range m.refs {
			order[m.dense[r]] = int32(i)
			m.dense[r]++
		}
		clear(m.dense)
	} else {
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(m.refs[a], m.refs[b]) })
		m.sparse = map[storage.SeriesRef]int32{}
	}
	m.sorted = make([]headChunk, 0, n)
	for i := 0; i < n; {
		ref := m.refs[order[i]]
		lo := len(m.sorted)
		for ; i < n && m.refs[order[i]] == ref; i++ {
			c := m.chunks[order[i]]
			if len(m.sorted) > lo && c.minT <= m.sorted[len(m.sorted)-1].maxT {
				m.skipped++
				continue
			}
			m.sorted = append(m.sorted, c)
		}
		m.groups = append(m.groups, mmGroup{lo: int32(lo), hi: int32(len(m.sorted))})
		if m.dense != nil {
			m.dense[ref] = int32(len(m.groups))
		} else {
			m.sparse[ref] = int32(len(m.groups))
		}
	}
	m.refs, m.chunks = nil, nil
}

// unreadable is a series of verify's list whose last chunk cannot be read.
type unreadable struct {
	i   int // index in the list
	err error
}

// verify reads, on every core, the last chunk of every series listed that
// has nothing newer, for the value of its newest sample, and reports
// which of them cannot be read.
func (m *mmChunks) verify(mp *headchunks.Mapper, list []attachedSeries) []unreadable {
	var need []int
	for i, a := range list {
		if a.s.lastT == m.sorted[m.groups[a.group].hi-1].maxT {
			need = append(need, i)
		}
	}
	workers := min(max(runtime.GOMAXPROCS(0), 1), len(need)/256+1)
	badBy := make([][]unreadable, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(need)/workers, (w+1)*len(need)/workers
		wg.Go(func() {
			var buf []byte
			var it chunkenc.XORIterator
			for _, i := range need[lo:hi] {
				a := list[i]
				var err error
				if a.s.lastV, buf, err = lastSample(mp, m.sorted[m.groups[a.group].hi-1], buf, &it); err != nil {
					badBy[w] = append(badBy[w], unreadable{i, err})
				}
			}
		})
	}
	wg.Wait()
	var bad []unreadable
	for _, b := range badBy {
		bad = append(bad, b...)
	}
	return bad
}

// lastSample returns the value of the newest sample of chunk c, checking
// that it is at c.maxT.
func lastSample(mp *headchunks.Mapper, c headChunk, buf []byte, it *chunkenc.XORIterator) (float64, []byte, error) {
	enc, buf, err := mp.Chunk(c.ref, buf[:0])
	if err != nil {
		return 0, buf, err
	}
	it.Reset(chunkenc.Encoding(enc), buf)
	t, v := int64(math.MinInt64), 0.0
	for it.Next() {
		t, v = it.At()
	}
	if err := it.Err(); err != nil {
		return 0, buf, err
	}
	if t != c.maxT {
		return 0, buf, fmt.Errorf("last sample at %d, chunk says %d", t, c.maxT)
	}
	return v, buf, nil
}

// take returns the chunks of series ref and the index of their group, at
// most once. The list has no spare capacity, so that appending to it
// copies it out of the shared array.
func (m *mmChunks) take(ref storage.SeriesRef) (list []headChunk, group int) {
	var gi int32
	switch {
	case m.dense != nil:
		if int(ref) < len(m.dense) {
			gi, m.dense[ref] = m.dense[ref], 0
		}
	case m.sparse != nil:
		gi = m.sparse[ref]
		delete(m.sparse, ref)
	}
	if gi == 0 {
		return nil, -1
	}
	m.taken++
	g := m.groups[gi-1]
	return m.sorted[g.lo:g.hi:g.hi], int(gi - 1)
}

// left counts the series whose chunks no series of the WAL took.
func (m *mmChunks) left() int { return len(m.groups) - m.taken }
