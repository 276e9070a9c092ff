package jetstream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/jetstream"
)

func lessons(t *testing.T, r *replicaT, user string) gamify.Amount {
	t.Helper()
	ms, err := r.Users().Metrics(context.Background(), user)
	if errors.Is(err, gamify.ErrNotFound) {
		return gamify.Amount{}
	}
	require.NoError(t, err)
	for _, m := range ms {
		if m.Key == "lessons" {
			return m.Total
		}
	}
	return gamify.Amount{}
}

func snapshotNames(t *testing.T, l *jetstream.Log) []string {
	t.Helper()
	ctx := context.Background()
	obs, err := l.JetStream().ObjectStore(ctx, l.Config().SnapshotBucket)
	require.NoError(t, err)
	list, err := obs.List(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, o := range list {
		names = append(names, o.Name)
	}
	return names
}

// TestReplicaBootstrapsFromSnapshot: a snapshot purges the stream below
// its position; a brand-new replica bootstraps from it (the stream no
// longer holds position 1), and a replica whose file the purge left behind
// moves it aside and bootstraps too; all converge.
func TestReplicaBootstrapsFromSnapshot(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 2, func(cfg *jetstream.Config) { cfg.SnapshotsKept = 1 })
	define(t, rs)
	run(t, rs, 30, 4, nil)
	old := rs[1]
	_, left := streamState(t, old.Log())
	waitFor(t, 10*time.Second, "the old replica applied all", func() bool { return old.Stats().LogPosition == left })
	require.NoError(t, old.Close())
	run(t, rs[:1], 120, 5, nil)

	ctx := context.Background()
	p1, err := rs[0].Snapshot(ctx)
	require.NoError(t, err)
	run(t, rs[:1], 10, 6, nil)
	p2, err := rs[0].Snapshot(ctx)
	require.NoError(t, err)
	require.Greater(t, p2, p1)
	require.Greater(t, p1, left)
	// Purged below the oldest kept snapshot, but not past what the live
	// replica's follower may ask for again (a pull batch, 64).
	first, _ := streamState(t, rs[0].Log())
	require.LessOrEqual(t, first, p2+1)
	require.Greater(t, first, p2+1-64-1)
	require.Greater(t, first, left+1, "past the old replica's file")
	require.Equal(t, []string{fmt.Sprintf("snapshot-%020d", p2)}, snapshotNames(t, rs[0].Log()), "one kept")

	fresh := openReplica(t, filepath.Join(t.TempDir(), "fresh.db"), rs[1].cfg)
	require.GreaterOrEqual(t, fresh.Stats().CheckpointPosition, p2, "opened from the snapshot")

	again := openReplica(t, old.path, old.cfg)
	_, err = os.Stat(old.path + ".stale")
	require.NoError(t, err, "the trimmed file was moved aside")
	require.GreaterOrEqual(t, again.Stats().CheckpointPosition, p2)
	_, err = fresh.Track(ctx, gamify.Event{User: "new", Metric: "lessons", Value: 1})
	require.NoError(t, err)
	converge(t, []*replicaT{rs[0], fresh, again})
}

// TestReplicaSnapshotsOnSchedule: the lease holder snapshots every
// SnapshotInterval, keeps SnapshotsKept and trims the stream behind them.
func TestReplicaSnapshotsOnSchedule(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 3, func(cfg *jetstream.Config) {
		cfg.SnapshotInterval = 100 * time.Millisecond
	})
	define(t, rs)
	run(t, rs, 40, 7, nil)
	// Snapshots at one position share a name: writes go on until two
	// positions were snapshotted, however fast the run above was.
	ctx := context.Background()
	i := 0
	waitFor(t, 20*time.Second, "two snapshots and the stream trimmed", func() bool {
		_, err := rs[i%3].Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1, IdempotencyKey: fmt.Sprint("more", i)})
		require.NoError(t, err)
		i++
		first, _ := streamState(t, rs[0].Log())
		return len(snapshotNames(t, rs[0].Log())) == 2 && first > 1
	})
	// While snapshots go on, the stream always reaches back to every
	// snapshot listed after it was read (a new one is listed before the
	// older ones are deleted and the stream is purged).
	for seed := uint64(8); seed < 12; seed++ {
		run(t, rs, 5, seed, nil)
		first, _ := streamState(t, rs[0].Log())
		for _, name := range snapshotNames(t, rs[0].Log()) {
			pos, err := strconv.ParseUint(strings.TrimPrefix(name, "snapshot-"), 10, 64)
			require.NoError(t, err)
			require.GreaterOrEqual(t, pos+1, first, "snapshot %s is followable", name)
		}
	}
	waitFor(t, 5*time.Second, "two kept", func() bool { return len(snapshotNames(t, rs[0].Log())) <= 2 })
	converge(t, rs)
}

