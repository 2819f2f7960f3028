package remote

import (
	"fmt"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// LabelsV2 resolves a 2.0 labels_refs list against the request's symbols
// table and validates the result as the spec asks: name/value pairs, every
// reference inside the table, names sorted and distinct, valid UTF-8 names
// and values. It does not require a metric name, so exemplar labels can use
// it too; series callers check for __name__ themselves.
func LabelsV2(b *labels.ScratchBuilder, refs []uint32, symbols []string) (labels.Labels, error) {
	b.Reset()
	if len(refs)%2 != 0 {
		return labels.EmptyLabels(), fmt.Errorf("labels_refs has odd length %d, want name/value pairs", len(refs))
	}
	prev := ""
	for i := 0; i < len(refs); i += 2 {
		nameRef, valueRef := refs[i], refs[i+1]
		if uint64(nameRef) >= uint64(len(symbols)) || uint64(valueRef) >= uint64(len(symbols)) {
			return labels.EmptyLabels(), fmt.Errorf("labels_refs[%d:%d] = (%d, %d) points outside the symbols table of %d entries", i, i+2, nameRef, valueRef, len(symbols))
		}
		name, value := symbols[nameRef], symbols[valueRef]
		switch {
		case name == "":
			return labels.EmptyLabels(), fmt.Errorf("label %d has an empty name", i/2)
		case i > 0 && name == prev:
			return labels.EmptyLabels(), fmt.Errorf("duplicate label name %q", name)
		case i > 0 && name < prev:
			return labels.EmptyLabels(), fmt.Errorf("labels are not sorted: %q comes after %q", name, prev)
		case !model.UTF8Validation.IsValidLabelName(name):
			return labels.EmptyLabels(), fmt.Errorf("invalid label name %q", name)
		case !model.LabelValue(value).IsValid():
			return labels.EmptyLabels(), fmt.Errorf("label %q has a value that is not valid UTF-8", name)
		}
		b.Add(name, value)
		prev = name
	}
	return b.Labels(), nil
}

// CheckMetadataV2 checks that a series' metadata references resolve. Argus
// does not store metadata yet, but a reference outside the table is a broken
// request all the same.
func CheckMetadataV2(m writev2.Metadata, symbols []string) error {
	if uint64(m.HelpRef) >= uint64(len(symbols)) {
		return fmt.Errorf("metadata help_ref %d points outside the symbols table of %d entries", m.HelpRef, len(symbols))
	}
	if uint64(m.UnitRef) >= uint64(len(symbols)) {
		return fmt.Errorf("metadata unit_ref %d points outside the symbols table of %d entries", m.UnitRef, len(symbols))
	}
	return nil
}
