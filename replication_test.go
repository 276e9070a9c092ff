package gamify_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// memLog is an in-memory shared log: the engine's side of replication
// tested without a network. Each replica gets a memReplica of its own
// (its leader flag, its connection).
type memLog struct {
	mu      sync.Mutex
	recs    []memRecord
	ids     map[string]uint64
	changed chan struct{} // closed and replaced on every append
}

type memRecord struct {
	id  string
	rec []byte
}

func newMemLog() *memLog { return &memLog{ids: map[string]uint64{}, changed: make(chan struct{})} }

func (m *memLog) head() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.recs))
}

func (m *memLog) wake() {
	close(m.changed)
	m.changed = make(chan struct{})
}

type memReplica struct {
	log      *memLog
	leader   atomic.Bool
	down     atomic.Bool   // cut off: proposals fail, nothing new is delivered
	held     atomic.Bool   // nothing is delivered until this replica proposes
	known    atomic.Uint64 // Head as last heard
	proposed atomic.Int64
}

func (r *memReplica) Propose(ctx context.Context, id string, rec []byte) (uint64, error) {
	if r.down.Load() {
		return 0, fmt.Errorf("%w: memLog: cut off", gamify.ErrUnavailable)
	}
	m := r.log
	m.mu.Lock()
	defer m.mu.Unlock()
	if pos, ok := m.ids[id]; ok {
		return pos, nil
	}
	m.recs = append(m.recs, memRecord{id: id, rec: append([]byte(nil), rec...)})
	pos := uint64(len(m.recs))
	m.ids[id] = pos
	r.held.Store(false)
	r.known.Store(pos)
	r.proposed.Add(1)
	m.wake()
	return pos, nil
}

