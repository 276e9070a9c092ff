package gamify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// The write path. Every mutation is a command applied under the writer's
// mutex by the caller's own goroutine; commits happen on a committer
// goroutine, so the next batch is applied while the previous one is fsynced:
//
//	caller ── lock ──▶ apply the command to the working state, add its writes
//	                   to the open batch; land the committed batch, if any; seal
//	                   the open batch if the committer is idle
//	committer ──▶ append the sealed batch to the command log and stage its writes
//	              (encoding its users' state records) in the store while the
//	              fsync runs; once synced, make them visible, publish in-memory
//	              changes, notify, wake Durable callers, and hand the batch back
//	              for the lock's holder to land
//
// The first design fed a writer goroutine through a queue. Applying under a
// mutex keeps its guarantee — one command at a time, in a serial order, on
// one working state — without two goroutine hand-offs per event, which
// dominated the cost of a Buffered Track (measured: 65k events/s with the
// queue on one producer).
//
// The working state (user cache, pending idempotency keys and day aggregates,
// definitions, counters) reflects every applied command, committed or not; the
// store and everything readers see reflect committed batches only. At most one
// batch is in flight: the open batch is sealed only when the committer is
// idle, which makes the commit a group commit (everything applied during the
// previous fsync goes into the next one) without a timer. In Buffered mode a
// batch of answered-only commands waits up to MaxFlushDelay to grow.
//
// A command fails alone, leaving no trace: by returning an error, by a record
// the store would refuse (txn.storable: a key beyond bbolt's limit, a value
// that does not encode — checked before its changes join the batch, since a
// refused write fails the whole transaction, everyone's commands with it), or
// by a panic, which apply recovers. The locks are released by defer, so no
// failure can leave the writer held.
//
// If a commit fails, its callers get the error, and so do the Durable callers
// of the open batch, which was applied on top of it; the working state is then
// dropped and reloaded from the store, so nothing of either batch survives in
// memory. Buffered callers of those batches were already answered: their
// events are lost exactly as in a crash, logged, and reported by the next
// Flush.

// command is one mutation. apply runs on the writer goroutine; it must either
// fail having changed nothing or succeed having recorded all its changes in
// w (via a txn).
type command interface {
	apply(w *writer, now time.Time) (any, error)
}

// weigher is implemented by commands that count as more than one toward
// Options.MaxBatch (a TrackBatch counts its events).
type weigher interface{ weight() int }

func weight(c command) int {
	if w, ok := c.(weigher); ok {
		return max(w.weight(), 1)
	}
	return 1
}

// commandCheck, set by tests, sees every command applied: it checks that
// the command log could hold it.
var commandCheck func(c command, now time.Time)

type request struct {
	cmd     command
	now     time.Time
	durable bool   // answer after commit (else after apply)
	flush   bool   // seal the open batch at once
	replay  uint64 // the log position of a command replayed at Open (not logged again)
	// replayTag is the tag of a replayed command's position (logTag), none
	// for a replica's, which keeps no local log.
	replayTag positionTag
	done      chan response
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
	gen       uint64
	started   time.Time // wall time of the first command, for MaxFlushDelay
	size      int
	buffered  int // commands whose callers were answered before the commit
	writes    []write
	waiters   []*request
	replies   []response
	publish   []func()   // in-memory changes to make visible after commit
	yearMoves []yearMove // changes for the year-in-review distributions, after commit
	notes     []Notification
	noteMeta  []noteMeta // each note's outbox number and command time
	outboxSeq uint64     // the last outbox number given out when the batch was sealed
	lastNow   time.Time  // the time of the last command: the outbox's retention is counted from it
	hasFlush  bool
	// The batch's commands as command log records (commands.go), in the
	// order they were applied: records[ends[i-1]:ends[i]] is the i-th.
	records []byte
	ends    []int
	// replayTo is the log position of the last command of a batch replayed
	// at Open: its records are in the log already. replayTag is its tag.
	replayTo  uint64
	replayTag positionTag
	// states are the versions of the users the batch changed, whose state
	// records the committer encodes: out of the writer's lock, since
	// commands replace a version rather than change it.
	states []*userRec
	// arena holds the bytes of the writes the writer encodes (ledger
	// entries, award records).
	arena arena
	// notesHeld says a subscriber queued notes once the batch committed
	// (the committer's, handed to writer.land).
	notesHeld bool
}