// TestReplicaCutOffOnCluster: a replica whose connection is cut keeps
// serving reads, reports it is behind once it heard of the head, fails
// writes with ErrUnavailable within ProposeTimeout having changed nothing,
// and catches up once the connection is back.
func TestReplicaCutOffOnCluster(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 2, nil)
	p := newProxy(t, strings.TrimPrefix(c.URL(2), "nats://"))
	cfg := testConfig(c, "cut")
	cfg.URLs, cfg.Conn = nil, p.conn()
	cfg.ProposeTimeout = time.Second
	cut := openReplica(t, filepath.Join(t.TempDir(), "cut.db"), cfg)
	define(t, rs)
	ctx := context.Background()
	// Writes are checked against the replica's own catalog: it applies the
	// definitions first.
	require.NoError(t, cut.Sync(ctx))
	_, err := cut.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1, IdempotencyKey: "a1"})
	require.NoError(t, err)
	_, head := streamState(t, rs[0].Log())
	waitFor(t, 10*time.Second, "cut applied all", func() bool { return cut.Stats().LogPosition == head })

	p.cut()
	start := time.Now()
	_, err = cut.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1, IdempotencyKey: "a2"})
	require.ErrorIs(t, err, gamify.ErrUnavailable)
	require.Less(t, time.Since(start), cfg.ProposeTimeout+2*time.Second, "within the timeout")
	for i := range 5 {
		_, err := rs[i%2].Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1, IdempotencyKey: fmt.Sprint("b", i)})
		require.NoError(t, err)
	}
	require.Equal(t, gamify.AmountFromInt(1), lessons(t, cut, "ana"), "reads go on from the state as it was")
	waitFor(t, 5*time.Second, "no lease while cut off", func() bool { return !cut.Log().Leader() })

	p.restore()
	converge(t, []*replicaT{rs[0], rs[1], cut})
	require.Equal(t, gamify.AmountFromInt(6), lessons(t, cut, "ana"), "the failed write was not applied")
	res, err := cut.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1, IdempotencyKey: "a2"})
	require.NoError(t, err)
	require.False(t, res.IdempotentReplayed)
	require.Equal(t, gamify.AmountFromInt(7), res.Total)
}

// The SIGKILL harness against a replica. Each round the parent runs this
// test binary as a child (TestMain dispatches on jsChildEnv) that opens a
// replica on one file (state accumulates over rounds) and tracks events
// with idempotency keys, writing "A <n>" to stdout after each is
// acknowledged; the parent SIGKILLs it after a random number of them,
// reopens the file as a replica (it catches up from its checkpoint), and
// checks that every acknowledged event is held once (a re-issue reports a
// replay), the one in flight at most once, the totals match, and the
// replica converges with one that ran throughout.
const jsChildEnv = "GAMIFY_JETSTREAM_CHILD"

type childConfig struct {
	Path  string
	URLs  []string
	First int // the first event's number
}

func TestMain(m *testing.M) {
	if v := os.Getenv(jsChildEnv); v != "" {
		os.Exit(runChild(v))
	}
	os.Exit(m.Run())
}

func childUser(n int) string { return users[n%len(users)] }

