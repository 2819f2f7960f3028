package config

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// String returns the effective configuration, defaults included, as YAML,
// for /api/v1/status/config. Secrets print as <secret> and passwords in
// URLs as xxxxx: prometheus/common's types redact themselves when marshalled.
func (c *Config) String() string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Sprintf("<error creating config string: %v>", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Sprintf("<error creating config string: %v>", err)
	}
	return buf.String()
}
