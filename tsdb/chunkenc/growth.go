package chunkenc

import "fmt"

// push appends one byte. A gentle writer grows a full buffer by one
// allocator size class: an open head chunk is most of a head series'
// memory, and append's doubling would leave up to half of it unused, where
// stepping through the size classes leaves at most one step (about 12%).
// The extra copies cost little there, since the head sizes a chunk like its
// predecessor and reserves room once a quarter is written; a chunk encoded
// in one go (compaction, remote read) keeps append's doubling.
func (w *bitWriter) push(c byte) {
	if w.gentle && len(w.b) == cap(w.b) {
		if n := nextSizeClass(cap(w.b)); n > 0 {
			b := make([]byte, len(w.b), n)
			copy(b, w.b)
			w.b = b
		}
	}
	w.b = append(w.b, c)
}

// nextSizeClass returns the Go allocator's next size class above c up to
// 1 KiB (past which chunks are cut), or 0 to leave growth to append.
func nextSizeClass(c int) int {
	var step int
	switch {
	case c < 256:
		step = 16
	case c < 512:
		step = 32
	case c < 768:
		step = 64
	case c < 1024:
		step = 128
	default:
		return 0
	}
	return (c/step + 1) * step
}

// NewFloatChunkSized returns an empty chunk in enc (EncXOR or EncXOR2) for
// the head, with room for about size bytes, header included, before its
// buffer grows, and growing gently after that (see push): a series' next
// chunk is usually about as large as its last, and sizing it so saves the
// copies and garbage of growing it one step at a time.
func NewFloatChunkSized(enc Encoding, size int) (*XORChunk, error) {
	hs, err := floatHeaderSize(enc)
	if err != nil {
		return nil, fmt.Errorf("new float chunk: %w", err)
	}
	size = max(size, initialCapacity)
	if n := nextSizeClass(size - 1); n > 0 {
		size = n
	}
	b := make([]byte, hs, size)
	return &XORChunk{w: bitWriter{b: b, gentle: true}, enc: enc}, nil
}

// Reserve grows the buffer, if needed, to hold about n bytes, header
// included, without growing again: the caller predicts the chunk's final
// size once it has seen part of it.
func (c *XORChunk) Reserve(n int) {
	if n <= cap(c.w.b) {
		return
	}
	if s := nextSizeClass(n - 1); s > 0 {
		n = s
	}
	b := make([]byte, len(c.w.b), n)
	copy(b, c.w.b)
	c.w.b = b
}
