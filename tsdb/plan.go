package tsdb

import (
	"github.com/argusmon/argus/tsdb/block"
)

// plan picks the next blocks to compact into one, as Prometheus's leveled
// planner does: first any group of overlapping blocks; otherwise, leaving
// out the newest block (so that a backup can copy it before it changes),
// the first run of blocks that fills an aligned range of the next level, or
// that lies entirely before the newest block. It returns nil if there is
// nothing to do.
func (db *DB) plan() []*block.Block {
	db.blocksMu.RLock()
	bs := append([]*block.Block(nil), db.blocks...)
	db.blocksMu.RUnlock()

	if g := overlapping(bs); len(g) > 1 {
		return g
	}
	if len(bs) < 2 {
		return nil
	}
	bs = bs[:len(bs)-1]
	newest := bs[len(bs)-1].Meta().MinTime
	for _, r := range db.ranges[1:] {
		for _, g := range splitByRange(bs, r) {
			mint, maxt := g[0].Meta().MinTime, g[len(g)-1].Meta().MaxTime
			if len(g) > 1 && (maxt-mint == r || maxt <= newest) {
				return g
			}
		}
	}
	return nil
}

// overlapping returns the first group of blocks (sorted by MinTime) whose
// time ranges overlap.
func overlapping(bs []*block.Block) []*block.Block {
	var (
		group []*block.Block
		end   int64
	)
	for _, b := range bs {
		m := b.Meta()
		if len(group) > 0 && m.MinTime < end {
			group = append(group, b)
			end = max(end, m.MaxTime)
			continue
		}
		if len(group) > 1 {
			return group
		}
		group, end = []*block.Block{b}, m.MaxTime
	}
	if len(group) > 1 {
		return group
	}
	return nil
}

// splitByRange groups the blocks (sorted by MinTime) that fall in the same
// r-aligned range; a block crossing its range's end is in no group.
func splitByRange(bs []*block.Block, r int64) [][]*block.Block {
	var groups [][]*block.Block
	for i := 0; i < len(bs); {
		m := bs[i].Meta()
		start := m.MinTime - floorMod(m.MinTime, r)
		if m.MaxTime > start+r {
			i++
			continue
		}
		var g []*block.Block
		for ; i < len(bs) && bs[i].Meta().MaxTime <= start+r; i++ {
			g = append(g, bs[i])
		}
		groups = append(groups, g)
	}
	return groups
}
