// Package remote owns the wire codecs of Prometheus's remote protocols: the
// Remote-Write 1.0 and 2.0 request bodies, the remote-read request and its
// two response encodings (sampled and streamed XOR chunks), and the framing
// of streamed responses. It validates what arrives from the network and
// leaves storage and HTTP concerns to its callers, so the receiver in web
// and a future sender or remote-read client share one implementation.
package remote
