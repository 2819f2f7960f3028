package query_test

import (
	"context"
	"testing"
	"time"

	"github.com/argusmon/argus/query"
)

// An engine recycles the points of closed queries' results: queries run
// one after another on it, each closed before the next, still return what
// each returns on a fresh engine.
func TestRecycledPointsDoNotLeakBetweenQueries(t *testing.T) {
	st := loadStorage(t, 6, 20)
	ctx := context.Background()
	exprs := []string{
		"sum by (i) (rate(metric[2m]))",
		"metric * 2",
		"topk(2, rate(metric[1m]))",
		"sum(metric) / count(metric)",
		"sum by (i) (rate(metric[2m])) + on(i) sum by (i) (increase(metric[3m]))",
		"avg_over_time(metric[5m])",
	}
	run := func(eng *query.Engine, expr string) string {
		q, err := eng.NewRangeQuery(ctx, st, expr, time.UnixMilli(0), time.UnixMilli(1_200_000), 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		res := q.Exec(ctx)
		if res.Err != nil {
			t.Fatalf("%s: %v", expr, res.Err)
		}
		return res.Value.String()
	}
	want := map[string]string{}
	for _, expr := range exprs {
		want[expr] = run(query.NewEngine(query.EngineOpts{}), expr)
	}
	shared := query.NewEngine(query.EngineOpts{})
	for round := 0; round < 3; round++ {
		for _, expr := range exprs {
			if got := run(shared, expr); got != want[expr] {
				t.Fatalf("round %d, %s on a shared engine:\n%s\nwant\n%s", round, expr, got, want[expr])
			}
		}
	}
}
