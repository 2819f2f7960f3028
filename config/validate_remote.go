package config

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/common/model"
)

func (v *validator) alerting(a *AlertingConfig, validation string, p pos) error {
	scheme, err := validationScheme(validation)
	if err != nil {
		return v.wrap(p, err)
	}
	if err := v.relabelConfigs(a.AlertRelabelConfigs, scheme, p.key("alert_relabel_configs"), "alert relabeling rule"); err != nil {
		return err
	}
	ap := p.key("alertmanagers")
	for i, am := range a.AlertmanagerConfigs {
		if err := v.alertmanager(am, scheme, ap.index(i)); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) alertmanager(c *AlertmanagerConfig, scheme model.ValidationScheme, p pos) error {
	if c == nil {
		return v.errorf(p, "empty or null alertmanagers entry")
	}
	setDefault(p, "scheme", &c.Scheme, DefaultScheme)
	setDefault(p, "timeout", &c.Timeout, DefaultAlertmanagerTimeout)
	setDefault(p, "api_version", &c.APIVersion, DefaultAlertmanagerAPIVersion)
	if err := v.httpClient(&c.HTTPClientConfig, p, true); err != nil {
		return err
	}
	if err := checkScheme(c.Scheme); err != nil {
		return v.errorf(p.key("scheme"), "alertmanagers entry: %w", err)
	}
	if c.APIVersion != DefaultAlertmanagerAPIVersion {
		return v.errorf(p.key("api_version"), "unsupported Alertmanager api_version %q: only %q is supported", c.APIVersion, DefaultAlertmanagerAPIVersion)
	}
	if err := v.relabelConfigs(c.RelabelConfigs, scheme, p.key("relabel_configs"), "Alertmanager target relabeling rule"); err != nil {
		return err
	}
	if err := v.relabelConfigs(c.AlertRelabelConfigs, scheme, p.key("alert_relabel_configs"), "Alertmanager alert relabeling rule"); err != nil {
		return err
	}
	return v.discovery(discoveryConfigs{
		static:     c.StaticConfigs,
		file:       c.FileSDConfigs,
		http:       c.HTTPSDConfigs,
		dns:        c.DNSSDConfigs,
		relabeling: len(c.RelabelConfigs) > 0,
	}, scheme, p)
}

func (v *validator) remoteWrites(rws []*RemoteWriteConfig, validation string, p pos) error {
	scheme, err := validationScheme(validation)
	if err != nil {
		return v.wrap(p, err)
	}
	names := map[string]int{}
	for i, rw := range rws {
		rp := p.index(i)
		if rw == nil {
			return v.errorf(rp, "empty or null remote_write entry")
		}
		if err := v.remoteWrite(rw, scheme, rp); err != nil {
			return err
		}
		// Unnamed entries are told apart by a hash of their config later.
		if rw.Name == "" {
			continue
		}
		if line, dup := names[rw.Name]; dup {
			return v.errorf(rp.key("name"), "found multiple remote_write configs with name %q (first at line %d)", rw.Name, line)
		}
		names[rw.Name] = rp.key("name").line
	}
	return nil
}

func (v *validator) remoteWrite(c *RemoteWriteConfig, scheme model.ValidationScheme, p pos) error {
	setDefault(p, "remote_timeout", &c.RemoteTimeout, DefaultRemoteWriteTimeout)
	setDefault(p, "protobuf_message", &c.ProtobufMessage, RemoteWriteV1Message)
	v.queueDefaults(&c.QueueConfig, p.key("queue_config"))
	mp := p.key("metadata_config")
	setDefault(mp, "send", &c.MetadataConfig.Send, true)
	setDefault(mp, "send_interval", &c.MetadataConfig.SendInterval, DefaultMetadataSendInterval)
	setDefault(mp, "max_samples_per_send", &c.MetadataConfig.MaxSamplesPerSend, DefaultMetadataMaxSamplesPerSend)

	if c.URL == nil || c.URL.URL == nil {
		return v.errorf(p, "url for remote_write is empty")
	}
	if err := checkURL(c.URL.URL); err != nil {
		return v.errorf(p.key("url"), "remote_write: %w", err)
	}
	if err := v.relabelConfigs(c.WriteRelabelConfigs, scheme, p.key("write_relabel_configs"), "remote_write relabeling rule"); err != nil {
		return err
	}
	if err := checkHeaders(c.Headers, "remote"); err != nil {
		return v.wrap(p.key("headers"), err)
	}
	if c.ProtobufMessage != RemoteWriteV1Message && c.ProtobufMessage != RemoteWriteV2Message {
		return v.errorf(p.key("protobuf_message"), "invalid protobuf_message %q: must be %q or %q", c.ProtobufMessage, RemoteWriteV1Message, RemoteWriteV2Message)
	}
	// Remote write speaks HTTP/1.1 unless told otherwise: HTTP/2 multiplexes
	// all shards over one connection, which limits throughput.
	if err := v.httpClient(&c.HTTPClientConfig, p, false); err != nil {
		return err
	}
	if err := checkQueue(&c.QueueConfig); err != nil {
		return v.wrap(p.key("queue_config"), err)
	}
	var auth []string
	h := c.HTTPClientConfig
	if h.BasicAuth != nil {
		auth = append(auth, "basic_auth")
	}
	if h.Authorization != nil {
		auth = append(auth, "authorization")
	}
	if h.OAuth2 != nil {
		auth = append(auth, "oauth2")
	}
	if len(auth) > 1 {
		return v.errorf(p, "at most one of basic_auth, authorization and oauth2 may be configured, got %s", strings.Join(auth, " and "))
	}
	return nil
}

func (v *validator) queueDefaults(q *QueueConfig, p pos) {
	setDefault(p, "capacity", &q.Capacity, DefaultQueueCapacity)
	setDefault(p, "max_shards", &q.MaxShards, DefaultQueueMaxShards)
	setDefault(p, "min_shards", &q.MinShards, DefaultQueueMinShards)
	setDefault(p, "max_samples_per_send", &q.MaxSamplesPerSend, DefaultQueueMaxSamplesPerSend)
	setDefault(p, "batch_send_deadline", &q.BatchSendDeadline, DefaultQueueBatchSendDeadline)
	setDefault(p, "min_backoff", &q.MinBackoff, DefaultQueueMinBackoff)
	setDefault(p, "max_backoff", &q.MaxBackoff, DefaultQueueMaxBackoff)
}

func checkQueue(q *QueueConfig) error {
	switch {
	case q.MaxShards <= 0:
		return errors.New("queue_config max_shards must be positive")
	case q.MinShards <= 0:
		return errors.New("queue_config min_shards must be positive")
	case q.MinShards > q.MaxShards:
		return errors.New("queue_config min_shards must not be greater than max_shards")
	case q.MaxSamplesPerSend <= 0:
		return errors.New("queue_config max_samples_per_send must be positive")
	case q.Capacity <= 0:
		return errors.New("queue_config capacity must be positive")
	case q.MaxBackoff < q.MinBackoff:
		return errors.New("queue_config max_backoff must not be less than min_backoff")
	}
	return nil
}

func (v *validator) remoteReads(rrs []*RemoteReadConfig, p pos) error {
	names := map[string]int{}
	for i, rr := range rrs {
		rp := p.index(i)
		if rr == nil {
			return v.errorf(rp, "empty or null remote_read entry")
		}
		if err := v.remoteRead(rr, rp); err != nil {
			return err
		}
		if rr.Name == "" {
			continue
		}
		if line, dup := names[rr.Name]; dup {
			return v.errorf(rp.key("name"), "found multiple remote_read configs with name %q (first at line %d)", rr.Name, line)
		}
		names[rr.Name] = rp.key("name").line
	}
	return nil
}

func (v *validator) remoteRead(c *RemoteReadConfig, p pos) error {
	setDefault(p, "remote_timeout", &c.RemoteTimeout, DefaultRemoteReadTimeout)
	setDefault(p, "chunked_read_limit", &c.ChunkedReadLimit, DefaultChunkedReadLimit)
	setDefault(p, "filter_external_labels", &c.FilterExternalLabels, true)
	if c.URL == nil || c.URL.URL == nil {
		return v.errorf(p, "url for remote_read is empty")
	}
	if err := checkURL(c.URL.URL); err != nil {
		return v.errorf(p.key("url"), "remote_read: %w", err)
	}
	if err := checkHeaders(c.Headers, "remote"); err != nil {
		return v.wrap(p.key("headers"), err)
	}
	return v.httpClient(&c.HTTPClientConfig, p, true)
}

// checkHeaders rejects headers the sender sets itself. Authorization has its
// own settings, which also redact the secret when the config is shown.
func checkHeaders(headers map[string]string, what string) error {
	for name := range headers {
		canonical := http.CanonicalHeaderKey(name)
		if canonical == "Authorization" {
			if what == "tracing" {
				return errors.New("a custom Authorization header is not supported for tracing")
			}
			return errors.New("the Authorization header must be set through basic_auth, authorization or oauth2")
		}
		if isReservedHeader(canonical) {
			return fmt.Errorf("header %q is reserved and cannot be set", name)
		}
	}
	return nil
}

func isReservedHeader(canonical string) bool {
	switch canonical {
	case "Host", "Content-Encoding", "Content-Length", "Content-Type", "User-Agent",
		"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Www-Authenticate", "Accept-Encoding", "X-Prometheus-Remote-Write-Version",
		"X-Prometheus-Remote-Read-Version", "X-Amz-Date", "X-Amz-Security-Token",
		"X-Amz-Content-Sha256":
		return true
	}
	return false
}
