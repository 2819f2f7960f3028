//go:build !unix

package headchunks

import (
	"fmt"
	"io"
	"os"
)

// mirrorWrites is true where files are not memory-mapped: the file's bytes
// are read into memory and the writer mirrors what it appends.
const mirrorWrites = true

func mapFile(f *os.File, length int) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	b := make([]byte, min(fi.Size(), int64(length)))
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(len(b))), b); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return b, nil
}

func unmap([]byte) error { return nil }
