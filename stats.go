package gamify

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of an Engine's operational counters, for metrics
// exporters and health checks. Counters count from Open (they are not
// stored) and only grow; the other fields are gauges read at the call. A
// tenant's engine (Engine.Tenant) is an Engine of its own, with its own
// Stats: the parent's count only its own file.
type Stats struct {
	// Commands is the mutations the writer applied (events, administrative
	// changes, scheduled job occurrences, Flush), counted when applied: in
	// Buffered mode before their commit. A TrackBatch is one command.
	Commands uint64
	// Rejected is the commands the writer refused having changed nothing
	// (an error found only against the working state, such as an
	// idempotency conflict). Input refused before the writer is not counted.
	Rejected uint64
	// Events is the events applied, idempotent replays included: one per
	// Track, one per event of a TrackBatch.
	Events uint64
	// Batches is the group commits that succeeded; CommitFailures those
	// that failed (each also logged).
	Batches        uint64
	CommitFailures uint64
	// CommitLatency is the time of each commit (the command log's append
	// and fsync, and staging the batch's writes), successful or not.
	CommitLatency LatencyHistogram
	// Pending is the commands applied and not yet committed: the open batch
	// plus the one being committed (weighted as for Options.MaxBatch: a
	// TrackBatch counts its events).
	Pending int
	// UserCacheHits and UserCacheMisses count the writer's lookups of a
	// user's working record (Options.UserCache): a miss reads and decodes
	// the user from the file (or finds a new user). UsersCached is the
	// records held now.
	UserCacheHits   uint64
	UserCacheMisses uint64
	UsersCached     int
	// BoardEntries is the entries of every leaderboard run not yet finished,
	// over all breakdown groups: the size of the in-memory board indexes.
	BoardEntries int
	// UsersIndexed is the rows of the participants index (Users().List),
	// 0 until the first List builds it.
	UsersIndexed int
	// JobsRun and JobsFailed count scheduled job occurrences (leaderboard
	// rollovers, pruning) that completed or failed (each failure is logged
	// and retried with backoff). JobsCollapsed counts the catch-up steps
	// that skipped occurrences with nothing to do (see RunDue).
	JobsRun       uint64
	JobsFailed    uint64
	JobsCollapsed uint64
	// Subscribers is the open subscriptions; NotificationsQueued the
	// notifications waiting for their callbacks, summed over them.
	Subscribers         int
	NotificationsQueued int
	// NotificationsDelivered is the notifications handed to a subscriber's
	// callback that returned; NotificationsDropped those lost because a
	// subscriber was Options.NotifyBuffer behind (see Subscription.Dropped);
	// CallbackPanics the callbacks that panicked (recovered and logged).
	// Each is summed over subscribers.
	NotificationsDelivered uint64
	NotificationsDropped   uint64
	CallbackPanics         uint64
	// Tenants is the tenant engines open now.
	Tenants int
	// LogPosition is the position of the last command in the command log;
	// CheckpointPosition the last one folded into the database file by a
	// checkpoint. Between them, commands live in the log and in memory:
	// StagedRecords records of StagedBytes bytes, which a crash costs Open
	// a replay of. LogBytes is the log's size on disk.
	LogPosition        uint64
	CheckpointPosition uint64
	StagedRecords      int
	StagedBytes        int64
	LogBytes           int64
	// Checkpoints and CheckpointFailures count checkpoints (each failure is
	// logged and retried); LastCheckpoint is how long the last one took.
	Checkpoints        uint64
	CheckpointFailures uint64
	LastCheckpoint     time.Duration
	// LogHead is the last position of the command log this engine knows
	// of: for a replicated engine (Options.Replication) the shared log's,
	// as last heard, so LogHead minus LogPosition is how far this replica
	// is behind; for a local engine it is LogPosition.
	LogHead uint64
	// Replayed is the commands Open replayed from the log; ReplayFailed
	// those that failed at replay (each logged: a bug, since they applied
	// once).
	Replayed     uint64
	ReplayFailed uint64
}

// LatencyBuckets is the number of bounds of a LatencyHistogram.
const LatencyBuckets = 11

// commitLatencyBounds are the fixed bucket bounds of Stats.CommitLatency.
var commitLatencyBounds = [LatencyBuckets]time.Duration{
	250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, time.Second,
}

