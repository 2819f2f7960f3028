//go:build race

package main

// raceEnabled builds the end-to-end binary with the race detector when the
// tests themselves run with it, so races in the real server fail the suite.
const raceEnabled = true
