package gamify

import (
	"context"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/store"
)

// The write path. Every mutation is a command applied by one writer
// goroutine; commits happen on a second goroutine so that the writer keeps
// applying the next batch while the previous one is being fsynced:
//
//	callers ──queue──▶ writer: apply each command to the working state,
//	                           collect its writes into the open batch
//	                   writer ──(committer idle)──▶ committer: one bbolt
//	                           transaction, one fsync, then publish in-memory
//	                           changes, wake Durable callers, notify
//
// The working state (user cache, pending idempotency keys and day aggregates,
// definitions, counters) reflects every applied command, committed or not; the
// store and everything readers see reflect committed batches only. At most one
// batch is in flight: the writer seals the open batch only when the committer
// is idle, which is what makes the commit a group commit (everything that
// arrived during the previous fsync goes into the next one) without a timer.
//
// If a commit fails, its callers get the error, and so do the Durable callers
// of the open batch, which was applied on top of it; the writer then drops its
// working state and reloads it from the store, so nothing of either batch
// survives in memory. Buffered callers of those batches were already answered:
// their events are lost exactly as in a crash, logged, and reported by the
// next Flush.

// command is one mutation. apply runs on the writer goroutine; it must either
// fail having changed nothing or succeed having recorded all its changes in
// w (via a txn).
type command interface {
	apply(w *writer, now time.Time) (any, error)
}

type request struct {
	cmd     command
	now     time.Time
	durable bool // answer after commit (else after apply)
	flush   bool // seal the open batch at once
	done    chan response
}

type response struct {
	val any
	err error
}

// write is one key change of a sealed batch; val nil deletes.
type write struct {
	ks       store.Keyspace
	key, val []byte
}

type batch struct {
	gen      uint64
	started  time.Time // wall time of the first command, for MaxFlushDelay
	size     int
	writes   []write
	waiters  []*request
	replies  []response
	publish  []func() // in-memory changes to make visible after commit
	notes    []Notification
	hasFlush bool
}

func (b *batch) empty() bool { return b.size == 0 && len(b.waiters) == 0 }

type commitResult struct {
	gen   uint64
	err   error
	batch *batch // on failure, for the writer to answer its callers
}

// do runs cmd through the writer. Callers validate their input first, so
// that a bad request never reaches the queue.
func (e *Engine) do(ctx context.Context, cmd command, now time.Time, durable bool) (any, error) {
	r := &request{cmd: cmd, now: now, durable: durable, done: make(chan response, 1)}
	return e.submit(ctx, r)
}

func (e *Engine) submit(ctx context.Context, r *request) (any, error) {
	e.closeMu.RLock()
	if e.closed {
		e.closeMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case e.w.queue <- r:
	case <-ctx.Done():
		e.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	e.closeMu.RUnlock()
	select {
	case res := <-r.done:
		return res.val, res.err
	case <-ctx.Done():
		// The command may still be applied; idempotency keys make a retry safe.
		return nil, ctx.Err()
	}
}

// run is the writer goroutine.
func (w *writer) run() {
	defer close(w.exited)
	var timer *time.Timer
	var timerC <-chan time.Time
	stopping := false
	for {
		queue := w.queue
		if w.open.size >= w.opts.MaxBatch && w.inFlight {
			queue = nil // backpressure: wait for the committer
		}
		if stopping && len(w.queue) == 0 && w.open.empty() && !w.inFlight {
			close(w.commits)
			return
		}
		select {
		case r := <-queue:
			w.handle(r)
			// Drain what is waiting, up to the cap, without blocking.
			for n := 1; n < w.opts.MaxBatch; n++ {
				select {
				case r := <-w.queue:
					w.handle(r)
					continue
				default:
				}
				break
			}
		case res := <-w.results:
			w.inFlight = false
			w.committed(res)
		case <-timerC:
			timerC = nil
		case <-w.stop:
			stopping = true
			w.stop = nil
		}
		if !w.inFlight && !w.open.empty() {
			if w.shouldSeal(stopping) {
				w.seal()
			} else if timerC == nil {
				d := w.opts.MaxFlushDelay - time.Since(w.open.started)
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				timerC = timer.C
			}
		}
	}
}

func (w *writer) shouldSeal(stopping bool) bool {
	b := &w.open
	return stopping || b.hasFlush || len(b.waiters) > 0 || b.size >= w.opts.MaxBatch ||
		time.Since(b.started) >= w.opts.MaxFlushDelay
}

func (w *writer) handle(r *request) {
	b := &w.open
	if b.empty() {
		b.started = time.Now()
	}
	val, err := r.cmd.apply(w, r.now)
	if err != nil {
		r.done <- response{err: err}
		return
	}
	if r.flush {
		b.hasFlush = true
	}
	b.size++
	if r.durable {
		b.waiters = append(b.waiters, r)
		b.replies = append(b.replies, response{val: val})
		return
	}
	r.done <- response{val: val}
}

// seal encodes the open batch's dirty state and hands it to the committer.
func (w *writer) seal() {
	b := w.open
	b.gen = w.gen
	b.writes = w.flushWrites(b.writes)
	w.gen++
	w.open = batch{}
	w.inFlight = true
	w.commits <- &b
}

// committed runs on the writer after the committer finished a batch.
func (w *writer) committed(res commitResult) {
	if res.err == nil {
		w.forgetCommitted(res.gen)
		return
	}
	// Reset first, so that a caller told of the failure finds the working
	// state already clean when it retries.
	if err := w.reload(); err != nil {
		w.log.Error("gamify: reload after failed commit", "err", err)
	}
	open := w.open
	w.open = batch{}
	failed := res.batch
	err := fmt.Errorf("gamify: commit: %w", res.err)
	for _, r := range failed.waiters {
		r.done <- response{err: err}
	}
	// The open batch was applied on top of the failed one: it fails too.
	openErr := fmt.Errorf("an earlier batch failed to commit: %w", res.err)
	for _, r := range open.waiters {
		r.done <- response{err: openErr}
	}
	if (failed.size > len(failed.waiters) && !failed.hasFlush) || open.size > len(open.waiters) {
		w.log.Error("gamify: commit failed; buffered events since the last commit are lost", "err", res.err)
		w.lostErr = res.err
	}
}

// commitLoop is the committer goroutine.
func (e *Engine) commitLoop() {
	defer close(e.committerExited)
	for b := range e.w.commits {
		err := e.db.Update(func(tx *store.Tx) error {
			for _, wr := range b.writes {
				var err error
				if wr.val == nil {
					err = tx.Delete(wr.ks, wr.key)
				} else {
					err = tx.Put(wr.ks, wr.key, wr.val)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// The writer answers the callers once it has reset its state.
			e.w.results <- commitResult{gen: b.gen, err: err, batch: b}
			continue
		}
		for _, f := range b.publish {
			f()
		}
		e.notify.publish(b.notes)
		for i, r := range b.waiters {
			r.done <- b.replies[i]
		}
		e.w.results <- commitResult{gen: b.gen}
	}
}
