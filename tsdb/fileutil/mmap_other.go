//go:build !unix

package fileutil

import "os"

// MapFile never maps on platforms without mmap; callers read the file.
func MapFile(*os.File, int) ([]byte, bool) { return nil, false }

// Unmap is a no-op where MapFile never maps.
func Unmap([]byte) error { return nil }
