package jetstream_test

import (
	"bytes"
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
	"github.com/gamifykit/gamify/internal/natscluster"
	"github.com/gamifykit/gamify/jetstream"
	"github.com/gamifykit/gamify/store"
)

// t0 is the time every replica's clock shows: a command carries its
// proposer's time, so the replicas need not agree, but fixed is
// deterministic.
var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

type replicaT struct {
	*jetstream.Replica
	path  string
	cfg   jetstream.Config
	clock *gamify.ManualClock
}

func openReplica(t *testing.T, path string, cfg jetstream.Config) *replicaT {
	t.Helper()
	clock := gamify.NewManualClock(t0)
	r, err := jetstream.Open(path, cfg, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	rt := &replicaT{Replica: r, path: path, cfg: cfg, clock: clock}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// openReplicas opens n replicas, replica i connecting to server i first.
func openReplicas(t *testing.T, c *natscluster.Cluster, n int, mod func(*jetstream.Config)) []*replicaT {
	t.Helper()
	dir := t.TempDir()
	var rs []*replicaT
	for i := range n {
		cfg := testConfig(c, fmt.Sprintf("replica%d", i))
		urls := c.URLs()
		cfg.URLs = append(urls[i%len(urls):], urls[:i%len(urls)]...)
		if mod != nil {
			mod(&cfg)
		}
		rs = append(rs, openReplica(t, filepath.Join(dir, fmt.Sprintf("replica%d.db", i)), cfg))
	}
	return rs
}

// streamState is the stream's first and last sequence, asked of its leader.
func streamState(t *testing.T, l *jetstream.Log) (first, last uint64) {
	t.Helper()
	waitFor(t, 20*time.Second, "stream info", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := l.JetStream().Stream(ctx, l.Config().Stream)
		if err != nil {
			return false
		}
		first, last = s.CachedInfo().State.FirstSeq, s.CachedInfo().State.LastSeq
		return true
	})
	return first, last
}

// converge waits until every replica applied the stream to its end, then
// requires their backups equal key for key in every keyspace (the store's
// own records too: the same position and digests) and Check green on each.
func converge(t *testing.T, rs []*replicaT) {
	t.Helper()
	_, head := streamState(t, rs[0].Log())
	for i, r := range rs {
		waitFor(t, 30*time.Second, fmt.Sprintf("replica %d applies up to %d", i, head), func() bool {
			return r.Stats().LogPosition >= head
		})
		st := r.Stats()
		require.Equal(t, head, st.LogPosition, "replica %d", i)
		require.Equal(t, head, st.LogHead, "replica %d knows the head", i)
	}
	var want map[string]string
	for i, r := range rs {
		got := backupDump(t, r.Engine)
		if i == 0 {
			want = got
			require.NotEmpty(t, want)
			continue
		}
		require.Equal(t, len(want), len(got), "replica %d: records", i)
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("replica %d differs at %q", i, k)
			}
		}
	}
	for i, r := range rs {
		require.NoError(t, r.Check(context.Background()), "replica %d", i)
	}
}

// backupDump backs eng up, opens the copy with package store and returns
// every key and value of every keyspace, as stored.
func backupDump(t *testing.T, eng *gamify.Engine) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, eng.Backup(context.Background(), &buf))
	path := filepath.Join(t.TempDir(), "backup.db")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
	db, err := store.Open(path, store.Options{LockTimeout: time.Second})
	require.NoError(t, err)
	defer db.Close()
	out := map[string]string{}
	require.NoError(t, db.View(func(tx *store.Tx) error {
		tx.Dump(func(ks store.Keyspace, k, v []byte) { out[string(ks)+"/"+string(k)] = string(v) })
		return nil
	}))
	return out
}

// define sets up the workload's definitions through three replicas.
func define(t *testing.T, rs []*replicaT) {
	t.Helper()
	ctx := context.Background()
	_, err := rs[0].Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	require.NoError(t, err)
	_, err = rs[1%len(rs)].Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = rs[2%len(rs)].Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-lesson", System: "xp", Kind: gamify.TriggerMetric,
		Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	_, err = rs[0].Rewards().Create(ctx, gamify.Reward{Key: "badge", Name: "Badge", Type: gamify.RewardDigital,
		Cost: gamify.AmountFromInt(15), System: "xp", PerUserLimit: gamify.RewardUnlimited})
	require.NoError(t, err)
	_, err = rs[1%len(rs)].Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly", Name: "Weekly",
		RankBy: gamify.RankByMetric, Metric: "lessons", RunUnit: gamify.RunWeek})
	require.NoError(t, err)
}

