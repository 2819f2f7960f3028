package remote

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

func TestLabelsV2(t *testing.T) {
	symbols := []string{"", "__name__", "up", "job", "a", "instance", "x", "\xff"}
	for _, tc := range []struct {
		name string
		refs []uint32
		want string // labels' String() on success
		err  string
	}{
		{name: "valid", refs: []uint32{1, 2, 5, 6, 3, 4}, want: `{__name__="up", instance="x", job="a"}`},
		{name: "name only", refs: []uint32{1, 2}, want: `{__name__="up"}`},
		{name: "empty value kept", refs: []uint32{1, 2, 3, 0}, want: `{__name__="up", job=""}`},
		{name: "no labels", refs: nil, want: `{}`},
		{name: "odd length", refs: []uint32{1, 2, 3}, err: "odd length"},
		{name: "name ref out of range", refs: []uint32{1, 2, 99, 4}, err: "outside the symbols table"},
		{name: "value ref out of range", refs: []uint32{1, 4294967295}, err: "outside the symbols table"},
		{name: "empty name", refs: []uint32{0, 2}, err: "empty name"},
		{name: "duplicate", refs: []uint32{1, 2, 3, 4, 3, 6}, err: `duplicate label name "job"`},
		{name: "unsorted", refs: []uint32{3, 4, 1, 2}, err: `"__name__" comes after "job"`},
		{name: "invalid UTF-8 value", refs: []uint32{1, 7}, err: "not valid UTF-8"},
		{name: "invalid UTF-8 name", refs: []uint32{7, 2}, err: "invalid label name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := labels.NewScratchBuilder(0)
			got, err := LabelsV2(&b, tc.refs, symbols)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("LabelsV2 = %s, %v; want error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("LabelsV2 = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestCheckMetadataV2(t *testing.T) {
	symbols := []string{"", "help", "seconds"}
	if err := CheckMetadataV2(writev2.Metadata{HelpRef: 1, UnitRef: 2}, symbols); err != nil {
		t.Errorf("valid metadata: %v", err)
	}
	if err := CheckMetadataV2(writev2.Metadata{HelpRef: 3}, symbols); err == nil || !strings.Contains(err.Error(), "help_ref 3") {
		t.Errorf("help_ref out of range: %v", err)
	}
	if err := CheckMetadataV2(writev2.Metadata{UnitRef: 9}, symbols); err == nil || !strings.Contains(err.Error(), "unit_ref 9") {
		t.Errorf("unit_ref out of range: %v", err)
	}
}

func TestParseWriteContentType(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want WriteProto
		err  bool
	}{
		{"", WriteProtoV1, false},
		{"application/x-protobuf", WriteProtoV1, false},
		{"application/x-protobuf;proto=prometheus.WriteRequest", WriteProtoV1, false},
		{"application/x-protobuf;proto=io.prometheus.write.v2.Request", WriteProtoV2, false},
		{"application/x-protobuf; proto=io.prometheus.write.v2.Request", WriteProtoV2, false},
		{"application/x-protobuf;proto=io.prometheus.write.v3.Request", "", true},
		{"application/json", "", true},
		{"not a media type;;", "", true},
	} {
		got, err := ParseWriteContentType(tc.ct)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseWriteContentType(%q) = %q, %v", tc.ct, got, err)
		}
		if err != nil {
			if _, ok := err.(ErrUnsupportedContentType); !ok {
				t.Errorf("ParseWriteContentType(%q) error %T, want ErrUnsupportedContentType", tc.ct, err)
			}
		}
	}
}
