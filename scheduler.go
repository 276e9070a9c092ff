package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// Scheduled jobs (leaderboard runs, boost windows, streak period ends, time
// triggers, pruning) are registered by the features that need them. Each job
// persists the due time of its last completed occurrence, in the same
// transaction as the occurrence's effects, so an occurrence is applied
// exactly once even across crashes, and Open after downtime catches up on
// every missed occurrence in time order. Occurrences run through the writer
// like any other mutation.
//
// With the system clock a runner goroutine sleeps until the earliest due
// job. With a ManualClock nothing runs by itself: call RunDue after moving
// the clock.

// job is a recurring piece of work.
type job struct {
	id    string
	sched schedule.Schedule
	// run applies the occurrence due at due. It runs on the writer inside a
	// txn: an error or panic discards its changes and the occurrence is
	// retried later with backoff.
	run func(t *txn, due time.Time) error
	// skipTo, if set, may move a catch-up occurrence due at due to a later
	// one at or before now, the occurrences between having nothing to do but
	// be recorded. It runs in the occurrence's txn, and only once the
	// occurrence is past the catch-up bound (catchUpMaxDefault).
	skipTo func(t *txn, due, now time.Time) time.Time
}

// catchUpMaxDefault bounds the occurrences of one job that one RunDue (or
// Open's catch-up, or a step of the runner) runs one by one. Past it, a job
// that can skips the occurrences with nothing to do (a leaderboard's runs
// without participants), and past twice it the job's remaining occurrences
// wait for the next RunDue (under the system clock the runner goes on at
// once, in the background). A clock jump of years thus costs Open a bounded
// time and file growth, whatever the jump.
const catchUpMaxDefault = 100

type scheduler struct {
	mu        sync.Mutex // guards the fields below
	jobs      map[string]*job
	defs      map[string]*job      // the jobs given to register, by id, for its command to find
	next      map[string]time.Time // job id → the occurrence to run next
	failures  map[string]int       // consecutive failures, for backoff
	queue     schedule.Queue       // job id → when to attempt next
	wake      chan struct{}        // poked when an earlier attempt is queued
	backdates map[string]bool      // achievements with backdating pending

	ran, failed, collapsed uint64 // occurrences, for Stats
}

func newScheduler() *scheduler {
	return &scheduler{jobs: map[string]*job{}, defs: map[string]*job{}, next: map[string]time.Time{}, failures: map[string]int{},
		wake: make(chan struct{}, 1)}
}

// Backoff bounds for a failing job.
const (
	jobRetryMin = time.Second
	jobRetryMax = 5 * time.Minute
)

func jobKey(id string) []byte { return []byte(id) }

// register adds (or replaces) a job. Its first occurrence is the one after
// its last completed one; a job never run before starts after now, and that
// start is recorded so that downtime before its first run is caught up.
//
// A job holds functions, which a command cannot carry: the command names
// the job, and finds it among the jobs given to register.
func (e *Engine) register(ctx context.Context, j *job) error {
	s := e.sched
	s.mu.Lock()
	s.defs[j.id] = j
	s.mu.Unlock()
	_, err := e.exec(ctx, e.now(), registerJobOp.cmd(j.id))
	if err != nil {
		return fmt.Errorf("register job %s: %w", j.id, err)
	}
	return nil
}

var registerJobOp = newOp("job.register", func(t *txn, id string) (any, error) {
	s := t.w.eng.sched
	s.mu.Lock()
	j, ok := s.defs[id]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("gamify: job %s is unknown", id)
	}
	return nil, t.registerJob(j)
})

// registerJob registers j as part of a command; the scheduler learns of it
// when the command commits.
func (t *txn) registerJob(j *job) error {
	last, ok, err := t.w.jobLast(j.id)
	if err != nil {
		return err
	}
	if !ok {
		last = t.now
		t.writes = append(t.writes, write{store.Jobs, jobKey(j.id), encodeJobTime(last)})
	}
	s := t.w.eng.sched
	t.publish = append(t.publish, func() { s.add(j, last) })
	return nil
}

