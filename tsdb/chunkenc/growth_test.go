package chunkenc

import "testing"

// A head chunk filled sample by sample keeps its buffer within one
// allocator size class of its length, where doubling could leave half of it
// unused.
func TestChunkBufferGrowsBySizeClass(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value func(i int) float64
	}{
		{"constant", func(int) float64 { return 1 }},
		{"varying", func(i int) float64 { return float64(i * 7919 % 1000) }},
		{"random bits", func(i int) float64 { return float64(uint64(i)*0x9e3779b97f4a7c15) / 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewFloatChunkSized(EncXOR, 0)
			if err != nil {
				t.Fatal(err)
			}
			app, err := c.Appender()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 120 {
				if err := app.Append(int64(i)*15_000, tc.value(i)); err != nil {
					t.Fatal(err)
				}
				n, capacity := len(c.Bytes()), cap(c.Bytes())
				if capacity > initialCapacity && capacity > n+n/6+16 {
					t.Fatalf("after %d samples: %d bytes in a buffer of %d", i+1, n, capacity)
				}
			}
		})
	}
}

// Reserving room keeps the chunk's content and lets it fill that room
// without moving.
func TestChunkReserve(t *testing.T) {
	c := NewXORChunk()
	app, err := c.Appender()
	if err != nil {
		t.Fatal(err)
	}
	_ = app.Append(1000, 1.5)
	before := append([]byte(nil), c.Bytes()...)
	c.Reserve(600)
	if got := c.Bytes(); string(got) != string(before) || cap(got) < 600 || cap(got) > 640 {
		t.Fatalf("after Reserve(600): % x with capacity %d, want % x with 600 to 640", got, cap(got), before)
	}
	first := &c.Bytes()[0]
	for i := range 150 {
		_ = app.Append(int64(2000+i*1000), float64(i)*1.25)
	}
	if n := len(c.Bytes()); n > 600 {
		t.Fatalf("test needs under 600 bytes of samples, wrote %d", n)
	}
	if &c.Bytes()[0] != first {
		t.Fatal("buffer moved within the reserved room")
	}
	var it XORIterator
	it.Reset(EncXOR, c.Bytes())
	n := 0
	for it.Next() {
		n++
	}
	if n != 151 || it.Err() != nil {
		t.Fatalf("read back %d samples (err %v), want 151", n, it.Err())
	}
}
