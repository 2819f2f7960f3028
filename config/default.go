package config

import (
	_ "embed"
	"fmt"
	"net"
	"strconv"
	"strings"
)

//go:embed default.yml
var defaultTemplate string

// Default returns the built-in configuration: Argus scraping itself every
// 15s as job "argus" at listenAddress (its --web.listen-address). A wildcard
// or empty host is reached as localhost. The text goes through Load, so it
// is validated like any file; Source is "" and Original holds the text.
func Default(listenAddress string) (*Config, error) {
	target, err := selfTarget(listenAddress)
	if err != nil {
		return nil, fmt.Errorf("building the default configuration: %w", err)
	}
	text := strings.ReplaceAll(defaultTemplate, "{{TARGET}}", strconv.Quote(target))
	cfg, err := Load([]byte(text), "<default config>")
	if err != nil {
		return nil, fmt.Errorf("building the default configuration: %w", err)
	}
	cfg.Source = ""
	return cfg, nil
}

// selfTarget turns a listen address into one a scrape can reach.
func selfTarget(listenAddress string) (string, error) {
	host, port, err := net.SplitHostPort(listenAddress)
	if err != nil {
		return "", fmt.Errorf("invalid listen address %q: %w", listenAddress, err)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return "", fmt.Errorf("invalid listen address %q: bad port %q", listenAddress, port)
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "localhost"
	}
	return net.JoinHostPort(host, port), nil
}
