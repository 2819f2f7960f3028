//go:build unix

package headchunks

import (
	"fmt"
	"os"
	"syscall"
)

// mirrorWrites is false where files are memory-mapped: the mapping sees
// what the writer appends.
const mirrorWrites = false

// mapFile maps the first length bytes of f read-only. The mapping may extend
// past the end of the file, for a file still being written; only bytes the
// file holds may be read.
func mapFile(f *os.File, length int) ([]byte, error) {
	if length == 0 {
		return nil, nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, length, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", f.Name(), err)
	}
	return b, nil
}

func unmap(b []byte) error {
	if b == nil {
		return nil
	}
	return syscall.Munmap(b)
}