// recycled returns an empty batch that reuses b's slices and arena, once b
// has committed or failed: the store copies what it stages and the log
// what it appends, so nothing refers to them any more. notesHeld says a
// subscriber queued b.notes, which then stay its.
func (b *batch) recycled(notesHeld bool) batch {
	clear(b.writes)
	clear(b.waiters)
	clear(b.replies)
	clear(b.publish)
	clear(b.states)
	n := batch{writes: b.writes[:0], waiters: b.waiters[:0], replies: b.replies[:0], publish: b.publish[:0], states: b.states[:0],
		yearMoves: b.yearMoves[:0], noteMeta: b.noteMeta[:0], records: b.records[:0], ends: b.ends[:0], arena: b.arena}
	if !notesHeld {
		clear(b.notes)
		n.notes = b.notes[:0]
	}
	n.arena.reset()
	return n
}

// arena carves byte slices out of chunks that outlive a batch (see
// batch.recycled): growing each batch's records afresh was a third of the
// bytes an event allocated.
type arena struct {
	chunks [][]byte
	n      int // chunks in use; the last of them is carved from
}

const arenaChunk = 64 << 10

// alloc returns an empty slice of capacity size. A slice never overlaps
// another: appending beyond its capacity copies it.
func (a *arena) alloc(size int) []byte {
	if size > arenaChunk/8 {
		return make([]byte, 0, size)
	}
	if a.n == 0 || cap(a.chunks[a.n-1])-len(a.chunks[a.n-1]) < size {
		if a.n == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
		}
		a.chunks[a.n] = a.chunks[a.n][:0]
		a.n++
	}
	c := a.chunks[a.n-1]
	l := len(c)
	a.chunks[a.n-1] = c[:l+size]
	return c[l : l : l+size]
}

// reset makes every chunk free again.
func (a *arena) reset() { a.n = 0 }

// noteMeta is what the outbox records of a note besides the note.
type noteMeta struct {
	seq uint64    // its outbox number, given as its command applied
	at  time.Time // its command's time
}

// dropNotes removes the notes drop selects (their numbers stay used).
func (b *batch) dropNotes(drop func(Notification) bool) {
	j := 0
	for i, n := range b.notes {
		if !drop(n) {
			b.notes[j], b.noteMeta[j] = n, b.noteMeta[i]
			j++
		}
	}
	clear(b.notes[j:])
	b.notes, b.noteMeta = b.notes[:j], b.noteMeta[:j]
}

// recs returns the batch's log records.
func (b *batch) recs() [][]byte {
	out := make([][]byte, len(b.ends))
	from := 0
	for i, end := range b.ends {
		out[i] = b.records[from:end:end]
		from = end
	}
	return out
}

// lastRecord returns the command log record of the batch's last command.
func (b *batch) lastRecord() []byte {
	n := len(b.ends)
	start := 0
	if n > 1 {
		start = b.ends[n-2]
	}
	return b.records[start:b.ends[n-1]]
}

func (b *batch) empty() bool { return b.size == 0 && len(b.waiters) == 0 }

type commitResult struct {
	gen   uint64
	err   error
	batch *batch // on failure, for the writer to answer its callers
}

// do runs cmd through the writer. Callers validate their input first, so
// that a bad request never reaches it.
func (e *Engine) do(ctx context.Context, cmd command, now time.Time, durable bool) (any, error) {
	r := &request{cmd: cmd, now: now, durable: durable}
	return e.submit(ctx, r)
}

