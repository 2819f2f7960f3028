package chunks

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func writeChunks(t testing.TB, dir string, segSize int64, datas [][]byte) []Ref {
	t.Helper()
	w, err := NewWriter(dir, segSize)
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]Ref, len(datas))
	for i, d := range datas {
		if refs[i], err = w.WriteChunk(1, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestRoundTrip(t *testing.T) {
	var datas [][]byte
	for i := range 200 {
		datas = append(datas, bytes.Repeat([]byte{byte(i)}, 1+i%150))
	}
	for _, tc := range []struct {
		name     string
		segSize  int64
		segments int
	}{
		{"one segment", 0, 1},
		{"cut every few KiB", 4096, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			refs := writeChunks(t, dir, tc.segSize, datas)
			files, _ := os.ReadDir(dir)
			if len(files) < tc.segments {
				t.Fatalf("got %d segment files, want at least %d", len(files), tc.segments)
			}
			if files[0].Name() != "000001" {
				t.Fatalf("first segment named %q, want 000001", files[0].Name())
			}
			r, err := OpenDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i, ref := range refs {
				enc, data, err := r.Chunk(ref)
				if err != nil {
					t.Fatalf("chunk %d (%s): %v", i, ref, err)
				}
				if enc != 1 || !bytes.Equal(data, datas[i]) {
					t.Fatalf("chunk %d: got enc %d data %x, want %x", i, enc, data, datas[i])
				}
			}
		})
	}
}

func TestCorruptRefsAreErrors(t *testing.T) {
	dir := t.TempDir()
	refs := writeChunks(t, dir, 0, [][]byte{[]byte("hello"), []byte("world")})
	r, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, ref := range []Ref{
		NewRef(1, 8),           // no such segment
		NewRef(0, 0),           // inside the header
		NewRef(0, 1<<20),       // past the end
		refs[1] + 1,            // misaligned: length field reads data
		NewRef(0, 8+5+1+4+1+4), // last byte
	} {
		if _, _, err := r.Chunk(ref); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ref %s: got %v, want ErrCorrupt", ref, err)
		}
	}

	// A flipped data bit fails the checksum.
	seg := filepath.Join(dir, "000001")
	b, _ := os.ReadFile(seg)
	b[len(b)-6] ^= 1
	r2, err := NewReader(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r2.Chunk(refs[1]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped bit: got %v, want ErrCorrupt", err)
	}
}

func TestBadSegmentHeader(t *testing.T) {
	for name, b := range map[string][]byte{
		"short":       {0x85, 0xBD},
		"bad magic":   {1, 2, 3, 4, 1, 0, 0, 0},
		"bad version": {0x85, 0xBD, 0x40, 0xDD, 2, 0, 0, 0},
	} {
		if _, err := NewReader(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzReader(f *testing.F) {
	dir := f.TempDir()
	writeChunks(f, dir, 0, [][]byte{[]byte("abc"), bytes.Repeat([]byte{7}, 300)})
	seed, _ := os.ReadFile(filepath.Join(dir, "000001"))
	f.Add(seed, uint64(8))
	f.Add(seed, uint64(17))
	f.Fuzz(func(t *testing.T, b []byte, ref uint64) {
		r, err := NewReader(b)
		if err != nil {
			return
		}
		_, _, _ = r.Chunk(Ref(ref))
		for off := range uint32(min(len(b), 512)) {
			_, _, _ = r.Chunk(NewRef(0, off))
		}
	})
}

func ExampleRef() {
	fmt.Println(NewRef(2, 1234))
	// Output: 2:1234
}
