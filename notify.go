package gamify

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Notification is something that happened, delivered to subscribers after
// the commit that made it durable. Switch on the concrete type.
type Notification interface {
	// UserID is the user the notification is about.
	UserID() string
}

// UserCreated is sent when a user is first seen.
type UserCreated struct {
	User string
	At   time.Time
}

// UserID implements Notification.
func (n UserCreated) UserID() string { return n.User }

// Subscription is a registered subscriber.
type Subscription struct {
	n        *notifier
	mu       sync.Mutex // guards queue and closed
	cond     sync.Cond  // signalled when queue grows or closed is set
	queue    [][]Notification
	closed   bool
	dropping bool         // the last commit offered was dropped: a drop episode is logged once
	pending  atomic.Int64 // notifications queued and not yet handed to the callback
	dropped  atomic.Uint64
	done     chan struct{}
	once     sync.Once
}

// Dropped is the number of notifications lost because the subscriber's
// buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes and waits for the callback to return; notifications
// already queued are delivered first.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.n.remove(s)
		s.stop()
	})
	<-s.done
}

func (s *Subscription) stop() {
	s.mu.Lock()
	s.closed = true
	s.cond.Signal()
	s.mu.Unlock()
}

// notifier fans notifications out to subscribers. Each subscriber has a queue
// and its own dispatcher goroutine, so a slow subscriber loses notifications
// (counted) instead of stalling the committer: the committer only appends to
// queues, it never waits for a callback. One committer publishes in commit
// order, so every subscriber sees each user's notifications in order.
//
// The queue admits or drops whole commits. A commit is admitted when fewer
// than Options.NotifyBuffer notifications wait for the callback, however many
// it holds: a commit can carry thousands (a TrackBatch of 1000 new users
// emits a UserCreated each, plus a PointsChanged per system with a
// user_creation trigger, achievements, streaks), more than any fixed buffer a
// subscriber would size for one event, and a subscriber that keeps up must
// never lose part of one. A subscriber that is behind by NotifyBuffer
// notifications or more loses the commits that arrive meanwhile, whole, so
// what it receives is always complete commits. Memory per subscriber is thus
// bounded by NotifyBuffer plus one commit (itself bounded by Options.MaxBatch
// commands); the queued commits share the batch's slice, so admitting one
// copies nothing.
type notifier struct {
	buf    int
	log    *slog.Logger
	mu     sync.Mutex // guards subs and closed
	subs   []*Subscription
	closed bool

	// Engine-wide counts for Stats.
	delivered, dropped, panics atomic.Uint64
}

func newNotifier(buf int, log *slog.Logger) *notifier { return &notifier{buf: buf, log: log} }

// Subscribe calls fn, on a goroutine of its own, for each notification
// committed from now on. fn must not call back into the Engine's writes
// synchronously in a way that waits for its own delivery. A panic in fn is
// recovered, logged and counted (Stats.CallbackPanics); delivery goes on
// with the next notification. A nil fn, or a call after Close, returns a
// subscription that is already closed and receives nothing.
func (e *Engine) Subscribe(fn func(Notification)) *Subscription {
	s := &Subscription{n: e.notify, done: make(chan struct{})}
	s.cond.L = &s.mu
	n := e.notify
	n.mu.Lock()
	defer n.mu.Unlock()
	if fn == nil || n.closed {
		s.closed = true
		close(s.done)
		return s
	}
	n.subs = append(n.subs, s)
	go s.dispatch(fn)
	return s
}

// dispatch is the subscriber's goroutine: it hands queued notifications to
// fn, in order, until the subscription is closed and its queue drained.
func (s *Subscription) dispatch(fn func(Notification)) {
	defer close(s.done)
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		notes := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		for _, n := range notes {
			// Counted out as it is handed over, as a channel buffer would:
			// the one the callback holds does not occupy the buffer.
			s.pending.Add(-1)
			s.deliver(fn, n)
		}
	}
}

// deliver hands one notification to fn, recovering a panic so that one bad
// notification neither kills the process nor stops the subscription.
func (s *Subscription) deliver(fn func(Notification), n Notification) {
	defer func() {
		if p := recover(); p != nil {
			s.n.panics.Add(1)
			s.n.log.Warn("gamify: subscriber callback panicked", "notification", fmt.Sprintf("%T", n), "user", n.UserID(), "panic", p)
		}
	}()
	fn(n)
	s.n.delivered.Add(1)
}

// offer queues one commit's notifications, or drops them all if the
// subscriber is NotifyBuffer or more behind. It never blocks on fn.
func (s *Subscription) offer(notes []Notification, buf int) (queued bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.pending.Load() >= int64(buf) {
		s.dropped.Add(uint64(len(notes)))
		s.n.dropped.Add(uint64(len(notes)))
		if !s.dropping {
			s.dropping = true
			s.n.log.Warn("gamify: subscriber is behind; dropping notifications until it catches up",
				"buffer", buf, "dropped_now", len(notes), "dropped_total", s.dropped.Load())
		}
		return false
	}
	s.dropping = false
	s.pending.Add(int64(len(notes)))
	s.queue = append(s.queue, notes)
	s.cond.Signal()
	return true
}

func (n *notifier) remove(s *Subscription) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, x := range n.subs {
		if x == s {
			n.subs = append(n.subs[:i], n.subs[i+1:]...)
			return
		}
	}
}

// publish queues one commit's notifications for every subscriber. It
// reports whether one queued them: the committed batch then leaves notes
// alone, where it would otherwise reuse them (batch.recycled).
func (n *notifier) publish(notes []Notification) (held bool) {
	if len(notes) == 0 {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.subs {
		held = s.offer(notes, n.buf) || held
	}
	return held
}

func (n *notifier) close() {
	n.mu.Lock()
	subs := n.subs
	n.subs = nil
	n.closed = true
	n.mu.Unlock()
	for _, s := range subs {
		s.once.Do(s.stop)
	}
}
