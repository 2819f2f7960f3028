package tsdb

import (
	"testing"
	"unsafe"
)

// A series costs one 192-byte allocation besides its samples, labels and
// index entries: growing memSeries past it costs every active series a
// larger size class.
func TestMemSeriesSize(t *testing.T) {
	if n := unsafe.Sizeof(memSeries{}); n > 192 {
		t.Fatalf("memSeries is %d bytes, more than the 192-byte size class", n)
	}
}
