package chunkenc

import (
	"testing"

	upstream "github.com/prometheus/prometheus/tsdb/chunkenc"
)

// The chunks must be byte-identical to Prometheus's so that Argus and
// Prometheus can read each other's head chunk files and blocks.
func TestXORMatchesUpstream(t *testing.T) {
	for name, samples := range testSeries() {
		t.Run(name, func(t *testing.T) {
			ours := encode(t, samples)

			theirs := upstream.NewXORChunk()
			app, err := theirs.Appender()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				app.Append(0, s.t, s.v)
			}
			if string(ours.Bytes()) != string(theirs.Bytes()) {
				t.Fatalf("encodings differ:\nours   %x\ntheirs %x", ours.Bytes(), theirs.Bytes())
			}

			// Upstream decodes ours.
			uc, err := upstream.FromData(upstream.EncXOR, ours.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			var got []sample
			it := uc.Iterator(nil)
			for it.Next() == upstream.ValFloat {
				ts, v := it.At()
				got = append(got, sample{ts, v})
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			assertSamples(t, samples, got)

			// We decode theirs.
			assertSamples(t, samples, decode(t, theirs.Bytes()))
		})
	}
}
