package tsdb

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb"
	upstreamenc "github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/chunks"
)

// blockChunkEncodings counts the chunks of the blocks by encoding, parsing
// the segment files on their own (uvarint length, encoding byte, data, CRC)
// so that the check does not trust the reader under test.
func blockChunkEncodings(t *testing.T, dirs []string) map[chunkenc.Encoding]int {
	t.Helper()
	var files []string
	for _, d := range dirs {
		fs, err := filepath.Glob(filepath.Join(d, "chunks", "0*"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	counts := map[chunkenc.Encoding]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for off := chunks.SegmentHeaderSize; off < len(b); {
			n, w := binary.Uvarint(b[off:])
			if w <= 0 {
				t.Fatalf("%s: bad chunk length at %d", f, off)
			}
			counts[chunkenc.Encoding(b[off+w])]++
			off += w + 1 + int(n) + 4
		}
	}
	return counts
}

// blockDirs returns the directories of db's blocks: a compaction may
// still be deleting the ones it replaced.
func blockDirs(db *DB) []string {
	var dirs []string
	for _, m := range db.Blocks() {
		dirs = append(dirs, filepath.Join(db.Dir(), m.ULID))
	}
	return dirs
}

// fillWithStaleMarkers writes 10 h of compatSeries from tenHoursStart and
// a stale marker on each series after it.
func fillWithStaleMarkers(t *testing.T, db *DB) map[string][]sample {
	t.Helper()
	want := fillSeries(t, db, compatSeries, tenHoursStart, 60_000, 600)
	ts := int64(tenHoursStart + 600*60_000)
	stale := math.Float64frombits(value.StaleNaN)
	for _, l := range compatSeries {
		commit(t, db, appendCase{l, ts, stale})
		want[l.String()] = append(want[l.String()], sample{ts, stale})
	}
	return want
}

// With FloatChunkEncoding XOR2, the head's full chunks and the blocks are
// XOR2, and Prometheus reads the directory to the same samples; Argus with
// the default encoding reads it too.
func TestXOR2ChunksReadByUpstream(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, &Options{FloatChunkEncoding: chunkenc.EncXOR2})
	want := fillWithStaleMarkers(t, db)
	for _, l := range compatSeries {
		for _, c := range seriesChunks(t, db, l) {
			enc, _, err := db.chunks.Chunk(c.ref, nil)
			if err != nil {
				t.Fatal(err)
			}
			if chunkenc.Encoding(enc) != chunkenc.EncXOR2 {
				t.Fatalf("head chunk of %s in encoding %d, want XOR2", l, enc)
			}
		}
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := blockChunkEncodings(t, blockDirs(db)); len(got) != 1 || got[chunkenc.EncXOR2] == 0 {
		t.Fatalf("block chunks by encoding: %v, want only XOR2", got)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	assertData(t, want, upstreamOpenQuery(t, dir, upstreamKeepAll()))

	db = openDB(t, dir, nil)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// Prometheus configured for XOR2 writes head chunks and blocks that Argus
// reads, and Argus's compaction rewrites them in its own encoding.
func TestArgusReadsUpstreamXOR2(t *testing.T) {
	dir := t.TempDir()
	opts := tsdb.DefaultOptions()
	opts.FloatChunkEncoding = upstreamenc.EncXOR2
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]sample{}
	for i := range 600 {
		ts := int64(tenHoursStart + i*60_000)
		app := udb.Appender(context.Background())
		for j, l := range compatSeries {
			v := float64(i*(j+1)) / 4
			if i%97 == 96 {
				v = math.Float64frombits(value.StaleNaN)
			}
			if _, err := app.Append(0, l, ts, v); err != nil {
				t.Fatal(err)
			}
			want[l.String()] = append(want[l.String()], sample{ts, v})
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := udb.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := udb.Close(); err != nil {
		t.Fatal(err)
	}
	udirs, err := filepath.Glob(filepath.Join(dir, "01*"))
	if err != nil {
		t.Fatal(err)
	}
	if got := blockChunkEncodings(t, udirs); got[chunkenc.EncXOR2] == 0 {
		t.Fatalf("upstream block chunks by encoding: %v, want XOR2", got)
	}

	db := openDB(t, dir, nil)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	more := fillSeries(t, db, compatSeries, tenHoursStart+600*60_000, 60_000, 200)
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// A reload switches the encoding of the chunks cut from then on; chunks
// in both encodings read back, and compaction writes the new one.
func TestSetFloatChunkEncoding(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	defer db.Close()
	want := fillSeries(t, db, compatSeries, tenHoursStart, 60_000, 300)
	if err := db.SetFloatChunkEncoding(chunkenc.EncXOR2); err != nil {
		t.Fatal(err)
	}
	more := fillSeries(t, db, compatSeries, tenHoursStart+300*60_000, 60_000, 300)
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	encs := map[uint8]int{}
	for _, c := range seriesChunks(t, db, up1) {
		enc, _, err := db.chunks.Chunk(c.ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		encs[enc]++
	}
	if encs[uint8(chunkenc.EncXOR)] == 0 || encs[uint8(chunkenc.EncXOR2)] == 0 {
		t.Fatalf("head chunks by encoding %v, want both XOR and XOR2", encs)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := blockChunkEncodings(t, blockDirs(db)); len(got) != 1 || got[chunkenc.EncXOR2] == 0 {
		t.Fatalf("block chunks by encoding: %v, want only XOR2", got)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.SetFloatChunkEncoding(chunkenc.Encoding(2)); err == nil {
		t.Fatal("SetFloatChunkEncoding(histogram): no error")
	}
}

func TestOpenRejectsNonFloatChunkEncoding(t *testing.T) {
	for _, enc := range []chunkenc.Encoding{2, 3, 5, 200} {
		db, err := Open(t.TempDir(), &Options{FloatChunkEncoding: enc})
		if err == nil {
			db.Close()
			t.Errorf("Open with float chunk encoding %d: no error", enc)
		}
	}
}

// A block cut from the head holds the chunks Prometheus's would: its chunk
// files are byte for byte the same for XOR. For XOR2 they are the same
// except that Prometheus writes zero start timestamps into the samples past
// the 127th of a chunk (series that start mid-range get such chunks), so
// Argus's files are at most as large.
func TestBlockChunksMatchUpstream(t *testing.T) {
	w := newDiskWorkload(4) // one target replaced mid-run
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		t.Run(enc.String(), func(t *testing.T) {
			ours := readChunkFiles(t, w.argusDir(t, enc))
			theirs := readChunkFiles(t, w.upstreamDir(t, upstreamenc.Encoding(enc)))
			switch {
			case enc == chunkenc.EncXOR && ours != theirs:
				t.Fatalf("chunk files differ: %d bytes, upstream %d", len(ours), len(theirs))
			case len(ours) > len(theirs):
				t.Fatalf("chunk files are %d bytes, upstream's %d", len(ours), len(theirs))
			}
		})
	}
}

// readChunkFiles returns the chunk segment files of the one block in dir,
// concatenated.
func readChunkFiles(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "01*", "chunks", "0*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no block chunk files in %s: %v", dir, err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return string(all)
}
