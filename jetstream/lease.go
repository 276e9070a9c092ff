package jetstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// leaseKey is the key of the scheduler's lease in the lease bucket.
const leaseKey = "scheduler"

// lease is the scheduler's lease: a key in a KV bucket whose TTL is the
// lease's length, created with compare-and-set (Create succeeds only if the
// key is absent, deleted or expired) and renewed by updating it at the
// revision this holder wrote last. A holder that stops renewing loses it
// when the bucket's TTL ages the key out.
type lease struct {
	until  atomic.Int64 // monotonic deadline of the lease held, ns since epoch; 0 if none
	epoch  time.Time    // the origin of until, for monotonic readings
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	rev    uint64 // revision written last; the goroutine's alone
}

func (s *lease) start(l *Log) {
	s.epoch = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(ctx, l)
}

// held reports whether the lease is held now and unexpired by the local
// clock (counted from before the write that took or renewed it, less a
// tenth for clock-rate differences with the servers).
func (s *lease) held() bool {
	until := s.until.Load()
	return until != 0 && int64(time.Since(s.epoch)) < until
}

func (s *lease) run(ctx context.Context, l *Log) {
	defer close(s.done)
	ttl := l.cfg.LeaseTTL
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		s.attempt(ctx, l)
		select {
		case <-ctx.Done():
			s.release(l)
			return
		case <-tick.C:
		}
	}
}

// attempt takes the lease if it is free, or renews it if held.
func (s *lease) attempt(ctx context.Context, l *Log) {
	ttl := l.cfg.LeaseTTL
	began := time.Since(s.epoch)
	actx, cancel := context.WithTimeout(ctx, ttl/3)
	defer cancel()
	var rev uint64
	var err error
	if s.rev != 0 {
		rev, err = l.kv.Update(actx, leaseKey, []byte(l.cfg.Name), s.rev)
	} else {
		rev, err = l.kv.Create(actx, leaseKey, []byte(l.cfg.Name))
	}
	switch {
	case err == nil:
		s.rev = rev
		s.until.Store(int64(began + ttl - ttl/10))
	case s.rev != 0 && !transient(err):
		// Someone else wrote the key: our lease expired and was taken.
		s.rev = 0
		s.until.Store(0)
	case errors.Is(err, natsjs.ErrKeyExists):
		// Held by another replica.
	default:
		// Unreachable for now: the lease ends when its time does.
	}
}

// release deletes the key if this replica still holds it, so another takes
// over without waiting for the TTL.
func (s *lease) release(l *Log) {
	s.until.Store(0)
	if s.rev == 0 || l.nc.IsClosed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = l.kv.Delete(ctx, leaseKey, natsjs.LastRevision(s.rev))
	s.rev = 0
}

func (s *lease) stop() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
			<-s.done
		}
	})
}

// Leader reports whether this replica holds the scheduler's lease now.
func (l *Log) Leader() bool { return l.lease.held() }