func runChild(v string) int {
	var cc childConfig
	if err := json.Unmarshal([]byte(v), &cc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg := jetstream.Config{URLs: cc.URLs, Name: "child", LeaseTTL: time.Second, SnapshotInterval: -1}
	r, err := jetstream.Open(cc.Path, cfg, &gamify.Options{Clock: gamify.NewManualClock(t0)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Fprintln(os.Stdout, "S")
	ctx := context.Background()
	for n := cc.First; ; n++ {
		_, err := r.Track(ctx, gamify.Event{User: childUser(n), Metric: "lessons", Value: 1, IdempotencyKey: fmt.Sprint("k", n)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Fprintf(os.Stdout, "A %d\n", n)
	}
}

func TestReplicaSIGKILL(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 1, nil)
	define(t, rs)
	path := filepath.Join(t.TempDir(), "killed.db")
	rng := rand.New(rand.NewPCG(11, 12))
	ctx := context.Background()
	next := 0
	rounds := 4
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		cc, err := json.Marshal(childConfig{Path: path, URLs: c.URLs(), First: next})
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), jsChildEnv+"="+string(cc))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		killAfter := 5 + rng.IntN(60)
		acked := -1
		sc := bufio.NewScanner(out)
		deadline := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
		for n := 0; n < killAfter && sc.Scan(); {
			line := sc.Text()
			if k, ok := strings.CutPrefix(line, "A "); ok {
				acked, err = strconv.Atoi(k)
				require.NoError(t, err)
				n++
			}
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		// Lines the child wrote before the kill that were not read yet are
		// acknowledgements too: the one in flight is the one after the last.
		for sc.Scan() {
			if k, ok := strings.CutPrefix(sc.Text(), "A "); ok {
				acked, err = strconv.Atoi(k)
				require.NoError(t, err)
			}
		}
		_ = cmd.Wait()
		deadline.Stop()
		require.GreaterOrEqual(t, acked, next, "round %d: the child acknowledged nothing: %s", round, stderr.String())

		// The in-flight event is acked+1; it may or may not have landed.
		r := openReplica(t, path, rs[0].cfg)
		for n := next; n <= acked+1; n++ {
			res, err := r.Track(ctx, gamify.Event{User: childUser(n), Metric: "lessons", Value: 1, IdempotencyKey: fmt.Sprint("k", n)})
			require.NoError(t, err)
			if n <= acked {
				require.True(t, res.IdempotentReplayed, "round %d: acknowledged event %d is held", round, n)
			}
		}
		next = acked + 2
		want := map[string]int64{}
		for n := range next {
			want[childUser(n)]++
		}
		converge(t, []*replicaT{rs[0], r})
		for u, n := range want {
			require.Equal(t, gamify.AmountFromInt(n), lessons(t, r, u), "round %d user %s: each event once", round, u)
		}
		require.NoError(t, r.Close())
		t.Logf("round %d: killed after %d acknowledgements", round, killAfter)
	}
}

// TestSnapshotPurgeSparesLiveFollower: a snapshot's purge keeps what a
// live follower may still ask for (its consumer's delivered position less
// a pull batch), so a slow replica is not trimmed under its feet; it goes
// on in order once it moves again.
func TestSnapshotPurgeSparesLiveFollower(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 1, func(cfg *jetstream.Config) { cfg.SnapshotsKept = 1 })
	define(t, rs)
	run(t, rs, 200, 13, nil)
	slow := newLog(t, testConfig(c, "slow"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at10, release := make(chan struct{}), make(chan struct{})
	_, head := streamState(t, slow)
	done := make(chan error, 1)
	go func() {
		next := uint64(1)
		done <- slow.Follow(ctx, 1, func(pos uint64, id string, rec []byte) error {
			if pos != next {
				return fmt.Errorf("position %d where %d was due", pos, next)
			}
			next++
			if pos == 10 {
				close(at10)
				<-release
			}
			if pos == head {
				return errStop
			}
			return nil
		})
	}()
	<-at10
	p, err := rs[0].Snapshot(ctx)
	require.NoError(t, err)
	require.Greater(t, p, uint64(150))
	first, _ := streamState(t, rs[0].Log())
	require.LessOrEqual(t, first, uint64(11), "the purge spared the slow follower")
	close(release)
	require.ErrorIs(t, <-done, errStop, "it went on in order")
}

var errStop = errors.New("stop")

// TestReplicaCutOffPastGrace: a replica cut off for longer than
// Config.FollowerGrace while snapshots purge the stream cannot catch up
// from it when it is back: it stops applying and its writes fail with
// ErrUnavailable (and ErrTrimmed); reopened, it moves its file aside,
// bootstraps from the newest snapshot and converges.
func TestReplicaCutOffPastGrace(t *testing.T) {
	c := startCluster(t)
	rs := openReplicas(t, c, 2, func(cfg *jetstream.Config) {
		cfg.FollowerGrace = time.Second
		cfg.SnapshotInterval = 200 * time.Millisecond
	})
	p := newProxy(t, strings.TrimPrefix(c.URL(2), "nats://"))
	cfg := testConfig(c, "cut")
	cfg.URLs, cfg.Conn = nil, p.conn()
	cfg.ProposeTimeout, cfg.FollowerGrace = time.Second, time.Second
	path := filepath.Join(t.TempDir(), "cut.db")
	cut := openReplica(t, path, cfg)
	define(t, rs)
	ctx := context.Background()
	require.NoError(t, cut.Sync(ctx))
	applied := cut.Stats().LogPosition

	p.cut()
	i := 0
	waitFor(t, 30*time.Second, "a purge passes the cut-off replica", func() bool {
		_, err := rs[i%2].Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1, IdempotencyKey: fmt.Sprint("b", i)})
		require.NoError(t, err)
		i++
		first, _ := streamState(t, rs[0].Log())
		return first > applied+1
	})
	p.restore()
	waitFor(t, 30*time.Second, "the replica stops applying", func() bool {
		_, err := cut.Track(ctx, gamify.Event{User: "bo", Metric: "lessons", Value: 1, IdempotencyKey: "c1"})
		return errors.Is(err, gamify.ErrUnavailable) && errors.Is(err, jetstream.ErrTrimmed)
	})
	require.NoError(t, cut.Close())

	back := openReplica(t, path, cfg)
	_, err := os.Stat(path + ".stale")
	require.NoError(t, err, "the stale file is moved aside")
	converge(t, []*replicaT{rs[0], rs[1], back})
	require.Equal(t, gamify.AmountFromInt(int64(i)), lessons(t, back, "ana"))
}
