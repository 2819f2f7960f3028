package query_test

import (
	"testing"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
)

func TestScripts(t *testing.T) {
	promqltest.RunFiles(t, "testdata/*.test", func() *query.Engine {
		return query.NewEngine(query.EngineOpts{MaxSamples: 50000})
	})
}

// TestExperimentalScripts runs the scripts that need Prometheus's
// experimental functions and aggregations.
func TestExperimentalScripts(t *testing.T) {
	promqltest.RunFiles(t, "testdata/experimental/*.test", func() *query.Engine {
		return query.NewEngine(query.EngineOpts{MaxSamples: 50000, EnableExperimentalFunctions: true})
	})
}