// LatencyHistogram counts durations in fixed buckets. Bounds are the same
// in every snapshot: 250µs, 500µs, 1ms, 2.5ms, 5ms, 10ms, 25ms, 50ms,
// 100ms, 250ms and 1s. Counts[i] is the durations at most Bounds[i] and
// more than Bounds[i-1]; the last count is those over 1s.
type LatencyHistogram struct {
	Bounds [LatencyBuckets]time.Duration
	Counts [LatencyBuckets + 1]uint64
	Count  uint64        // the sum of Counts
	Sum    time.Duration // the total of the durations counted
}

// commitStats are the committer's counters. They are atomic, and counted
// before a commit's callers are answered, so that a caller reading Stats
// after its commit sees it counted.
type commitStats struct {
	inFlight   atomic.Int64 // size of the batch being committed, 0 once it is
	ok, failed atomic.Uint64
	counts     [len(commitLatencyBounds) + 1]atomic.Uint64
	sum        atomic.Int64
}

func (l *commitStats) observe(d time.Duration, err error) {
	l.inFlight.Store(0)
	if err == nil {
		l.ok.Add(1)
	} else {
		l.failed.Add(1)
	}
	i := 0
	for i < len(commitLatencyBounds) && d > commitLatencyBounds[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

func (l *commitStats) latency() LatencyHistogram {
	h := LatencyHistogram{Bounds: commitLatencyBounds}
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
		h.Count += h.Counts[i]
	}
	h.Sum = time.Duration(l.sum.Load())
	return h
}

// writerStats are the writer's counters, guarded by the writer's lock
// (held anyway where they change, so they cost no atomic operation).
type writerStats struct {
	commands, rejected, events uint64
	userHits, userMisses       uint64
	replayed, replayFailed     uint64
}

// Stats returns the engine's counters. It is cheap (it takes the writer's
// lock briefly and each board's read lock) and works after Close, which
// leaves the final counts.
func (e *Engine) Stats() Stats {
	var st Stats
	w := e.w
	w.mu.Lock()
	ws := w.stats
	st.Pending = w.open.size + int(e.commits.inFlight.Load())
	st.UsersCached = len(w.users)
	w.mu.Unlock()
	st.Commands, st.Rejected, st.Events = ws.commands, ws.rejected, ws.events
	st.UserCacheHits, st.UserCacheMisses = ws.userHits, ws.userMisses
	st.Replayed, st.ReplayFailed = ws.replayed, ws.replayFailed
	st.LogPosition, st.CheckpointPosition = e.db.Position(), e.db.CheckpointPosition()
	st.StagedRecords, st.StagedBytes = e.db.Staged()
	st.LogHead = st.LogPosition
	if e.repl != nil {
		st.LogHead = max(e.repl.log.Head(), st.LogPosition)
	}
	if e.log != nil {
		st.LogBytes = e.log.Size()
	}
	st.Checkpoints, st.CheckpointFailures = e.ckpt.count.Load(), e.ckpt.failed.Load()
	st.LastCheckpoint = time.Duration(e.ckpt.last.Load())
	st.Batches, st.CommitFailures = e.commits.ok.Load(), e.commits.failed.Load()
	st.CommitLatency = e.commits.latency()

	e.boardsMu.RLock()
	for _, rt := range e.boards {
		rt.mu.RLock()
		for _, run := range rt.runs {
			for _, x := range run.groups {
				st.BoardEntries += x.Len()
			}
		}
		rt.mu.RUnlock()
	}
	e.boardsMu.RUnlock()
	e.parts.mu.RLock()
	st.UsersIndexed = len(e.parts.rows)
	e.parts.mu.RUnlock()

	s := e.sched
	s.mu.Lock()
	st.JobsRun, st.JobsFailed, st.JobsCollapsed = s.ran, s.failed, s.collapsed
	s.mu.Unlock()

	n := e.notify
	n.mu.Lock()
	st.Subscribers = len(n.subs)
	for _, sub := range n.subs {
		st.NotificationsQueued += int(sub.pending.Load())
	}
	n.mu.Unlock()
	st.NotificationsDelivered, st.NotificationsDropped, st.CallbackPanics = n.delivered.Load(), n.dropped.Load(), n.panics.Load()

	e.tenants.mu.Lock()
	st.Tenants = len(e.tenants.open)
	e.tenants.mu.Unlock()
	return st
}