func (r *memReplica) Follow(ctx context.Context, from uint64, fn func(pos uint64, id string, rec []byte) error) error {
	m := r.log
	next := from
	for {
		m.mu.Lock()
		ch := m.changed
		var batch []memRecord
		if !r.down.Load() && !r.held.Load() && next <= uint64(len(m.recs)) {
			batch = m.recs[next-1:]
			r.known.Store(uint64(len(m.recs)))
		}
		m.mu.Unlock()
		for _, rec := range batch {
			if err := fn(next, rec.id, rec.rec); err != nil {
				return err
			}
			next++
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *memReplica) Head() uint64 {
	if r.down.Load() {
		return r.known.Load()
	}
	return r.log.head()
}

func (r *memReplica) Leader() bool { return r.leader.Load() }

// setDown cuts the replica off or reconnects it.
func (r *memReplica) setDown(down bool) {
	r.down.Store(down)
	r.log.mu.Lock()
	r.log.wake()
	r.log.mu.Unlock()
}

type replicaSet struct {
	log   *memLog
	reps  []*memReplica
	engs  []*testEngine
	opts  gamify.Options
	start time.Time
}

// openReplicas opens n engines on their own files, sharing one memLog;
// the first is the leader.
func openReplicas(t *testing.T, n int, opts gamify.Options) *replicaSet {
	t.Helper()
	rs := &replicaSet{log: newMemLog(), opts: opts, start: t0}
	for i := range n {
		rs.add(t, i == 0)
	}
	return rs
}

func (rs *replicaSet) add(t *testing.T, leader bool) *testEngine {
	t.Helper()
	rep := &memReplica{log: rs.log}
	rep.leader.Store(leader)
	o := rs.opts
	o.Replication = rep
	clock := gamify.NewManualClock(rs.start)
	if len(rs.engs) > 0 {
		clock = gamify.NewManualClock(rs.engs[0].clock.Now())
	}
	o.Clock = clock
	path := filepath.Join(t.TempDir(), fmt.Sprintf("replica%d.db", len(rs.engs)))
	eng, err := gamify.Open(path, &o)
	require.NoError(t, err)
	te := &testEngine{Engine: eng, path: path, clock: clock, opts: o}
	t.Cleanup(func() { te.closeChecked(t) })
	rs.reps = append(rs.reps, rep)
	rs.engs = append(rs.engs, te)
	return te
}

// sync makes every replica catch up with the log (Engine.Sync).
func (rs *replicaSet) sync(t *testing.T) {
	t.Helper()
	for i, e := range rs.engs {
		require.NoError(t, e.Sync(context.Background()), "replica %d", i)
	}
}

// converge waits until every replica applied the whole log, then requires
// their stores equal record for record and Check green on each.
func (rs *replicaSet) converge(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	head := rs.log.head()
	var want map[string]string
	for i, e := range rs.engs {
		require.NoError(t, gamify.WaitApplied(ctx, e.Engine, head), "replica %d", i)
		require.NoError(t, gamify.Checkpoint(e.Engine))
		st := e.Stats()
		require.Equal(t, head, st.LogPosition, "replica %d", i)
		require.Equal(t, head, st.CheckpointPosition, "replica %d", i)
		got := gamify.DumpStore(e.Engine)
		if i == 0 {
			want = got
		} else {
			requireSameStore(t, want, got, fmt.Sprintf("replica %d", i))
		}
		require.NoError(t, e.Check(ctx), "replica %d", i)
	}
}

// TestReplicasConverge: three replicas take a random workload — the
// arrival game's late, shuffled events, awards, spends that may fail,
// claims of generated codes, an admin change — from all three at once, and
// end with equal stores; every caller's answer is its command's result.
func TestReplicasConverge(t *testing.T) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			rs := openReplicas(t, 3, gamify.Options{Durability: mode, CheckpointInterval: time.Hour, OutboxMaxAge: 1000 * 24 * time.Hour})
			ctx := context.Background()
			for _, e := range rs.engs {
				e.clock.Set(arrivalFrom.Add(-24 * time.Hour))
			}
			setupArrival(t, rs.engs[0])
			rs.sync(t)
			_, err := rs.engs[1].Rewards().Create(ctx, gamify.Reward{Key: "badge", Name: "Badge", Type: gamify.RewardDigital,
				Cost: gamify.AmountFromInt(20), System: "xp", PerUserLimit: gamify.RewardUnlimited})
			require.NoError(t, err)
			_, err = rs.engs[2].Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily-lessons", Name: "Daily lessons",
				RankBy: gamify.RankByMetric, Metric: "lessons", RunUnit: gamify.RunDay})
			require.NoError(t, err)
			rs.sync(t)
			for _, e := range rs.engs {
				e.clock.Set(arrivalEnd)
			}

			evs := arrivalEvents(7)
			var wg sync.WaitGroup
			errs := make(chan error, len(rs.engs))
			for r, e := range rs.engs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(r), 5))
					for i := r; i < len(evs); i += len(rs.engs) {
						if _, err := e.Track(ctx, evs[i].ev); err != nil {
							errs <- fmt.Errorf("replica %d track: %w", r, err)
							return
						}
						u := arrivalUsers[rng.IntN(len(arrivalUsers))].id
						switch i % 11 {
						case 3:
							if _, err := e.Points().Award(ctx, gamify.PointsEntry{System: "xp", User: u, Amount: gamify.AmountFromInt(int64(1 + rng.IntN(30))),
								IdempotencyKey: fmt.Sprint("award-", i)}); err != nil {
								errs <- err
								return
							}
						case 5:
							if _, err := e.Points().Spend(ctx, gamify.PointsEntry{System: "xp", User: u, Amount: gamify.AmountFromInt(7)}); err != nil &&
								!errors.Is(err, gamify.ErrInsufficientPoints) {
								errs <- err
								return
							}
						case 8:
							if _, err := e.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: u, IdempotencyKey: fmt.Sprint("claim-", i)}); err != nil &&
								!errors.Is(err, gamify.ErrInsufficientPoints) {
								errs <- err
								return
							}
						}
					}
					errs <- nil
				}()
			}
			wg.Wait()
			for range rs.engs {
				require.NoError(t, <-errs)
			}
			_, err = rs.engs[0].Metrics().Patch(ctx, "steps", func(m *gamify.Metric) { m.Name = "All the steps" })
			require.NoError(t, err)
			rs.converge(t)
			for i, e := range rs.engs {
				m, err := e.Metrics().Get(ctx, "steps")
				require.NoError(t, err)
				require.Equal(t, "All the steps", m.Name, "replica %d", i)
			}
		})
	}
}

