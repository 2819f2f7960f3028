package notifier

import "sync"

// queue is a bounded FIFO of alerts awaiting delivery. Alerts are removed
// only when acknowledged, so a failed batch is sent again; when the queue
// is full the oldest alerts make room for new ones. Sequence numbers let
// an acknowledgement stay correct when overflow dropped part of the batch
// while it was in flight.
type queue struct {
	mu       sync.Mutex
	capacity int
	items    []queued
	nextSeq  uint64
	// ready has room for one wake-up: a push while the sender is busy
	// leaves it set for the sender's next wait.
	ready chan struct{}
}

type queued struct {
	seq   uint64
	alert *apiAlert
}

func newQueue(capacity int) *queue {
	return &queue{capacity: capacity, ready: make(chan struct{}, 1)}
}

// push appends alerts and returns how many of the oldest were dropped to
// stay within capacity.
func (q *queue) push(alerts []*apiAlert) int {
	if len(alerts) == 0 {
		return 0
	}
	q.mu.Lock()
	for _, a := range alerts {
		q.items = append(q.items, queued{seq: q.nextSeq, alert: a})
		q.nextSeq++
	}
	dropped := max(len(q.items)-q.capacity, 0)
	if dropped > 0 {
		// Copy so the dropped alerts do not stay reachable through the
		// backing array.
		q.items = append([]queued(nil), q.items[dropped:]...)
	}
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// peek returns up to n of the oldest alerts and the sequence number to
// acknowledge them with.
func (q *queue) peek(n int) ([]*apiAlert, uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.items))
	if n == 0 {
		return nil, 0
	}
	out := make([]*apiAlert, n)
	for i := range n {
		out[i] = q.items[i].alert
	}
	return out, q.items[n-1].seq
}

// ack removes the alerts up to and including sequence number last.
func (q *queue) ack(last uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := 0
	for i < len(q.items) && q.items[i].seq <= last {
		i++
	}
	q.items = q.items[i:]
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