func (e *Engine) submit(ctx context.Context, r *request) (any, error) {
	// Refused before it applies, so that the caller knows it changed
	// nothing: once applied, a command commits whatever ctx does.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e.repl != nil && r.replay == 0 {
		if _, local := r.cmd.(flushCmd); !local {
			return e.propose(ctx, r)
		}
	}
	val, err := e.enqueue(r)
	if err != nil || !r.durable {
		return val, err
	}
	select {
	case res := <-r.done:
		return res.val, res.err
	case <-ctx.Done():
		// The command was applied and will commit; idempotency keys make a
		// retry safe.
		return nil, ctx.Err()
	}
}

// enqueue applies r under the writer's lock. The locks are released by
// defer: whatever happens in a command, the writer stays usable.
func (e *Engine) enqueue(r *request) (any, error) {
	e.closeMu.RLock()
	defer e.closeMu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := checkClock(r.now); err != nil {
		return nil, err
	}
	// In UTC, as the command log records it: a command applies the same
	// live and at replay, whatever the clock's location.
	r.now = r.now.UTC()
	if r.durable {
		r.done = make(chan response, 1)
	}
	w := e.w
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.open.size >= w.opts.MaxBatch && w.inFlight {
		w.waitSealable() // backpressure: the committer is behind
	}
	val, err := w.handle(r)
	if !w.land() {
		w.maybeSeal()
	}
	return val, err
}

// checkClock refuses a call whose clock reading cannot be stored (a
// command's time stamps its records). A zero time is a command without one.
func checkClock(now time.Time) error {
	if gamifytype.EncodableTime(now) {
		return nil
	}
	return gamifytype.Invalid("Options.Clock", now, "reads a time outside the years 1678 to 2261")
}

// handle applies r to the working state. w.mu is held.
//
// The command's log record is encoded before it is applied (a command that
// cannot be logged is refused, having changed nothing) and joins the batch
// once it applied, so the log holds the commands in the order they were
// applied.
func (w *writer) handle(r *request) (any, error) {
	if r.replay != 0 && w.diverged != nil {
		return nil, w.diverged
	}
	rec := w.rec[:0]
	if tc, ok := r.cmd.(*trackCmd); ok && r.replay == 0 {
		tc.seed = w.seeds.Uint64() | 1 // never 0, which means none
	}
	if _, unlogged := r.cmd.(flushCmd); !unlogged && r.replay == 0 {
		var err error
		if rec, err = encodeCommand(rec, r.cmd, r.now); err != nil {
			w.stats.rejected++
			return nil, err
		}
		w.rec = rec
	}
	val, err := w.apply(r)
	if err != nil {
		w.stats.rejected++
		return nil, err
	}
	if !r.now.IsZero() {
		w.open.lastNow = r.now
	}
	if b := &w.open; len(rec) > 0 {
		b.records = append(b.records, rec...)
		b.ends = append(b.ends, len(b.records))
	} else if r.replay != 0 {
		b.replayTo, b.replayTag = r.replay, r.replayTag
	}
	if commandCheck != nil {
		commandCheck(r.cmd, r.now)
	}
	w.stats.commands++
	if tc, ok := r.cmd.(*trackCmd); ok {
		w.stats.events += uint64(len(tc.events))
	}
	b := &w.open
	if b.empty() {
		b.started = time.Now()
	}
	b.size += weight(r.cmd)
	if r.flush {
		b.hasFlush = true
	}
	if r.durable {
		b.waiters = append(b.waiters, r)
		b.replies = append(b.replies, response{val: val})
	} else {
		b.buffered++
	}
	return val, nil
}