// TestReplicaAnswersWithItsResult: a caller is answered once its command
// applied at its position, with what every replica computes there: its
// own replica reads the change at once, another after Sync; a command that fails there (a
// spend beyond the balance) fails its caller and changes nothing anywhere.
func TestReplicaAnswersWithItsResult(t *testing.T) {
	rs := openReplicas(t, 2, gamify.Options{})
	ctx := context.Background()
	a, b := rs.engs[0], rs.engs[1]
	mustMetric(t, a.Engine, "lessons")
	require.NoError(t, b.Sync(ctx))
	_, err := b.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	require.NoError(t, a.Sync(ctx))
	_, err = a.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-lesson", System: "xp", Kind: gamify.TriggerMetric,
		Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)

	require.NoError(t, b.Sync(ctx))
	res, err := b.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 3})
	require.NoError(t, err)
	require.Len(t, res.Points, 1)
	require.Equal(t, gamify.AmountFromInt(30), res.Points[0].Added)
	got, err := b.Users().Points(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(30), got.Available, "the proposer reads its own write")

	require.NoError(t, a.Sync(ctx))
	got, err = a.Users().Points(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(30), got.Available, "after Sync, another replica reads the write")
	_, err = a.Points().Spend(ctx, gamify.PointsEntry{System: "xp", User: "ana", Amount: gamify.AmountFromInt(31)})
	require.ErrorIs(t, err, gamify.ErrInsufficientPoints)
	spent, err := a.Points().Spend(ctx, gamify.PointsEntry{System: "xp", User: "ana", Amount: gamify.AmountFromInt(30)})
	require.NoError(t, err)
	require.True(t, spent.Available.IsZero(), "the spend's result: %v", spent.Available)
	rs.converge(t)
	got, err = b.Users().Points(ctx, "ana", "xp")
	require.NoError(t, err)
	require.True(t, got.Available.IsZero())
}

// TestReplicaCatchesUp: a replica closed while the others write, and a
// brand-new one, apply what they missed at Open, and every one converges.
func TestReplicaCatchesUp(t *testing.T) {
	rs := openReplicas(t, 3, gamify.Options{})
	ctx := context.Background()
	mustMetric(t, rs.engs[0].Engine, "lessons")
	rs.sync(t)
	track := func(e *testEngine, n int) {
		for i := range n {
			_, err := e.Track(ctx, gamify.Event{User: fmt.Sprint("u", i%7), Metric: "lessons", Value: 1})
			require.NoError(t, err)
		}
	}
	track(rs.engs[2], 20)
	require.NoError(t, rs.engs[2].Close())
	track(rs.engs[0], 30)
	track(rs.engs[1], 30)
	eng, err := gamify.Open(rs.engs[2].path, &rs.engs[2].opts)
	require.NoError(t, err)
	rs.engs[2].Engine = eng
	st := eng.Stats()
	require.Equal(t, rs.log.head(), st.LogPosition, "Open returns caught up")
	require.Equal(t, st.LogHead, st.LogPosition)
	_, err = eng.Users().Get(ctx, "u3")
	require.NoError(t, err)
	rs.add(t, false) // new, on an empty file: Open catches up
	track(rs.engs[3], 5)
	rs.converge(t)
}

// TestReplicaCutOff: a replica cut off from the log keeps serving reads,
// reports how far behind it is, fails writes (and Sync) with
// ErrUnavailable having changed nothing, and catches up once back.
func TestReplicaCutOff(t *testing.T) {
	rs := openReplicas(t, 2, gamify.Options{})
	ctx := context.Background()
	a, b := rs.engs[0], rs.engs[1]
	mustMetric(t, a.Engine, "lessons")
	_, err := a.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
	require.NoError(t, err)
	rs.converge(t)

	rs.reps[1].setDown(true)
	_, err = b.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
	require.ErrorIs(t, err, gamify.ErrUnavailable)
	require.ErrorIs(t, b.Sync(ctx), gamify.ErrUnavailable, "Sync's barrier is a write")
	for range 3 {
		_, err := a.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
		require.NoError(t, err)
	}
	require.Equal(t, gamify.AmountFromInt(1), lessonsOf(t, b, "ana"), "reads go on, from the state as it was")
	// It learns of the log's head when it hears from it; here it heard
	// nothing since, so it reports the head it knew.
	st := b.Stats()
	require.Equal(t, st.LogPosition, st.LogHead)

	rs.reps[1].setDown(false)
	rs.converge(t)
	require.Equal(t, gamify.AmountFromInt(4), lessonsOf(t, b, "ana"))
	_, err = b.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
	require.NoError(t, err)
}

