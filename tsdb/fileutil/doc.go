// Package fileutil holds the file helpers the TSDB's readers share: mapping
// immutable files (blocks' index and chunk segments, full head chunks) into
// memory read-only.
package fileutil