// apply runs r's command. A panic in it (a bug, never user data) fails that
// command alone: the command's changes live in the writer's txn until
// txn.commit, so they are undone as for a command that returned an error,
// and the writer goes on with the next command.
func (w *writer) apply(r *request) (val any, err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		w.scratch.rollback()
		if pe, ok := p.(error); ok {
			err = fmt.Errorf("gamify: command panicked: %w", pe)
		} else {
			err = fmt.Errorf("gamify: command panicked: %v", p)
		}
		w.log.Error("gamify: command panicked; it was not applied", "err", err, "stack", string(debug.Stack()))
		val = nil
	}()
	return r.cmd.apply(w, r.now)
}

// lockLanded takes the writer's lock once no batch is in flight: the store
// then holds everything but the open batch, whose users are in w.users. For
// in-memory views built from the store (they are then kept current after
// each commit).
func (w *writer) lockLanded() {
	w.mu.Lock()
	for w.inFlight {
		w.waitSealable()
	}
}

// maybeSeal hands the open batch to the committer if it is idle and the
// batch should not wait; otherwise it makes sure a timer will. w.mu is held.
func (w *writer) maybeSeal() {
	b := &w.open
	if w.inFlight || b.empty() {
		return
	}
	wait := w.opts.MaxFlushDelay - time.Since(b.started)
	if w.closing || b.hasFlush || len(b.waiters) > 0 || b.size >= w.opts.MaxBatch || wait <= 0 {
		w.seal()
		return
	}
	if !w.timerArmed {
		w.timerArmed = true
		time.AfterFunc(wait, w.sealDue)
	}
}

// sealDue is the MaxFlushDelay timer: it seals the open batch if no holder
// of the lock did. It never blocks on the lock. A caller that holds it
// seals a due batch as it leaves (enqueue's maybeSeal); a timer waiting
// behind a producer that retakes the lock at once put the mutex in
// starvation mode, which hands it over and sends the producer to the back
// of the run queue (in a trace of a Buffered producer: 4 % of its time).
// The retries, backing off to MaxFlushDelay, cover a holder that leaves
// without sealing (a reader).
func (w *writer) sealDue() { w.sealDueAfter(landWait) }

func (w *writer) sealDueAfter(retry time.Duration) {
	if !w.mu.TryLock() {
		next := min(2*retry, max(w.opts.MaxFlushDelay, landWait))
		time.AfterFunc(retry, func() { w.sealDueAfter(next) })
		return
	}
	defer w.mu.Unlock()
	w.timerArmed = false
	if !w.land() {
		w.maybeSeal()
	}
}

// seal encodes the open batch's dirty state and hands it to the committer.
func (w *writer) seal() {
	b := w.open
	b.gen = w.gen
	if w.eng.parts.isReady() {
		ids := make([]string, 0, len(w.dirtyUsers))
		for id := range w.dirtyUsers {
			ids = append(ids, id)
		}
		if f := w.sealRows(ids); f != nil {
			b.publish = append(b.publish, f)
		}
	}
	b.writes, b.states = w.flushWrites(b.writes, b.states)
	b.outboxSeq = w.outboxSeq
	w.gen++
	w.open, w.spare = w.spare, batch{}
	w.inFlight = true
	w.eng.commits.inFlight.Store(int64(b.size))
	w.commits <- &b // never blocks: capacity 1 and nothing in flight
}

// stopped returns why a replicated engine stopped applying the shared log
// (a batch of it failed to land), or nil.
func (w *writer) stopped() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.diverged
}

