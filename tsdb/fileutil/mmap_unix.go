//go:build unix

package fileutil

import (
	"os"
	"syscall"
)

// MapFile maps the first size bytes of f read-only. It returns ok=false when
// the file cannot be mapped, and the caller falls back to reading it.
func MapFile(f *os.File, size int) (b []byte, ok bool) {
	if size == 0 {
		return nil, false
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	return b, true
}

// Unmap releases a mapping made by MapFile.
func Unmap(b []byte) error { return syscall.Munmap(b) }
