package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/argusmon/argus/tsdb"
)

// statusTSDB serves /api/v1/status/tsdb: head statistics and the top
// cardinality lists, limit entries each (default 10), as Prometheus does.
func (h *Handler) statusTSDB(r *http.Request) ([]byte, *annotations, *apiError) {
	limit := 10
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, nil, &apiError{errorBadData, errors.New("limit must be a positive number")}
		}
		limit = n
	}
	if h.opts.TSDBStats == nil {
		return nil, nil, &apiError{errorUnavailable, errors.New("TSDB statistics are not available")}
	}
	st := h.opts.TSDBStats(limit)
	minT, maxT := st.MinTime, st.MaxTime
	if st.NumSeries == 0 || minT == math.MaxInt64 {
		// Prometheus reports an empty head's bounds as zeros.
		minT, maxT = 0, 0
	}
	b := []byte(`{"headStats":{"numSeries":`)
	b = strconv.AppendUint(b, st.NumSeries, 10)
	b = append(b, `,"numLabelPairs":`...)
	b = strconv.AppendInt(b, int64(st.NumLabelPairs), 10)
	b = append(b, `,"chunkCount":`...)
	b = strconv.AppendInt(b, st.ChunkCount, 10)
	b = append(b, `,"minTime":`...)
	b = strconv.AppendInt(b, minT, 10)
	b = append(b, `,"maxTime":`...)
	b = strconv.AppendInt(b, maxT, 10)
	b = append(b, '}')
	for _, list := range []struct {
		name  string
		stats []tsdb.Stat
	}{
		{"seriesCountByMetricName", st.SeriesCountByMetricName},
		{"labelValueCountByLabelName", st.LabelValueCountByLabelName},
		{"memoryInBytesByLabelName", st.MemoryInBytesByLabelName},
		{"seriesCountByLabelValuePair", st.SeriesCountByLabelValuePair},
	} {
		b = append(b, ',')
		b = appendString(b, list.name)
		b = append(b, ":["...)
		for i, s := range list.stats {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, s.Name)
			b = append(b, `,"value":`...)
			b = strconv.AppendUint(b, s.Count, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil, nil
}