// committed records the outcome of the batch in flight. w.mu is held.
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
	if w.eng.repl != nil {
		// Nothing is lost (the shared log holds it all), but this replica
		// can no longer apply the log in order: it stops.
		if w.diverged == nil {
			w.diverged = fmt.Errorf("%w: a batch of the shared log failed to land: %w", errDiverged, res.err)
			w.log.Error("gamify: a batch of the shared log failed to land; the replica stops applying until reopened", "err", res.err)
		}
		for _, r := range append(failed.waiters, open.waiters...) {
			r.done <- response{err: w.diverged}
		}
		return
	}
	// Logged before the callers hear, so a caller sees its failure logged.
	if (failed.buffered > 0 && !failed.hasFlush) || open.buffered > 0 {
		w.log.Error("gamify: commit failed; buffered events since the last commit are lost", "err", res.err)
		w.lostErr = res.err
	} else {
		w.log.Warn("gamify: commit failed; its callers were told", "err", res.err, "callers", len(failed.waiters)+len(open.waiters))
	}
	err := fmt.Errorf("gamify: commit: %w", res.err)
	for _, r := range failed.waiters {
		r.done <- response{err: err}
	}
	// The open batch was applied on top of the failed one: it fails too.
	openErr := fmt.Errorf("an earlier batch failed to commit: %w", res.err)
	for _, r := range open.waiters {
		r.done <- response{err: openErr}
	}
}

// commitLoop is the committer goroutine. A batch is durable once its
// records are in the command log (one append and one fsync); its writes are
// then staged in the store, visible to every reader at once, and reach the
// database file with the next checkpoint (checkpoint.go).
func (e *Engine) commitLoop() {
	defer close(e.committerExited)
	w := e.w
	wait := time.NewTimer(landWait)
	wait.Stop()
	var enc []byte // the state records' encoding, reused: the store copies what it stages
	var encKey [8]byte
	var unordered []write // the batch's writes staged in key order, reused
	for {
		b, ok := w.nextBatch(wait)
		if !ok {
			return
		}
		start := time.Now()
		var last, pos uint64
		var trimmed int
		var err error
		var synced <-chan error // the fsync of the batch's records, if it has any
		switch {
		case b.replayTo != 0:
			pos = b.replayTo
			if f := e.opts.beforeCommit; f != nil && e.repl != nil {
				err = f() // the fault seam of a replica's commit point: staging
			}
		case len(b.ends) > 0:
			pos, synced, err = e.appendLog(b)
		default:
			pos = e.db.Position()
		}
		var late *landedFault
		notesHeld := false
		if errors.As(err, &late) {
			err = nil // in the log: staged as landed, reported failed below
		}
		stage := func(tx *store.Tx) error {
			switch {
			case len(b.ends) > 0:
				tx.TagPosition(logTag(b.lastRecord()).v)
			case b.replayTag.ok:
				tx.TagPosition(b.replayTag.v)
			}
			// Idempotency records and day aggregates come from maps, in
			// random order: they are staged after the rest, in key order
			// (stably: writes of one key keep theirs), as the state records
			// are below.
			unordered = unordered[:0]
			for _, wr := range b.writes {
				if wr.ks == store.Idempotency || wr.ks == store.Daily {
					unordered = append(unordered, wr)
					continue
				}
				if err := stageWrite(tx, wr); err != nil {
					return err
				}
			}
			slices.SortStableFunc(unordered, func(x, y write) int {
				return cmp.Or(cmp.Compare(x.ks, y.ks), bytes.Compare(x.key, y.key))
			})
			for _, wr := range unordered {
				if err := stageWrite(tx, wr); err != nil {
					return err
				}
			}
			clear(unordered)
			// In key order: each put then finds the tree's path and the
			// file's page of the one before it in the cache (the dirty
			// users come from a map, in random order: sorting them cut the
			// commit's time by a third).
			slices.SortFunc(b.states, func(x, y *userRec) int { return cmp.Compare(x.p.UID, y.p.UID) })
			for _, u := range b.states {
				enc = u.s.marshal(enc[:0])
				binary.BigEndian.PutUint64(encKey[:], u.p.UID)
				if err := tx.Put(store.State, encKey[:], enc); err != nil {
					return err
				}
			}
			// The notifications go into the outbox with their cause; the
			// live subscribers get the same slice below.
			var err error
			last, trimmed, err = appendOutbox(tx, b.notes, b.noteMeta, b.outboxSeq, b.lastNow, e.opts.outboxRetention())
			return err
		}
		if err == nil && synced == nil {
			err = e.db.UpdateAt(pos, stage)
		} else if err == nil {
			// Staged while the fsync runs, and made visible only once it
			// succeeded: readers never see a batch the log may not hold.
			p, perr := e.db.PrepareAt(pos, stage)
			serr := <-synced
			if errors.As(serr, &late) {
				serr = nil // in the log: staged as landed, reported failed below
			}
			switch {
			case serr != nil:
				if p != nil {
					p.Discard()
				}
				err = serr
			case perr != nil:
				err = perr
			default:
				p.Install()
			}
		}
		if err == nil && late != nil {
			err = late
		}
		e.commits.observe(time.Since(start), err)
		if err == nil {
			for _, f := range b.publish {
				f()
			}
			e.years.apply(b.yearMoves)
			e.box.committed(last)
			if trimmed > 0 {
				w.log.Warn("gamify: outbox over OutboxHardLimit; entries not acknowledged by every consumer were removed", "entries", trimmed)
			}
			notesHeld = e.notify.publish(b.notes)
			for i, r := range b.waiters {
				r.done <- b.replies[i]
			}
		}
		if err == nil {
			e.afterBatch()
		}
		if e.opts.afterCommit != nil {
			e.opts.afterCommit()
		}
		if err != nil {
			// The callers are answered under the lock, once the working
			// state is reset, so that a retry finds it clean.
			w.mu.Lock()
			w.inFlight = false
			w.committed(commitResult{gen: b.gen, err: err, batch: b})
			w.spare = b.recycled(notesHeld)
			w.maybeSeal()
			w.sealable.Broadcast()
			w.mu.Unlock()
			continue
		}
		// Handed back without waiting for the lock: the caller holding it
		// lands the batch as it leaves (writer.land), sealing the next with
		// its own command in it. A committer blocked on a lock that callers
		// retake at once put the mutex in starvation mode, which hands it
		// over and sends the unlocking caller to the back of the run queue.
		b.notesHeld = notesHeld
		w.landing.Store(b)
		if w.mu.TryLock() {
			w.land()
			w.mu.Unlock()
		}
	}
}