func (s *scheduler) add(j *job, last time.Time) {
	s.mu.Lock()
	s.jobs[j.id] = j
	delete(s.failures, j.id)
	next := j.sched.Next(last)
	if next.IsZero() {
		delete(s.next, j.id)
		s.queue.Remove(j.id)
	} else {
		s.next[j.id] = next
		s.queue.Push(j.id, next)
	}
	s.mu.Unlock()
	s.poke()
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func encodeJobTime(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

// jobLast reads the last completed occurrence of a job from the store. Job
// records are written only by admin commands, which commit before the
// scheduler reads again, so the store is current.
func (w *writer) jobLast(id string) (last time.Time, ok bool, err error) {
	err = w.db.View(func(tx *store.Tx) error {
		last, ok, err = w.jobLastTx(tx, id)
		return err
	})
	return last, ok, err
}

func (w *writer) jobLastTx(tx *store.Tx, id string) (time.Time, bool, error) {
	b := tx.Get(store.Jobs, jobKey(id))
	if b == nil {
		return time.Time{}, false, nil
	}
	if len(b) != 8 {
		return time.Time{}, false, fmt.Errorf("gamify: corrupt job record %s", id)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC(), true, nil
}

// RunDue runs the job occurrences due at the clock's current time, in
// order of due time (then job id), each at most once, then the streak period
// ends that fell due, and returns how many occurrences and streak updates
// ran. A failing occurrence is logged and retried later with backoff; it
// does not stop the others. Catch-up is bounded: past 100 occurrences of
// one job, leaderboard runs without participants are skipped, and past 200
// the rest wait for the next call (call again until it returns 0). Use it
// with a ManualClock; with the system clock the engine runs due jobs by
// itself. A replicated engine runs them only while it is the log's leader
// (ReplicatedLog.Leader): elsewhere RunDue returns 0.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	if err := e.live(); err != nil {
		return 0, err
	}
	return e.runDue(ctx, e.now())
}

func (e *Engine) runDue(ctx context.Context, now time.Time) (int, error) {
	if e.repl != nil && !e.repl.log.Leader() {
		return 0, nil // the leader proposes job runs for every replica
	}
	s := e.sched
	ran := 0
	limit := cmp.Or(e.opts.catchUpMax, catchUpMaxDefault)
	steps := map[string]int{} // occurrences run by this call, by job
	var deferred []*job       // jobs past 2*limit: out of the queue until the call ends
	defer func() {
		s.mu.Lock()
		for _, j := range deferred {
			if s.jobs[j.id] == j { // not replaced meanwhile (that queued it anew)
				if next, ok := s.next[j.id]; ok {
					s.queue.Push(j.id, next)
				}
			}
		}
		s.mu.Unlock()
		if len(deferred) > 0 {
			s.poke() // the runner goes on with them
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return ran, err
		}
		s.mu.Lock()
		id, attempt, ok := s.queue.Peek()
		if ok && !attempt.After(now) && steps[id] >= 2*limit {
			s.queue.Remove(id)
			deferred = append(deferred, s.jobs[id])
			s.mu.Unlock()
			continue
		}
		if !ok || attempt.After(now) {
			s.mu.Unlock()
			n, err := e.advanceDueStreaks(ctx, now)
			if err != nil {
				return ran + n, err
			}
			m, err := e.runBackdates(ctx, now)
			if err != nil {
				return ran + n + m, err
			}
			p, err := e.payDueTime(ctx, now)
			return ran + n + m + p, err
		}
		j, due := s.jobs[id], s.next[id]
		s.mu.Unlock()

		steps[id]++
		done, err := e.runOccurrence(ctx, j, due, now, steps[id] > limit)
		if err == ErrClosed {
			return ran, err
		}
		s.mu.Lock()
		if s.jobs[id] != j { // replaced meanwhile: the new registration decides
			s.mu.Unlock()
			continue
		}
		if err != nil {
			s.failures[id]++
			backoff := min(jobRetryMin<<min(s.failures[id]-1, 20), jobRetryMax)
			s.queue.Push(id, now.Add(backoff))
			s.failed++
			e.opts.Logger.Warn("gamify: scheduled job failed", "job", id, "due", due, "retry_in", backoff, "err", err)
			s.mu.Unlock()
			// Later occurrences of other jobs may still be due: go on.
			continue
		}
		ran++
		s.ran++
		if done.After(due) {
			s.collapsed++
		}
		delete(s.failures, id)
		next := j.sched.Next(done)
		if next.IsZero() {
			delete(s.next, id)
			s.queue.Remove(id)
		} else {
			s.next[id] = next
			s.queue.Push(id, next)
		}
		s.mu.Unlock()
	}
}

// runOccurrence applies one occurrence and records it as completed, in one
// commit, and returns the occurrence it completed: due, or with skip a later
// one chosen by the job's skipTo. An occurrence at or before the recorded one
// is skipped, which makes a retry after an ambiguous failure safe.
func (e *Engine) runOccurrence(ctx context.Context, j *job, due, now time.Time, skip bool) (time.Time, error) {
	// In UTC: a schedule's times carry its zone, which a logged time does not.
	v, err := e.exec(ctx, now, runJobOp.cmd(runJobArgs{Job: j.id, Due: due.UTC(), Skip: skip}))
	if err != nil {
		return due, err
	}
	return v.(time.Time), nil
}

type runJobArgs struct {
	Job  string
	Due  time.Time
	Skip bool `json:",omitempty"` // past the catch-up bound: the job's skipTo may move Due
}

// runJobOp runs an occurrence of a registered job, found by its id.
var runJobOp = newOp("job.run", func(t *txn, a runJobArgs) (done time.Time, err error) {
	s := t.w.eng.sched
	s.mu.Lock()
	j, ok := s.jobs[a.Job]
	s.mu.Unlock()
	if !ok {
		return time.Time{}, fmt.Errorf("gamify: job %s is not registered", a.Job)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job %s panicked: %v", j.id, p)
		}
	}()
	due := a.Due
	last, ok, err := t.w.jobLast(j.id)
	if err != nil {
		return time.Time{}, err
	}
	if ok && !due.After(last) {
		return due, nil
	}
	if a.Skip && j.skipTo != nil {
		if d := j.skipTo(t, due, t.now); d.After(due) && !d.After(t.now) {
			due = d
		}
	}
	if err := j.run(t, due); err != nil {
		return time.Time{}, err
	}
	t.writes = append(t.writes, write{store.Jobs, jobKey(j.id), encodeJobTime(due)})
	return due, nil
})

