package headchunks

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

type testChunk struct {
	series     uint64
	mint, maxt int64
	enc        uint8
	data       []byte
}

func testChunks(n int) []testChunk {
	cs := make([]testChunk, n)
	for i := range cs {
		cs[i] = testChunk{
			series: uint64(i%7 + 1),
			mint:   int64(i) * 1000,
			maxt:   int64(i)*1000 + 999,
			enc:    []uint8{1, 4}[i%2], // XOR and XOR2
			data:   bytes.Repeat([]byte{byte(i), 0xab}, 20+i%50),
		}
	}
	return cs
}

func writeAll(t *testing.T, m *Mapper, cs []testChunk) []Ref {
	t.Helper()
	refs := make([]Ref, len(cs))
	for i, c := range cs {
		ref, err := m.Write(c.series, c.mint, c.maxt, c.enc, c.data)
		if err != nil {
			t.Fatalf("write chunk %d: %v", i, err)
		}
		refs[i] = ref
	}
	return refs
}

func openMapper(t *testing.T, dir string, opts Options) (*Mapper, []Chunk) {
	t.Helper()
	var got []Chunk
	m, err := Open(dir, opts, func(c Chunk) error {
		c.Data = bytes.Clone(c.Data)
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return m, got
}

func assertScanned(t *testing.T, want []testChunk, refs []Ref, got []Chunk) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("scanned %d chunks, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Ref != refs[i] || g.SeriesRef != w.series || g.MinT != w.mint || g.MaxT != w.maxt ||
			g.Encoding != w.enc || g.OutOfOrder || !bytes.Equal(g.Data, w.data) {
			t.Fatalf("chunk %d: got %+v, want %+v at %s", i, g, w, refs[i])
		}
	}
}

func TestWriteReadReopen(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		{"small files and buffer", Options{MaxFileSize: 1024, WriteBufferSize: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cs := testChunks(100)
			m, _ := openMapper(t, dir, tc.opts)
			refs := writeAll(t, m, cs)
			// Readable at once, buffered or not.
			for i, ref := range refs {
				enc, got, err := m.Chunk(ref, nil)
				if err != nil || enc != cs[i].enc || !bytes.Equal(got, cs[i].data) {
					t.Fatalf("chunk %d at %s: %v, encoding %d want %d, data equal %v", i, ref, err, enc, cs[i].enc, bytes.Equal(got, cs[i].data))
				}
			}
			if tc.opts.MaxFileSize > 0 {
				if n := len(m.Files()); n < 5 {
					t.Fatalf("expected chunks to spread over files, got %d", n)
				}
				for _, seq := range m.Files() {
					fi, _ := os.Stat(fileName(dir, seq))
					if fi != nil && fi.Size() > int64(tc.opts.MaxFileSize) {
						t.Fatalf("file %d is %d bytes, over %d", seq, fi.Size(), tc.opts.MaxFileSize)
					}
				}
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			m, got := openMapper(t, dir, tc.opts)
			assertScanned(t, cs, refs, got)
			// New chunks go to a new file; old ones stay readable.
			before := m.Files()
			more := testChunks(3)
			moreRefs := writeAll(t, m, more)
			if seq, _ := moreRefs[0].Unpack(); seq != before[len(before)-1]+1 {
				t.Fatalf("first write after reopen went to file %d, want %d", seq, before[len(before)-1]+1)
			}
			if _, got, err := m.Chunk(refs[0], nil); err != nil || !bytes.Equal(got, cs[0].data) {
				t.Fatalf("old chunk after reopen: %v", err)
			}
			m.Close()
			_, got = openMapper(t, dir, tc.opts)
			assertScanned(t, append(cs, more...), append(refs, moreRefs...), got)
		})
	}
}

func TestRefLayout(t *testing.T) {
	m, _ := openMapper(t, t.TempDir(), Options{})
	defer m.Close()
	ref, err := m.Write(1, 0, 1, 1, []byte{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if seq, off := ref.Unpack(); seq != 1 || off != HeaderSize || ref != 1<<32|HeaderSize {
		t.Fatalf("first chunk ref %#x: file %d offset %d, want file 1 offset %d", uint64(ref), seq, off, HeaderSize)
	}
	ref2, _ := m.Write(1, 2, 3, 1, []byte{0, 1, 2})
	if _, off := ref2.Unpack(); off != HeaderSize+metaSize+1+3+crcSize {
		t.Fatalf("second chunk at offset %d", off)
	}
}

func TestRepairOnOpen(t *testing.T) {
	const n = 30
	tests := []struct {
		name string
		// damage mutates the files of the directory.
		damage func(t *testing.T, dir string, lastFile []byte) []byte
		keep   int // chunks that survive
		files  int // files that survive
	}{
		{"torn last chunk", func(_ *testing.T, _ string, b []byte) []byte { return b[:len(b)-3] }, n - 1, 3},
		{"bit flip in last chunk", func(_ *testing.T, _ string, b []byte) []byte { b[len(b)-10] ^= 1; return b }, n - 1, 3},
		{"garbage after last chunk", func(_ *testing.T, _ string, b []byte) []byte { return append(b, 1, 2, 3) }, n, 3},
		{"zeros after last chunk", func(_ *testing.T, _ string, b []byte) []byte { return append(b, make([]byte, 4096)...) }, n, 3},
		{"empty last file", func(_ *testing.T, _ string, b []byte) []byte { return nil }, 20, 2},
		{"bad magic in last file", func(_ *testing.T, _ string, b []byte) []byte { b[0] ^= 0xff; return b }, 20, 2},
		{"corrupt middle file", func(t *testing.T, dir string, b []byte) []byte {
			mid, err := os.ReadFile(fileName(dir, 2))
			if err != nil {
				t.Fatal(err)
			}
			mid[len(mid)-1] ^= 1 // checksum of the last chunk of file 2
			os.WriteFile(fileName(dir, 2), mid, 0o666)
			return b
		}, 19, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m, _ := openMapper(t, dir, Options{})
			cs := testChunks(n)
			var refs []Ref
			for i := 0; i < n; i += 10 {
				refs = append(refs, writeAll(t, m, cs[i:i+10])...)
				if err := m.CutFile(); err != nil {
					t.Fatal(err)
				}
			}
			m.Close()
			last := fileName(dir, 3)
			b, err := os.ReadFile(last)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(last, tc.damage(t, dir, b), 0o666); err != nil {
				t.Fatal(err)
			}
			m, got := openMapper(t, dir, Options{})
			assertScanned(t, cs[:tc.keep], refs[:tc.keep], got)
			if files := m.Files(); len(files) != tc.files {
				t.Fatalf("files after repair %v, want %d", files, tc.files)
			}
			// The repaired directory takes writes and reopens clean.
			extra := writeAll(t, m, cs[:1])
			m.Close()
			_, got = openMapper(t, dir, Options{})
			assertScanned(t, append(cs[:tc.keep:tc.keep], cs[0]), append(refs[:tc.keep:tc.keep], extra...), got)
		})
	}
}

func TestChunkBadRefs(t *testing.T) {
	m, _ := openMapper(t, t.TempDir(), Options{})
	defer m.Close()
	ref, _ := m.Write(1, 0, 1, 1, []byte("0123456789"))
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Ref{0, NewRef(1, 3), ref + 1, NewRef(1, 1<<20), NewRef(9, HeaderSize), NewRef(1, 1<<32-1)} {
		if _, _, err := m.Chunk(bad, nil); err == nil {
			t.Errorf("Chunk(%s) gave no error", bad)
		}
	}
	if _, got, err := m.Chunk(ref, []byte("x")); err != nil || string(got) != "x0123456789" {
		t.Fatalf("Chunk appends to dst: %q, %v", got, err)
	}
}

func TestTruncate(t *testing.T) {
	dir := t.TempDir()
	m, _ := openMapper(t, dir, Options{})
	defer m.Close()
	var refs []Ref
	for i := range 4 {
		refs = append(refs, writeAll(t, m, testChunks(2))...)
		if i < 3 {
			m.CutFile()
		}
	}
	if err := m.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if files := fmt.Sprint(m.Files()); files != "[3 4]" {
		t.Fatalf("files after Truncate(3): %s", files)
	}
	if _, _, err := m.Chunk(refs[0], nil); err == nil {
		t.Fatal("chunk of a deleted file still readable")
	}
	if _, _, err := m.Chunk(refs[len(refs)-1], nil); err != nil {
		t.Fatal(err)
	}
	// The file being written is never deleted.
	if err := m.Truncate(100); err != nil {
		t.Fatal(err)
	}
	if files := fmt.Sprint(m.Files()); files != "[4]" {
		t.Fatalf("files after Truncate(100): %s", files)
	}
	if _, err := os.Stat(fileName(dir, 1)); !os.IsNotExist(err) {
		t.Fatalf("file 1 still on disk: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(appendChunk([]byte{0x01, 0x30, 0xbc, 0x91, 1, 0, 0, 0}, 1, 2, 3, 1, []byte{0, 1, 2}))
	f.Add([]byte{0x01, 0x30, 0xbc, 0x91, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(fileName(dir, 1), b, 0o666)
		m, err := Open(dir, Options{}, func(Chunk) error { return nil })
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		m.Close()
		m, err = Open(dir, Options{}, nil)
		if err != nil {
			t.Fatalf("reopen after repair: %v", err)
		}
		m.Close()
	})
}