// stageWrite stages one write of a batch.
func stageWrite(tx *store.Tx, wr write) error {
	if wr.val == nil {
		return tx.Delete(wr.ks, wr.key)
	}
	return tx.Put(wr.ks, wr.key, wr.val)
}

// landWait is how long the committer leaves a landed batch to the lock's
// holder before it takes the lock itself: a holder that leaves without
// landing it (one waiting on w.sealable, a reader) must not stall commits.
const landWait = 100 * time.Microsecond

// nextBatch returns the next sealed batch, landing the last one itself if no
// holder of the writer's lock did within landWait.
func (w *writer) nextBatch(t *time.Timer) (*batch, bool) {
	for w.landing.Load() != nil {
		t.Reset(landWait)
		select {
		case b, ok := <-w.commits: // the holder landed the last one and sealed b
			t.Stop()
			return b, ok
		case <-t.C:
			w.mu.Lock()
			w.land()
			w.mu.Unlock()
		}
	}
	b, ok := <-w.commits
	return b, ok
}

// land records the batch the committer handed back (w.landing): the
// committer is then idle and the open batch may be sealed. It reports
// whether there was one. w.mu is held.
func (w *writer) land() bool {
	b := w.landing.Swap(nil)
	if b == nil {
		return false
	}
	w.inFlight = false
	w.committed(commitResult{gen: b.gen, batch: b})
	w.spare = b.recycled(b.notesHeld)
	w.maybeSeal()
	w.sealable.Broadcast()
	return true
}

// waitSealable waits for the committer to land or fail a batch. w.mu is
// held.
func (w *writer) waitSealable() {
	if !w.land() {
		w.sealable.Wait()
	}
}