var users = []string{"ana", "ben", "cai", "dee", "eli", "fay", "gus"}

// workload is what a run acknowledged: lessons per user.
type workload struct {
	mu      sync.Mutex
	lessons map[string]int64
	acked   int
	retried atomic.Int64 // writes that failed with ErrUnavailable and were retried
}

// retry runs op until it succeeds or fails with an answer other than
// ErrUnavailable (a server going away makes writes fail for a moment; the
// idempotency key makes the retry safe), within a bound.
func (w *workload) retry(ctx context.Context, op func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := op()
		if err == nil || !errors.Is(err, gamify.ErrUnavailable) || time.Now().After(deadline) {
			return err
		}
		w.retried.Add(1)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run drives a random workload (events, awards, spends, claims) from every
// replica at once, n operations each, calling disrupt once half are done.
func run(t *testing.T, rs []*replicaT, n int, seed uint64, disrupt func()) *workload {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	w := &workload{lessons: map[string]int64{}}
	var wg sync.WaitGroup
	var half sync.WaitGroup
	half.Add(len(rs))
	errs := make(chan error, len(rs))
	for r, rep := range rs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(r)))
			defer func() {
				if n < 2 {
					half.Done()
				}
			}()
			for i := range n {
				if i == n/2 {
					half.Done()
				}
				u := users[rng.IntN(len(users))]
				key := fmt.Sprintf("s%d-r%d-%d", seed, r, i)
				var err error
				switch k := rng.IntN(10); {
				case k < 7:
					v := int64(1 + rng.IntN(3))
					err = w.retry(ctx, func() error {
						_, err := rep.Track(ctx, gamify.Event{User: u, Metric: "lessons", Value: float64(v), IdempotencyKey: key})
						return err
					})
					if err == nil {
						w.mu.Lock()
						w.lessons[u] += v
						w.acked++
						w.mu.Unlock()
					}
				case k < 8:
					err = w.retry(ctx, func() error {
						_, err := rep.Points().Award(ctx, gamify.PointsEntry{System: "xp", User: u, Amount: gamify.AmountFromInt(5), IdempotencyKey: key})
						return err
					})
				case k < 9:
					err = w.retry(ctx, func() error {
						_, err := rep.Points().Spend(ctx, gamify.PointsEntry{System: "xp", User: u, Amount: gamify.AmountFromInt(4), IdempotencyKey: key})
						return err
					})
				default:
					err = w.retry(ctx, func() error {
						_, err := rep.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: u, IdempotencyKey: key})
						return err
					})
				}
				if err != nil && !errors.Is(err, gamify.ErrInsufficientPoints) {
					errs <- fmt.Errorf("replica %d op %d: %w", r, i, err)
					return
				}
			}
		})
	}
	if disrupt != nil {
		half.Wait()
		disrupt()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d events acknowledged in %v, %d writes retried after ErrUnavailable", w.acked, time.Since(start), w.retried.Load())
	return w
}

// checkLessons requires every replica to hold each acknowledged event once.
func checkLessons(t *testing.T, rs []*replicaT, w *workload) {
	t.Helper()
	ctx := context.Background()
	for i, r := range rs {
		for u, want := range w.lessons {
			ms, err := r.Users().Metrics(ctx, u)
			require.NoError(t, err)
			var got gamify.Amount
			for _, m := range ms {
				if m.Key == "lessons" {
					got = m.Total
				}
			}
			require.Equal(t, gamify.AmountFromInt(want), got, "replica %d user %s", i, u)
		}
	}
}

// TestReplicasConvergeOnCluster: three replicas on a three-server cluster
// take a random workload from all three at once and an admin change; they
// end at the same position with equal stores and Check green, every
// acknowledged event held once.
func TestReplicasConvergeOnCluster(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 3, nil)
	define(t, rs)
	w := run(t, rs, 150, 1, nil)
	_, err := rs[2].Metrics().Patch(context.Background(), "lessons", func(m *gamify.Metric) { m.Name = "All the lessons" })
	require.NoError(t, err)
	converge(t, rs)
	checkLessons(t, rs, w)
	for i, r := range rs {
		m, err := r.Metrics().Get(context.Background(), "lessons")
		require.NoError(t, err)
		require.Equal(t, "All the lessons", m.Name, "replica %d", i)
	}
}

