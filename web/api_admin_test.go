package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb"
)

var _ Admin = (*tsdb.DB)(nil)

// newAdminHandler serves the test database of newTestHandler with the
// admin API enabled.
func newAdminHandler(t *testing.T) (*Handler, *tsdb.DB) {
	t.Helper()
	h, db := newTestHandler(t, Options{})
	o := h.opts
	o.EnableAdminAPI, o.Admin = true, db
	h = New(o)
	h.SetReady(true)
	return h, db
}

func form(method, target string, v url.Values, h http.Handler) (int, string) {
	header := http.Header{}
	header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := do(h, method, target, strings.NewReader(v.Encode()), header)
	return rec.Code, rec.Body.String()
}

func TestAdminAPIDisabled(t *testing.T) {
	h, db := newTestHandler(t, Options{})
	o := h.opts
	o.Admin = db // present but not enabled
	h = New(o)
	h.SetReady(true)
	for _, path := range []string{"delete_series?match[]=up", "clean_tombstones", "snapshot"} {
		code, body := form("POST", "/api/v1/admin/tsdb/"+path, nil, h)
		if want := `{"status":"error","errorType":"unavailable","error":"admin APIs disabled"}`; code != 503 || body != want {
			t.Errorf("%s: got %d %s, want 503 %s", path, code, body, want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(db.Dir(), snapshotsDirName)); len(entries) != 0 {
		t.Fatalf("disabled snapshot wrote %d entries", len(entries))
	}
}

func TestAdminDeleteSeries(t *testing.T) {
	countQuery := "/api/v1/query?query=count_over_time(up[200s])&time=100"
	for _, tc := range []struct {
		name, method string
		form         url.Values
		code         int
		body         string
		// counts is the answer to countQuery afterwards.
		counts string
	}{
		{
			name: "range of one series", method: "POST", form: url.Values{"match[]": {`up{job="a"}`}, "start": {"20"}, "end": {"50"}},
			code: 204, counts: `[{"metric":{"instance":"x","job":"a"},"value":[100,"7"]},{"metric":{"instance":"y","job":"b"},"value":[100,"11"]}]`,
		},
		{
			name: "all time, two selectors, PUT", method: "PUT", form: url.Values{"match[]": {`up{job="a"}`, `{instance="y"}`}},
			code: 204, counts: `[]`,
		},
		{
			name: "no match[]", method: "POST", form: url.Values{"start": {"20"}}, code: 400,
			body:   `{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}`,
			counts: `[{"metric":{"instance":"x","job":"a"},"value":[100,"11"]},{"metric":{"instance":"y","job":"b"},"value":[100,"11"]}]`,
		},
		{
			name: "bad selector deletes nothing", method: "POST", form: url.Values{"match[]": {`up`, `up{`}}, code: 400,
			body:   `{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:4: parse error: unexpected end of input inside braces"}`,
			counts: `[{"metric":{"instance":"x","job":"a"},"value":[100,"11"]},{"metric":{"instance":"y","job":"b"},"value":[100,"11"]}]`,
		},
		{
			name: "bad end", method: "POST", form: url.Values{"match[]": {`up`}, "end": {"soon"}}, code: 400,
			body:   `{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": invalid time value for 'end': cannot parse \"soon\" to a valid timestamp"}`,
			counts: `[{"metric":{"instance":"x","job":"a"},"value":[100,"11"]},{"metric":{"instance":"y","job":"b"},"value":[100,"11"]}]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newAdminHandler(t)
			code, body := form(tc.method, "/api/v1/admin/tsdb/delete_series", tc.form, h)
			if code != tc.code || body != tc.body {
				t.Fatalf("got %d %s\nwant %d %s", code, body, tc.code, tc.body)
			}
			rec := do(h, "GET", countQuery, nil, nil)
			want := `{"status":"success","data":{"resultType":"vector","result":` + tc.counts + `}}`
			if rec.Body.String() != want {
				t.Fatalf("after delete: got %s\nwant %s", rec.Body.String(), want)
			}
		})
	}
}

func TestAdminCleanTombstones(t *testing.T) {
	h, db := newAdminHandler(t)
	if code, body := form("POST", "/api/v1/admin/tsdb/delete_series", url.Values{"match[]": {`up{job="b"}`}}, h); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
	for _, method := range []string{"POST", "PUT"} {
		if code, body := form(method, "/api/v1/admin/tsdb/clean_tombstones", nil, h); code != 204 || body != "" {
			t.Fatalf("%s clean_tombstones: %d %s", method, code, body)
		}
	}
	if rec := do(h, "GET", "/api/v1/admin/tsdb/clean_tombstones", nil, nil); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET clean_tombstones: %d", rec.Code)
	}
	if got := seriesCount(t, db, db.Dir()); got != 1 {
		t.Fatalf("%d series left, want 1", got)
	}
}

func TestAdminSnapshot(t *testing.T) {
	h, db := newAdminHandler(t)
	nameRE := regexp.MustCompile(`^\{"status":"success","data":\{"name":"(\d{8}T\d{6}Z-[0-9a-f]{16})"\}\}$`)
	for _, tc := range []struct {
		name       string
		form       url.Values
		wantSeries int
	}{
		{"with head", nil, 2},
		{"skip head", url.Values{"skip_head": {"true"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := form("POST", "/api/v1/admin/tsdb/snapshot", tc.form, h)
			m := nameRE.FindStringSubmatch(body)
			if code != 200 || m == nil {
				t.Fatalf("got %d %s", code, body)
			}
			var data struct {
				Data struct{ Name string }
			}
			if err := json.Unmarshal([]byte(body), &data); err != nil || data.Data.Name != m[1] {
				t.Fatalf("answer %s: %v", body, err)
			}
			dir := filepath.Join(db.Dir(), snapshotsDirName, m[1])
			if got := seriesCount(t, nil, dir); got != tc.wantSeries {
				t.Fatalf("snapshot holds %d series, want %d", got, tc.wantSeries)
			}
		})
	}
	code, body := form("POST", "/api/v1/admin/tsdb/snapshot", url.Values{"skip_head": {"maybe"}}, h)
	if want := `{"status":"error","errorType":"bad_data","error":"invalid parameter \"skip_head\": unable to parse boolean: strconv.ParseBool: parsing \"maybe\": invalid syntax"}`; code != 400 || body != want {
		t.Fatalf("got %d %s\nwant 400 %s", code, body, want)
	}
}

// seriesCount counts the series with samples in db, or if db is nil in the
// database opened from dir.
func seriesCount(t *testing.T, db *tsdb.DB, dir string) int {
	t.Helper()
	if db == nil {
		var err error
		if db, err = tsdb.Open(dir, &tsdb.Options{DisableCompaction: true}); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
	}
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	n := 0
	var it storage.Iterator
	for set.Next() {
		it = set.At().Iterator(it)
		if it.Next() == storage.ValFloat {
			n++
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
