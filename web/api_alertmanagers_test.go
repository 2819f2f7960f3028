package web

import (
	"net/url"
	"testing"
)

type fakeAlertmanagers struct{ active, dropped []*url.URL }

func (f fakeAlertmanagers) Alertmanagers() []*url.URL        { return f.active }
func (f fakeAlertmanagers) DroppedAlertmanagers() []*url.URL { return f.dropped }

func TestAlertmanagersAPI(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name string
		am   AlertmanagerRetriever
		want string
	}{
		{"none configured", nil, `{"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}}`},
		{"active and dropped", fakeAlertmanagers{
			active:  []*url.URL{mustURL("http://127.0.0.1:9093/api/v2/alerts")},
			dropped: []*url.URL{mustURL("http://10.0.0.1:9093/api/v2/alerts")},
		}, `{"status":"success","data":{"activeAlertmanagers":[{"url":"http://127.0.0.1:9093/api/v2/alerts"}],"droppedAlertmanagers":[{"url":"http://10.0.0.1:9093/api/v2/alerts"}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, Options{Alertmanagers: tc.am})
			rec := do(h, "GET", "/api/v1/alertmanagers", nil, nil)
			if rec.Code != 200 || rec.Body.String() != tc.want {
				t.Errorf("got %d %s\nwant %s", rec.Code, rec.Body.String(), tc.want)
			}
		})
	}
}
