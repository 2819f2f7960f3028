//go:build unix

package chunks

import (
	"os"
	"syscall"
)

// mapFile maps f read-only. It returns ok=false when the file cannot be
// mapped, and the caller falls back to reading it.
func mapFile(f *os.File, size int) (b []byte, ok bool) {
	if size == 0 {
		return nil, false
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	return b, true
}

func unmap(b []byte) error { return syscall.Munmap(b) }