// runner runs due jobs on time under the system clock until ctx ends.
func (e *Engine) runner(ctx context.Context) {
	defer close(e.runnerExited)
	s := e.sched
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if _, err := e.runDue(ctx, e.now()); err != nil && ctx.Err() == nil && err != ErrClosed {
			e.opts.Logger.Warn("gamify: running due jobs", "err", err)
		}
		s.mu.Lock()
		_, attempt, ok := s.queue.Peek()
		s.mu.Unlock()
		wait := time.Hour
		if ok {
			wait = max(attempt.Sub(e.now()), 0)
		}
		s.mu.Lock()
		if len(s.backdates) > 0 {
			wait = 0
		}
		s.mu.Unlock()
		e.w.mu.Lock()
		_, due, ok := e.w.streakQueue.Peek()
		_, tdue, tok := e.w.timeQueue.Peek()
		e.w.mu.Unlock()
		if ok {
			wait = min(wait, max(due.Sub(e.now()), 0))
		}
		if tok {
			wait = min(wait, max(tdue.Sub(e.now()), 0))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// pruneBatch bounds the idempotency records one pruning occurrence deletes,
// so that it never holds the writer for long.
const pruneBatch = 50_000

func (e *Engine) registerBuiltinJobs() error {
	if err := e.loadBackdates(); err != nil {
		return err
	}
	if err := e.rebuildTimeQueue(); err != nil {
		return err
	}
	// The jobs the file or the log registered are known (knownJobs): only
	// the others take a command.
	if err := e.knownJobs(); err != nil {
		return err
	}
	known := func(id string) bool {
		e.sched.mu.Lock()
		defer e.sched.mu.Unlock()
		_, ok := e.sched.jobs[id]
		return ok
	}
	cat := e.cat.Load()
	for ref := uint32(1); ref <= cat.lastBoardRef; ref++ {
		if b, ok := cat.boardByRef[ref]; ok && b.hasRuns() && !known(boardJob(b).id) {
			if _, err := e.exec(context.Background(), e.now(), scheduleBoardOp.cmd(b.Key)); err != nil {
				return err
			}
		}
	}
	// The boost job is registered with the first boost (boostsChanged).
	if j := e.boostJob(); !known(j.id) && len(cat.points.boosts) > 0 {
		if err := e.register(context.Background(), j); err != nil {
			return err
		}
	}
	if j := pruneJob(); e.opts.IdempotencyWindow > 0 && !known(j.id) {
		if err := e.register(context.Background(), j); err != nil {
			return err
		}
	}
	return nil
}

func pruneJob() *job {
	hourly, err := schedule.ParseCron("@hourly", time.UTC)
	if err != nil {
		panic(err) // a constant
	}
	return &job{id: "builtin/prune-idempotency", sched: hourly, run: pruneIdempotency,
		skipTo: func(_ *txn, _, now time.Time) time.Time { return now.Truncate(time.Hour) }}
}

// knownJobs tells the scheduler of the jobs the store has registered, with
// their last completed occurrences: before the command log is replayed, so
// that a replayed occurrence finds its job, and after, when the replay moved
// them on.
func (e *Engine) knownJobs() error {
	var jobs []*job
	cat := e.cat.Load()
	for ref := uint32(1); ref <= cat.lastBoardRef; ref++ {
		if b, ok := cat.boardByRef[ref]; ok && b.hasRuns() {
			jobs = append(jobs, boardJob(b))
		}
	}
	jobs = append(jobs, e.boostJob())
	if e.opts.IdempotencyWindow > 0 {
		j := pruneJob()
		e.sched.mu.Lock()
		e.sched.defs[j.id] = j
		e.sched.mu.Unlock()
		jobs = append(jobs, j)
	}
	for _, j := range jobs {
		last, ok, err := e.w.jobLast(j.id)
		if err != nil {
			return err
		}
		if ok {
			e.sched.add(j, last)
		}
	}
	return nil
}

// scheduleBoardOp registers the rollover job of a board with runs, at Open.
var scheduleBoardOp = newOp("leaderboard.schedule", func(t *txn, key string) (any, error) {
	b, ok := t.w.cat.boards[key]
	if !ok {
		return nil, fmt.Errorf("leaderboard %s: %w", key, ErrNotFound)
	}
	if b.hasRuns() {
		t.registerBoard(b)
	}
	return nil, nil
})

// pruneIdempotency deletes idempotency records older than the window (up to
// pruneBatch per occurrence; the rest go at the next one).
func pruneIdempotency(t *txn, due time.Time) error {
	w := t.w
	cutoff := due.Add(-w.opts.IdempotencyWindow).UnixNano()
	n := 0
	return w.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Idempotency, nil, func(k, v []byte) error {
			if _, pending := w.pendingIdem[string(k)]; pending {
				return nil // rewritten by an uncommitted event: not ours to delete
			}
			rec, err := decodeIdem(v)
			if err != nil {
				return err
			}
			if rec.at < cutoff {
				t.writes = append(t.writes, write{store.Idempotency, append([]byte(nil), k...), nil})
				if n++; n >= pruneBatch {
					return store.ErrStop
				}
			}
			return nil
		})
	})
}