func lessonsOf(t *testing.T, e *testEngine, user string) gamify.Amount {
	t.Helper()
	ms, err := e.Users().Metrics(context.Background(), user)
	require.NoError(t, err)
	for _, m := range ms {
		if m.Key == "lessons" {
			return m.Total
		}
	}
	t.Fatalf("%s has no lessons", user)
	return gamify.Amount{}
}

// TestReplicatedJobsRunOnce: only the leader proposes due job runs; with
// two replicas proposing the same occurrence (a lease changing hands), it
// still runs once, and every replica holds the frozen run.
func TestReplicatedJobsRunOnce(t *testing.T) {
	rs := openReplicas(t, 3, gamify.Options{})
	ctx := context.Background()
	a := rs.engs[0]
	mustMetric(t, a.Engine, "lessons")
	_, err := a.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily", Name: "Daily",
		RankBy: gamify.RankByMetric, Metric: "lessons", RunUnit: gamify.RunDay})
	require.NoError(t, err)
	rs.sync(t)
	for i := range 4 {
		_, err := rs.engs[i%3].Track(ctx, gamify.Event{User: fmt.Sprint("u", i), Metric: "lessons", Value: float64(i + 1)})
		require.NoError(t, err)
	}
	for _, e := range rs.engs {
		e.clock.Set(t0.Add(36 * time.Hour))
	}
	n, err := rs.engs[1].RunDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a follower proposes no job run")
	before := rs.log.head()
	rs.reps[1].leader.Store(true) // two leaders for a moment
	var wg sync.WaitGroup
	for _, e := range rs.engs[:2] {
		wg.Go(func() {
			_, err := e.RunDue(ctx)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Greater(t, rs.log.head(), before)
	rs.converge(t)
	var want []gamify.BoardRun
	for i, e := range rs.engs {
		runs, err := e.Leaderboards().Runs(ctx, "daily", gamify.ListOptions{})
		require.NoError(t, err, "replica %d", i)
		if i == 0 {
			want = runs
			n := 0
			for _, r := range runs {
				if r.Participants == 4 {
					n++
				}
			}
			require.Equal(t, 1, n, "the day's run was frozen once: %v", runs)
		}
		require.Equal(t, want, runs, "replica %d", i)
	}
}

// TestReplicatedTenantsRefused: a tenant would need a shared log of its
// own; a replicated engine says so.
func TestReplicatedTenantsRefused(t *testing.T) {
	rs := openReplicas(t, 1, gamify.Options{})
	ctx := context.Background()
	_, err := rs.engs[0].Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	_, err = rs.engs[0].Tenant("acme")
	require.ErrorIs(t, err, gamify.ErrConflict)
}

// TestReplicaStopsWhenABatchFailsToLand: a replica whose batch of the
// shared log fails to land would skip its commands if it applied on; it
// stops instead (its writes fail with ErrUnavailable), and a reopen follows
// the log again from its checkpoint and converges.
func TestReplicaStopsWhenABatchFailsToLand(t *testing.T) {
	rs := openReplicas(t, 1, gamify.Options{})
	ctx := context.Background()
	a := rs.engs[0]
	mustMetric(t, a.Engine, "lessons")
	var fail atomic.Bool
	o := rs.opts
	gamify.SetBeforeCommit(&o, func() error {
		if fail.Load() {
			return errors.New("disk on fire")
		}
		return nil
	})
	rs.opts = o
	b := rs.add(t, false)
	fail.Store(true)
	for i := range 5 {
		_, err := a.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: float64(i + 1)})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return gamify.ReplicaStopped(b.Engine) != nil }, 10*time.Second, time.Millisecond)
	head := rs.log.head()
	_, err := b.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
	require.ErrorIs(t, err, gamify.ErrUnavailable)
	require.Equal(t, head, rs.log.head(), "a stopped replica proposes nothing")
	require.Less(t, b.Stats().LogPosition, head, "nothing past the failed batch landed")

	fail.Store(false)
	b.reopen(t)
	require.Equal(t, gamify.AmountFromInt(15), lessonsOf(t, b, "ana"), "a's five events, applied after the failure, and not b's refused one")
	rs.converge(t)
}

