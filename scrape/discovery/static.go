package discovery

import (
	"context"

	"github.com/argusmon/argus/config"
)

// Static provides the fixed groups of static_configs.
type Static struct {
	groups []*Group
}

// NewStatic returns a provider of the groups of cfgs.
func NewStatic(cfgs []*config.StaticConfig) *Static {
	return &Static{groups: StaticGroups(cfgs)}
}

// Run sends the groups once and waits for ctx to end.
func (s *Static) Run(ctx context.Context, up chan<- []*Group) {
	send(ctx, up, s.groups)
	<-ctx.Done()
}
