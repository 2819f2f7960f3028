package block

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Snapshot hard-links the block's files into dir/<ULID>, which must not
// exist yet. Block files are never modified in place (the tombstones file
// and meta.json are replaced by rename), so the links stay a consistent
// copy whatever happens to the block afterwards.
func (b *Block) Snapshot(dir string) error {
	if err := b.acquire(); err != nil {
		return err
	}
	defer b.release()
	// No deletion may swap the tombstones file and meta.json between the
	// two links.
	b.delMu.Lock()
	defer b.delMu.Unlock()
	dst := filepath.Join(dir, b.meta.ULID)
	err := filepath.WalkDir(b.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(b.dir, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o777)
		}
		if strings.HasSuffix(path, ".tmp") {
			return nil // an interrupted rewrite of a small file
		}
		return os.Link(path, target)
	})
	if err != nil {
		return fmt.Errorf("snapshot block %s into %s: %w", b.meta.ULID, dir, err)
	}
	return syncDir(dst)
}
