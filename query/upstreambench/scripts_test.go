package upstreambench_test

import (
	"os"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
)

// The expectations of the script that covers sliding windows and streamed
// aggregations are Prometheus's own: its engine passes the script too.
func TestRangeStreamingScriptPassesUpstream(t *testing.T) {
	script, err := os.ReadFile("../testdata/range_streaming.test")
	if err != nil {
		t.Fatal(err)
	}
	promqltest.RunTest(t, string(script), promqltest.NewTestEngine(t, false, 5*time.Minute, promqltest.DefaultMaxSamplesPerQuery))
}
