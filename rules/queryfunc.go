package rules

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
)

// QueryFunc evaluates an instant query at ts. Rules, and the `query`
// template function, read data only through it.
type QueryFunc func(ctx context.Context, qs string, ts time.Time) (query.Vector, error)

// Engine is the part of the PromQL engine rules need; *query.Engine
// satisfies it.
type Engine interface {
	NewInstantQuery(ctx context.Context, q query.Queryable, qs string, ts time.Time) (query.Query, error)
}

// Appendable gives the appenders rule results are written through;
// *tsdb.DB satisfies it.
type Appendable interface {
	Appender(ctx context.Context) storage.Appender
}

// EngineQueryFunc returns a QueryFunc evaluating on engine over q. A
// scalar result becomes a one-sample vector without labels, as Prometheus
// does; any other non-vector result is an error.
func EngineQueryFunc(engine Engine, q query.Queryable) QueryFunc {
	return func(ctx context.Context, qs string, ts time.Time) (query.Vector, error) {
		qry, err := engine.NewInstantQuery(ctx, q, qs, ts)
		if err != nil {
			return nil, err
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		switch v := res.Value.(type) {
		case query.Vector:
			return v, nil
		case query.Scalar:
			return query.Vector{{Metric: labels.EmptyLabels(), T: v.T, F: v.V}}, nil
		default:
			return nil, fmt.Errorf("rule result is not a vector or scalar but %s", res.Value.Type())
		}
	}
}