// streakChunk bounds the users one streak period-end command advances, so
// that a period end of a million users does not hold the writer for long.
const streakChunk = 1000

// advanceDueStreaks runs streak.Advance for every user whose streak has
// work due at now (a period end past its grace, a freeze to earn): the cost
// is O(users due), not O(users). It returns how many were processed.
func (e *Engine) advanceDueStreaks(ctx context.Context, now time.Time) (int, error) {
	return e.drainQueue(ctx, now, &e.w.streakQueue, advanceStreaksOp)
}

// dueArgs are the ids of a chunk of a per-user due-queue.
type dueArgs struct {
	IDs  []string
	Seed string `json:",omitempty"` // for the codes of milestone rewards (txn.newCode)
}

var advanceStreaksOp = newOp("streak.advance", func(t *txn, a dueArgs) (any, error) {
	t.codeSeed = a.Seed
	return nil, t.advanceStreaks(a.IDs)
})

// drainQueue runs o, as one command per chunk of streakChunk ids, on
// every id of a per-user due-queue (guarded by the writer's lock) that is due
// at now. Ids of a failed chunk are queued again for a retry: the work is
// idempotent.
func (e *Engine) drainQueue(ctx context.Context, now time.Time, q *schedule.Queue, o *op[dueArgs]) (int, error) {
	done := 0
	w := e.w
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		w.mu.Lock()
		var ids []string
		for len(ids) < streakChunk {
			id, due, ok := q.Peek()
			if !ok || due.After(now) {
				break
			}
			q.Remove(id)
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			return done, nil
		}
		if _, err := e.exec(ctx, now, o.cmd(dueArgs{IDs: ids, Seed: newCodeSeed()})); err != nil {
			w.mu.Lock()
			for _, id := range ids {
				if _, queued := q.Due(id); !queued {
					q.Push(id, now.Add(jobRetryMin))
				}
			}
			w.mu.Unlock()
			return done, err
		}
		done += len(ids)
	}
}
