package scrape

import (
	"context"

	"github.com/argusmon/argus/storage"
)

// Appendable is what scrape needs from storage; *tsdb.DB satisfies it. Each
// scrape takes one Appender and either commits or rolls back all of it.
type Appendable interface {
	Appender(ctx context.Context) storage.Appender
}