// TestReplicaFollowFailureFailsWrites: when the shared log can no longer be
// followed (here a record that does not decode), the replica stops
// applying, and its writes fail with ErrUnavailable naming the reason,
// not with a bare follower error.
func TestReplicaFollowFailureFailsWrites(t *testing.T) {
	rs := openReplicas(t, 1, gamify.Options{})
	ctx := context.Background()
	a := rs.engs[0]
	mustMetric(t, a.Engine, "lessons")
	rs.log.mu.Lock()
	rs.log.recs = append(rs.log.recs, memRecord{id: "elsewhere-1", rec: []byte("not a command")})
	rs.log.wake()
	rs.log.mu.Unlock()
	_, err := a.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
	require.ErrorIs(t, err, gamify.ErrUnavailable)
	require.ErrorIs(t, err, gamify.ErrCorrupt, "the reason: %v", err)
	require.NoError(t, a.Close())
}

// TestReplicaEventAfterAnotherReplicasDefinition: an event naming a metric
// created on another replica and not yet applied here is not refused: the
// failed check syncs with the log and runs again.
func TestReplicaEventAfterAnotherReplicasDefinition(t *testing.T) {
	rs := openReplicas(t, 2, gamify.Options{})
	ctx := context.Background()
	a, b := rs.engs[0], rs.engs[1]
	rs.reps[1].held.Store(true) // b hears nothing until it proposes
	mustMetric(t, a.Engine, "lessons")
	_, err := b.Metrics().Get(ctx, "lessons")
	require.ErrorIs(t, err, gamify.ErrNotFound, "b has not applied the metric")
	res, err := b.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 2})
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(2), res.Total)

	mustMetric(t, a.Engine, "steps")
	rs.reps[1].held.Store(true)
	mustMetric(t, a.Engine, "words")
	_, err = b.TrackBatch(ctx, []gamify.Event{{User: "ana", Metric: "words", Value: 1}, {User: "bo", Metric: "lessons", Value: 1}})
	require.NoError(t, err, "a batch too")
	_, err = b.Track(ctx, gamify.Event{User: "ana", Metric: "nope", Value: 1})
	require.ErrorIs(t, err, gamify.ErrInvalid, "a metric that exists nowhere is still refused")
	rs.converge(t)
}

// TestReplicaFileStaysAReplicas: a replica's file opened by a local engine
// would part from the shared log, and a file a local engine wrote would
// bring changes no other replica has; both are refused before anything is
// written, and the replica's file still follows the log afterwards.
func TestReplicaFileStaysAReplicas(t *testing.T) {
	ctx := context.Background()
	rs := openReplicas(t, 1, gamify.Options{})
	rep := rs.engs[0]
	mustMetric(t, rep.Engine, "lessons")
	require.NoError(t, rep.Close())

	local := rep.opts
	local.Replication = nil
	_, err := gamify.Open(rep.path, &local)
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.ErrorContains(t, err, "replica")
	_, statErr := os.Stat(rep.path + ".log")
	require.True(t, os.IsNotExist(statErr), "the refused Open wrote no command log")

	eng, err := gamify.Open(rep.path, &rep.opts)
	require.NoError(t, err, "the replica's file opens as a replica")
	rep.Engine = eng
	_, err = eng.Metrics().Get(ctx, "lessons")
	require.NoError(t, err)

	// A file a local engine wrote, checkpointed or not, is no replica's.
	for _, checkpointed := range []bool{false, true} {
		le := openTest(t, nil)
		mustMetric(t, le.Engine, "lessons")
		if checkpointed {
			require.NoError(t, gamify.Checkpoint(le.Engine))
		}
		require.NoError(t, le.Engine.Close())
		o := le.opts
		o.Replication = &memReplica{log: newMemLog()}
		_, err := gamify.Open(le.path, &o)
		require.ErrorIs(t, err, gamify.ErrConflict, "checkpointed: %v", checkpointed)
		require.ErrorContains(t, err, "local engine")
		eng, err := gamify.Open(le.path, &le.opts)
		require.NoError(t, err, "it still opens locally")
		le.Engine = eng
	}
}
