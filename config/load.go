package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"gopkg.in/yaml.v3"
)

// LoadFile reads, parses and validates the configuration file filename.
// Relative file paths inside it are resolved against the file's directory,
// and the jobs of the files named by scrape_config_files are merged in.
func LoadFile(filename string) (*Config, error) {
	data, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("reading configuration file: %w", err)
	}
	cfg, err := Load(data, filename)
	if err != nil {
		return nil, err
	}
	cfg.SetDirectory(filepath.Dir(filename))
	if err := cfg.loadScrapeConfigFiles(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Load parses and validates a configuration held in memory, applying
// Prometheus's defaults. filename is used in error messages and recorded as
// Source; relative paths are left as written (LoadFile resolves them).
//
// An error is an *Error, or an errors.Join of several when the YAML has
// more than one structural problem; each reads "filename:line: problem".
func Load(data []byte, filename string) (cfg *Config, err error) {
	// A parser bug must not take the process down on a bad file: a reload
	// with a bad config has to keep the running one.
	defer func() {
		if r := recover(); r != nil {
			cfg, err = nil, &Error{File: filename, Err: fmt.Errorf("internal error parsing configuration: %v", r)}
		}
	}()

	cfg = &Config{}
	doc, err := decodeDocument(data, filename, cfg)
	if err != nil {
		return nil, err
	}

	v := &validator{file: filename}
	if err := v.config(cfg, rootPos(doc)); err != nil {
		return nil, err
	}
	cfg.Source = filename
	cfg.Original = string(data)
	return cfg, nil
}

// decodeDocument parses data strictly into out (a pointer to a struct) and
// returns the YAML node tree that validation takes line numbers from. Every
// error names filename and, where known, the line and YAML path.
func decodeDocument[T any](data []byte, filename string, out *T) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(filename, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, typeErrors(filename, &doc, te)
		}
		line, path := locateFailure(&doc, reflect.TypeFor[T]())
		if path != "" {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, &Error{File: filename, Line: line, Err: err}
	}
	return &doc, nil
}
