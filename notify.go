package gamify

import (
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
	n       *notifier
	ch      chan Notification
	dropped atomic.Uint64
	done    chan struct{}
	once    sync.Once
}

// Dropped is the number of notifications lost because the subscriber's
// buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes and waits for the callback to return.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.n.remove(s)
		close(s.ch)
	})
	<-s.done
}

// notifier fans notifications out to subscribers. Each has a buffered channel
// and its own goroutine, so a slow subscriber loses notifications (counted)
// instead of stalling the committer. One committer publishes in commit order,
// so every subscriber sees each user's notifications in order.
type notifier struct {
	buf  int
	mu   sync.Mutex // guards subs
	subs []*Subscription
}

func newNotifier(buf int) *notifier { return &notifier{buf: buf} }

// Subscribe calls fn, on a goroutine of its own, for each notification
// committed from now on. fn must not call back into the Engine's writes
// synchronously in a way that waits for its own delivery.
func (e *Engine) Subscribe(fn func(Notification)) *Subscription {
	s := &Subscription{n: e.notify, ch: make(chan Notification, e.notify.buf), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for n := range s.ch {
			fn(n)
		}
	}()
	e.notify.mu.Lock()
	e.notify.subs = append(e.notify.subs, s)
	e.notify.mu.Unlock()
	return s
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

func (n *notifier) publish(notes []Notification) {
	if len(notes) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range n.subs {
		for _, note := range notes {
			select {
			case s.ch <- note:
			default:
				s.dropped.Add(1)
			}
		}
	}
}

func (n *notifier) close() {
	n.mu.Lock()
	subs := n.subs
	n.subs = nil
	n.mu.Unlock()
	for _, s := range subs {
		s.once.Do(func() { close(s.ch) })
	}
}
