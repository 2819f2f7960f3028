//go:build !unix

package chunks

import "os"

func mapFile(*os.File, int) ([]byte, bool) { return nil, false }

func unmap([]byte) error { return nil }