// TestReplicasServerKilled: one server (not the stream's leader) is shut
// down mid-run; writes go on and nothing acknowledged is lost.
func TestReplicasServerKilled(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 3, nil)
	define(t, rs)
	w := run(t, rs, 150, 2, func() {
		leader := c.StreamLeader("GAMIFY")
		c.Stop((leader + 1) % 3)
	})
	converge(t, rs)
	checkLessons(t, rs, w)
}

// TestReplicasStreamLeaderKilled: the server leading the stream is shut
// down mid-run; the stream elects another and writes go on, none lost.
func TestReplicasStreamLeaderKilled(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 3, nil)
	define(t, rs)
	killed := -1
	w := run(t, rs, 150, 3, func() {
		killed = c.StreamLeader("GAMIFY")
		require.GreaterOrEqual(t, killed, 0)
		c.Stop(killed)
	})
	waitFor(t, 20*time.Second, "a new stream leader", func() bool {
		l := c.StreamLeader("GAMIFY")
		return l >= 0 && l != killed
	})
	converge(t, rs)
	checkLessons(t, rs, w)
}

// TestReplicatedJobsRunOnceOnCluster: with the real lease, only its holder
// proposes a due job run; RunDue on all three replicas at once freezes the
// day's board run once, the same on every replica.
func TestReplicatedJobsRunOnceOnCluster(t *testing.T) {
	c := startCluster(t)
	// A longer lease than the other tests': it must not change hands
	// under a loaded machine while the test runs.
	rs := openReplicas(t, c, 3, func(cfg *jetstream.Config) { cfg.LeaseTTL = 3 * time.Second })
	ctx := context.Background()
	_, err := rs[0].Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	require.NoError(t, err)
	_, err = rs[0].Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily", Name: "Daily",
		RankBy: gamify.RankByMetric, Metric: "lessons", RunUnit: gamify.RunDay})
	require.NoError(t, err)
	for i, r := range rs {
		require.NoError(t, r.Sync(ctx))
		_, err := r.Track(ctx, gamify.Event{User: users[i], Metric: "lessons", Value: float64(i + 1)})
		require.NoError(t, err)
	}
	waitFor(t, 10*time.Second, "a lease holder", func() bool {
		n := 0
		for _, r := range rs {
			if r.Log().Leader() {
				n++
			}
		}
		return n == 1
	})
	for _, r := range rs {
		r.clock.Set(t0.Add(36 * time.Hour))
	}
	ran := make([]int, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			n, err := r.RunDue(ctx)
			assertNoError(t, err)
			ran[i] = n
		})
	}
	wg.Wait()
	proposers := 0
	for i, r := range rs {
		if ran[i] > 0 {
			proposers++
			require.True(t, r.Log().Leader(), "replica %d ran jobs without the lease", i)
		}
	}
	require.Equal(t, 1, proposers, "one replica proposed the runs: %v", ran)
	for _, r := range rs {
		require.NoError(t, r.Sync(ctx))
	}
	var want []gamify.BoardRun
	for i, r := range rs {
		runs, err := r.Leaderboards().Runs(ctx, "daily", gamify.ListOptions{})
		require.NoError(t, err)
		if i == 0 {
			want = runs
			frozen := 0
			for _, run := range runs {
				if run.Participants == 3 {
					frozen++
				}
			}
			require.Equal(t, 1, frozen, "the day's run frozen once: %v", runs)
		}
		require.Equal(t, want, runs, "replica %d", i)
	}
	converge(t, rs)
}

// TestOpenContextIsBounded: OpenContext gives up when its context ends,
// having opened nothing.
func TestOpenContextIsBounded(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "r.db")
	_, err := jetstream.OpenContext(ctx, path, testConfig(c, "bounded"), nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "no file was made")
	r := openReplica(t, path, testConfig(c, "bounded"))
	require.NoError(t, r.Close())
}
