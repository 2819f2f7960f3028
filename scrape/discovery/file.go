package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
)

// filePathLabel carries the file a target was read from, for relabeling.
const filePathLabel = model.MetaLabelPrefix + "filepath"

const defaultFilePollInterval = 5 * time.Second

// FileOptions configure a File provider.
type FileOptions struct {
	// Logger receives read errors; nil discards them.
	Logger *slog.Logger
	// PollInterval is how often the files are checked for changes (by
	// modification time and size); 0 means 5s.
	PollInterval time.Duration
	// ReadErrors counts files that could not be read or parsed.
	ReadErrors prometheus.Counter
}

// File provides the target groups listed in JSON or YAML files. Without
// filesystem notifications it polls: a file is re-read when its modification
// time or size changes, and every file is re-read each refresh_interval. A
// file that cannot be read or parsed keeps its last good groups.
type File struct {
	patterns []string
	refresh  time.Duration
	poll     time.Duration
	logger   *slog.Logger
	errs     prometheus.Counter

	// Confined to Run.
	files map[string]*fileState
}

// fileState is what the provider knows of one file.
type fileState struct {
	modTime time.Time
	size    int64
	sources []string // sources of the last good read.
}

// NewFile returns a provider for one file_sd_configs entry.
func NewFile(cfg *config.FileSDConfig, o FileOptions) *File {
	poll := o.PollInterval
	if poll <= 0 {
		poll = defaultFilePollInterval
	}
	refresh := time.Duration(cfg.RefreshInterval)
	if refresh <= 0 {
		refresh = time.Duration(config.DefaultFileSDRefreshInterval)
	}
	return &File{
		patterns: append([]string(nil), cfg.Files...),
		refresh:  refresh,
		poll:     poll,
		logger:   loggerOrDiscard(o.Logger),
		errs:     counterOrNew(o.ReadErrors),
		files:    map[string]*fileState{},
	}
}

// Run reads the files, sends their groups, and then sends what changes.
func (f *File) Run(ctx context.Context, up chan<- []*Group) {
	if !send(ctx, up, f.scan(true)) {
		return
	}
	pollT := time.NewTicker(f.poll)
	defer pollT.Stop()
	refreshT := time.NewTicker(f.refresh)
	defer refreshT.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-pollT.C:
		case <-refreshT.C:
			force = true
		}
		if groups := f.scan(force); len(groups) > 0 && !send(ctx, up, groups) {
			return
		}
	}
}

// scan returns the groups of files that changed (all files if force), and
// empty groups for the sources of files that are gone or shrank.
func (f *File) scan(force bool) []*Group {
	out := []*Group{}
	seen := map[string]bool{}
	for _, path := range f.paths() {
		seen[path] = true
		fi, err := os.Stat(path)
		if err != nil {
			// Gone between listing and stat: the next scan removes it.
			continue
		}
		st, known := f.files[path]
		if known && !force && fi.ModTime().Equal(st.modTime) && fi.Size() == st.size {
			continue
		}
		if !known {
			st = &fileState{}
			f.files[path] = st
		}
		// Recorded even when the read fails, so that a broken file is
		// reported once per change rather than on every poll.
		st.modTime, st.size = fi.ModTime(), fi.Size()
		groups, err := readGroupFile(path)
		if err != nil {
			f.errs.Inc()
			f.logger.Error("Reading file_sd file failed, keeping its previous targets", "file", path, "err", err)
			continue
		}
		sources := make([]string, len(groups))
		for i, g := range groups {
			sources[i] = g.Source
		}
		if len(st.sources) > len(groups) {
			out = append(out, emptyGroups(st.sources[len(groups):])...)
		}
		st.sources = sources
		out = append(out, groups...)
	}
	for path, st := range f.files {
		if !seen[path] {
			out = append(out, emptyGroups(st.sources)...)
			delete(f.files, path)
		}
	}
	return out
}

// paths expands the configured patterns, sorted and without duplicates.
func (f *File) paths() []string {
	set := map[string]bool{}
	for _, p := range f.patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			// Only a malformed pattern fails, which config validation
			// rejects; a log line is all a bad one deserves here.
			f.logger.Error("Expanding file_sd pattern failed", "pattern", p, "err", err)
			continue
		}
		for _, m := range matches {
			set[m] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// readGroupFile reads one file of target groups; the extension picks the
// format.
func readGroupFile(path string) ([]*Group, error) {
	var yamlFormat bool
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
	case ".yml", ".yaml":
		yamlFormat = true
	default:
		return nil, fmt.Errorf("unsupported file extension %q: want .json, .yml or .yaml", ext)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	groups, err := parseGroups(data, yamlFormat)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	for i, g := range groups {
		g.Source = fmt.Sprintf("%s:%d", path, i)
		g.Labels[filePathLabel] = model.LabelValue(path)
	}
	return groups, nil
}
