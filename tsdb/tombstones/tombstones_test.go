package tombstones

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/argusmon/argus/storage"
)

func TestIntervalsAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Intervals
		add  Interval
		want Intervals
	}{
		{"into empty", nil, Interval{1, 2}, Intervals{{1, 2}}},
		{"before", Intervals{{10, 20}}, Interval{1, 5}, Intervals{{1, 5}, {10, 20}}},
		{"after", Intervals{{10, 20}}, Interval{25, 30}, Intervals{{10, 20}, {25, 30}}},
		{"adjacent merges", Intervals{{10, 20}}, Interval{21, 30}, Intervals{{10, 30}}},
		{"adjacent below merges", Intervals{{10, 20}}, Interval{1, 9}, Intervals{{1, 20}}},
		{"overlap spans several", Intervals{{1, 3}, {5, 7}, {9, 11}, {20, 30}}, Interval{2, 10}, Intervals{{1, 11}, {20, 30}}},
		{"inside", Intervals{{1, 100}}, Interval{5, 6}, Intervals{{1, 100}}},
		{"empty interval ignored", Intervals{{1, 2}}, Interval{5, 4}, Intervals{{1, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.Add(tc.add); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	ivs := Intervals{{10, 20}, {30, 40}}
	for ts, want := range map[int64]bool{9: false, 10: true, 20: true, 25: false, 40: true, 41: false} {
		if got := ivs.Covers(ts); got != want {
			t.Errorf("Covers(%d) = %v, want %v", ts, got, want)
		}
	}
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := NewMemTombstones()
	want.AddInterval(7, Interval{-5, 10}, Interval{100, 200})
	want.AddInterval(1, Interval{1, 1})
	want.AddInterval(1<<40, Interval{-1 << 60, 1 << 60})
	size, err := WriteFile(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	got, gotSize, err := ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if size != gotSize || got.Total() != 4 {
		t.Fatalf("size %d/%d total %d", size, gotSize, got.Total())
	}
	for _, ref := range []storage.SeriesRef{1, 7, 1 << 40, 3} {
		if !reflect.DeepEqual(got.Get(ref), want.Get(ref)) {
			t.Errorf("ref %d: got %v, want %v", ref, got.Get(ref), want.Get(ref))
		}
	}

	// A flipped bit is detected.
	b, _ := os.ReadFile(filepath.Join(dir, Filename))
	b[6] ^= 1
	if _, err := Decode(b); err == nil {
		t.Fatal("corrupt file decoded without error")
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	got, size, err := ReadFile(t.TempDir())
	if err != nil || size != 0 || got.Total() != 0 {
		t.Fatalf("got %v, %d, %v", got, size, err)
	}
}

func FuzzDecode(f *testing.F) {
	m := NewMemTombstones()
	m.AddInterval(3, Interval{1, 2})
	b, _ := Encode(m)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = Decode(b) })
}

func TestFilter(t *testing.T) {
	m := NewMemTombstones()
	m.AddInterval(1, Interval{0, 10}, Interval{20, 30})
	m.AddInterval(2, Interval{5, 6})
	m.Filter(func(ref storage.SeriesRef, in Interval) bool { return ref != 2 && in.Maxt >= 15 })
	if got := m.Get(1); !reflect.DeepEqual(got, Intervals{{20, 30}}) {
		t.Fatalf("series 1 keeps %v, want [{20 30}]", got)
	}
	if got, total := m.Get(2), m.Total(); got != nil || total != 1 {
		t.Fatalf("series 2 keeps %v, total %d; want nothing, 1", got, total)
	}
}
