package remote

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// FuzzDecodeWriteV2 feeds arbitrary bytes through everything the 2.0
// receiver does before touching storage: nothing may panic, and whatever
// LabelsV2 accepts must be sorted, distinct and resolvable.
func FuzzDecodeWriteV2(f *testing.F) {
	st := writev2.NewSymbolTable()
	valid := writev2.Request{Timeseries: []writev2.TimeSeries{{
		LabelsRefs: st.SymbolizeLabels(labels.FromStrings("__name__", "up", "job", "a"), nil),
		Samples:    []writev2.Sample{{Value: 1, Timestamp: 1000}},
		Exemplars:  []writev2.Exemplar{{LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", "t"), nil), Value: 1}},
		Metadata:   writev2.Metadata{HelpRef: st.Symbolize("help"), UnitRef: st.Symbolize("s")},
	}}}
	valid.Symbols = st.Symbols()
	raw, err := valid.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x04, 0x0a, 0x02, 0x01, 0x09})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := DecodeWriteV2(raw)
		if err != nil {
			return
		}
		b := labels.NewScratchBuilder(0)
		for _, ts := range req.Timeseries {
			lset, err := LabelsV2(&b, ts.LabelsRefs, req.Symbols)
			if err == nil {
				if lset.Len() != len(ts.LabelsRefs)/2 {
					t.Fatalf("LabelsV2 returned %d labels for %d refs", lset.Len(), len(ts.LabelsRefs))
				}
				if _, dup := lset.HasDuplicateLabelNames(); dup {
					t.Fatalf("LabelsV2 accepted duplicate names: %s", lset)
				}
			}
			_ = CheckMetadataV2(ts.Metadata, req.Symbols)
			for _, e := range ts.Exemplars {
				_, _ = LabelsV2(&b, e.LabelsRefs, req.Symbols)
			}
		}
	})
}
