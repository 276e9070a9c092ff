package gamify

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// Test seams, visible only to this package's tests.

// SetBeforeCommit installs a function that runs before each commit; an error
// from it makes the commit fail.
func SetBeforeCommit(o *Options, f func() error)  { o.beforeCommit = f }
func SetBeforeLogSync(o *Options, f func() error) { o.beforeLogSync = f }

// ReplicaStopped reports why replicated e stopped applying the shared log
// (a batch failed to land), or nil.
func ReplicaStopped(e *Engine) error { return e.w.stopped() }

// SetBeforeTxnCommit installs a function that runs in every command once its
// changes are made, before they enter the working state (it may panic).
func SetBeforeTxnCommit(o *Options, f func()) { o.beforeTxnCommit = f }

// SetAfterCommit installs a function that runs after each successful or
// failed commit, before the writer learns of the outcome.
func SetAfterCommit(o *Options, f func()) { o.afterCommit = f }

// SetCatchUpMax replaces the bound on the occurrences of a job one RunDue
// runs one by one.
func SetCatchUpMax(o *Options, n int) { o.catchUpMax = n }

// SetLeagueChunk sets the users one league rollover command gives results
// to (whole cohorts, at least one).
func SetLeagueChunk(o *Options, users int) { o.leagueChunk = users }

// SetRewardKeySource installs the source of generated reward keys.
func SetRewardKeySource(o *Options, f func() string) { o.rewardKey = f }

// OpenBatchSize returns the number of commands in the batch not yet sealed.
func OpenBatchSize(e *Engine) int {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	return e.w.open.size
}

// CommitterIdle reports whether no batch is being committed: the committer
// has finished the last one, after-commit hook included.
func CommitterIdle(e *Engine) bool {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	return !e.w.inFlight
}

// DumpStore returns every key and value of the store, for byte-for-byte
// comparisons: the engine's records, without the store's own (the log
// position and the digests over it move with every logged command, one
// that changed nothing included; Check verifies the digests).
func DumpStore(e *Engine) map[string]string {
	out := map[string]string{}
	_ = e.db.View(func(tx *store.Tx) error {
		tx.Dump(func(ks store.Keyspace, k, v []byte) {
			if ks == store.Meta && (string(k) == "position" || string(k) == "digest") {
				return
			}
			out[string(ks)+"/"+string(k)] = string(v)
		})
		return nil
	})
	return out
}

// DailyChanges returns a user's stored day aggregates of a metric, keyed by
// local date (YYYY-MM-DD).
func DailyChanges(e *Engine, user, metric string) map[string]string {
	p, st, err := e.readUser(user, true)
	if err != nil {
		return nil
	}
	ref := e.cat.Load().metrics[metric].ref
	sum := map[int32]Amount{}
	for _, d := range st.Days {
		if d.Ref == ref {
			sum[d.Day] = sum[d.Day].Add(d.Change)
		}
	}
	_ = e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Daily, uidKey(p.UID), func(k, v []byte) error {
			_, r, day, _ := parseDailyKey(k)
			if r == ref {
				x, _ := binary.Varint(v)
				sum[day] = sum[day].Add(AmountFromMicros(x))
			}
			return nil
		})
	})
	out := map[string]string{}
	for day, a := range sum {
		out[dayDate(day).Format(time.DateOnly)] = a.String()
	}
	return out
}

// RegisterJob registers a scheduled job whose occurrences call fn.
func RegisterJob(e *Engine, id string, s schedule.Schedule, fn func(due time.Time) error) error {
	return e.register(context.Background(), &job{id: id, sched: s, run: func(_ *txn, due time.Time) error { return fn(due) }})
}

// OutboxTypes lists the notification type names the outbox can store.
func OutboxTypes() []string {
	var out []string
	for name := range noteTypes {
		out = append(out, name)
	}
	return out
}

// WaitApplied returns once a replicated engine applied the shared log up to
// position pos and the batch holding it landed.
func WaitApplied(ctx context.Context, e *Engine, pos uint64) error {
	if err := e.repl.waitApplied(ctx, pos); err != nil {
		return err
	}
	return e.Flush(ctx)
}
