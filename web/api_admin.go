package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
)

// Admin is what the admin API (/api/v1/admin/tsdb/...) does to the
// database; *tsdb.DB satisfies it.
type Admin interface {
	// Delete marks the samples in [mint, maxt] (ms) of the matching series
	// deleted.
	Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error
	// CleanTombstones rewrites the blocks without their deleted samples.
	CleanTombstones(ctx context.Context) error
	// Snapshot writes a copy of the database into dir, with the head's
	// samples if withHead.
	Snapshot(dir string, withHead bool) error
	// Dir is the data directory, under whose snapshots/ directory
	// snapshots are written.
	Dir() string
}

// snapshotsDirName is where snapshots go inside the data directory, as in
// Prometheus.
const snapshotsDirName = "snapshots"

var errAdminDisabled = &apiError{errorUnavailable, errors.New("admin APIs disabled")}

// admin returns the database to administer, or the error Prometheus gives
// without --web.enable-admin-api. Without an Admin to act on, the API is
// as good as disabled.
func (h *Handler) admin() (Admin, *apiError) {
	if !h.opts.EnableAdminAPI || h.opts.Admin == nil {
		return nil, errAdminDisabled
	}
	return h.opts.Admin, nil
}

// deleteSeries serves /api/v1/admin/tsdb/delete_series: match[] (at least
// one) with optional start and end, all time by default.
func (h *Handler) deleteSeries(r *http.Request) ([]byte, *annotations, *apiError) {
	adm, apiErr := h.admin()
	if apiErr != nil {
		return nil, nil, apiErr
	}
	if err := r.ParseForm(); err != nil {
		return nil, nil, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)}
	}
	selectors := r.Form["match[]"]
	if len(selectors) == 0 {
		return nil, nil, &apiError{errorBadData, errors.New("no match[] parameter provided")}
	}
	start, end, apiErr := timeRange(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	// Every selector is checked before anything is deleted.
	sets := make([][]*labels.Matcher, 0, len(selectors))
	for _, s := range selectors {
		ms, err := h.parser.ParseMetricSelector(s)
		if err != nil {
			return nil, nil, invalidParam("match[]", err)
		}
		sets = append(sets, ms)
	}
	for _, ms := range sets {
		if err := adm.Delete(r.Context(), timestamp.FromTime(start), timestamp.FromTime(end), ms...); err != nil {
			return nil, nil, &apiError{errorInternal, err}
		}
	}
	return nil, nil, nil
}

// cleanTombstones serves /api/v1/admin/tsdb/clean_tombstones.
func (h *Handler) cleanTombstones(r *http.Request) ([]byte, *annotations, *apiError) {
	adm, apiErr := h.admin()
	if apiErr != nil {
		return nil, nil, apiErr
	}
	if err := adm.CleanTombstones(r.Context()); err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	return nil, nil, nil
}

// snapshot serves /api/v1/admin/tsdb/snapshot: it writes the snapshot to
// <data dir>/snapshots/<UTC time>-<random hex> and answers its name;
// skip_head=true leaves out the samples not yet in blocks.
func (h *Handler) snapshot(r *http.Request) ([]byte, *annotations, *apiError) {
	adm, apiErr := h.admin()
	if apiErr != nil {
		return nil, nil, apiErr
	}
	var skipHead bool
	if v := r.FormValue("skip_head"); v != "" {
		var err error
		if skipHead, err = strconv.ParseBool(v); err != nil {
			return nil, nil, invalidParam("skip_head", fmt.Errorf("unable to parse boolean: %w", err))
		}
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, nil, &apiError{errorInternal, fmt.Errorf("create snapshot name: %w", err)}
	}
	name := time.Now().UTC().Format("20060102T150405Z0700") + "-" + hex.EncodeToString(rnd[:])
	dir := filepath.Join(adm.Dir(), snapshotsDirName, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, nil, &apiError{errorInternal, fmt.Errorf("create snapshot directory: %w", err)}
	}
	if err := adm.Snapshot(dir, !skipHead); err != nil {
		return nil, nil, &apiError{errorInternal, fmt.Errorf("create snapshot: %w", err)}
	}
	b := appendString([]byte(`{"name":`), name)
	return append(b, '}'), nil, nil
}
