package gamify_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestReplayIsDeterministic is docs/design.md's "the same log gives the same
// store": one random log — events in a shuffled, late order, admin changes,
// job runs as the clock moves, awards, spends, claims of generated codes, a
// hard delete — is applied live by one engine, then replayed from a copy of
// its command log by two engines on empty files. All three stores are equal
// byte for byte: any clock read, randomness or map-order effect inside apply
// would show as a difference.
//
// GAMIFY_REPLAY_SEEDS=a-b runs seeds a to b instead of the fixed ones,
// without the check that the workload completes its challenge (which a
// random seed need not do: the stores are compared all the same).
func TestReplayIsDeterministic(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	fixed := true
	if os.Getenv("CI") == "true" {
		seeds = seeds[:2]
	}
	if v := os.Getenv("GAMIFY_REPLAY_SEEDS"); v != "" {
		var a, b uint64
		_, err := fmt.Sscanf(v, "%d-%d", &a, &b)
		require.NoError(t, err, "GAMIFY_REPLAY_SEEDS: want a-b")
		seeds, fixed = nil, false
		for s := a; s <= b; s++ {
			seeds = append(seeds, s)
		}
	}
	for _, seed := range seeds {
		for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, mode), func(t *testing.T) {
				opts := gamify.Options{Durability: mode, CheckpointInterval: time.Hour, OutboxMaxAge: 1000 * 24 * time.Hour}
				live := openTest(t, &opts)
				runReplayWorkload(t, live, seed, fixed)
				ctx := context.Background()
				require.NoError(t, live.Flush(ctx))
				require.NoError(t, gamify.Checkpoint(live.Engine))
				want := gamify.DumpStore(live.Engine)

				for i := range 2 {
					path := filepath.Join(t.TempDir(), "replica.db")
					copyDir(t, live.path+".log", path+".log")
					o := opts
					o.Clock = gamify.NewManualClock(live.clock.Now())
					eng, err := gamify.Open(path, &o)
					require.NoError(t, err)
					st := eng.Stats()
					require.Zero(t, st.ReplayFailed, "replica %d: commands failed at replay", i)
					require.NotZero(t, st.Replayed)
					require.NoError(t, gamify.Checkpoint(eng))
					got := gamify.DumpStore(eng)
					requireSameStore(t, want, got, fmt.Sprintf("replica %d", i))
					require.NoError(t, eng.Check(ctx))
					require.NoError(t, eng.Close())
				}
			})
		}
	}
}

// runReplayWorkload drives eng through the arrival game plus boards,
// rewards, a challenge, manual points, a hard delete and the status changes
// of arrivalAdmin, the clock moving as devices sync late.
func runReplayWorkload(t *testing.T, eng *testEngine, seed uint64, coverage bool) {
	t.Helper()
	ctx := context.Background()
	eng.clock.Set(arrivalFrom.Add(-24 * time.Hour))
	setupArrival(t, eng)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily-lessons", Name: "Daily lessons",
		RankBy: gamify.RankByMetric, Metric: "lessons", RunUnit: gamify.RunDay})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "xp-weekly", Name: "XP weekly",
		RankBy: gamify.RankByPoints, System: "xp", RunUnit: gamify.RunWeek})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "badge", Name: "Badge", Type: gamify.RewardDigital,
		Cost: gamify.AmountFromInt(20), System: "xp", PerUserLimit: gamify.RewardUnlimited})
	require.NoError(t, err)
	_, err = eng.Challenges().Create(ctx, gamify.Challenge{Key: "steady", Name: "Steady", Window: gamify.ChallengeRolling, Days: 7,
		Enrollment: gamify.ChallengeAutomatic, Objectives: []gamify.ChallengeObjective{
			{Key: "lessons", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: gamify.AmountFromInt(4)},
			{Key: "steps", Metric: "steps", Target: gamify.AmountFromInt(300), Prerequisites: []string{"lessons"}}},
		Milestones: []gamify.ChallengeMilestone{{Share: 50, Pay: gamify.ChallengePayout{System: "gems", Points: gamify.AmountFromInt(2)}}},
		Completion: gamify.ChallengePayout{Reward: "badge"}})
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(seed, 99))
	evs := arrivalEvents(seed)
	plan := arrivalDeliveries[len(arrivalDeliveries)-1].plan(rng, evs) // late syncs, shuffled
	next := 0
	for i, s := range plan {
		next = eng.admin(t, next, s.at) // the trigger, boost and board switched off and on (arrivalAdmin)
		eng.sync(t, s)
		u := arrivalUsers[rng.IntN(len(arrivalUsers))].id
		switch i % 17 {
		case 3:
			_, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "xp", User: u, Amount: gamify.AmountFromInt(int64(1 + rng.IntN(30))),
				IdempotencyKey: fmt.Sprint("award-", i)})
			require.NoError(t, err)
		case 5:
			_, err := eng.Challenges().Enroll(ctx, "steady", u)
			require.NoError(t, err)
		case 7:
			// May fail for want of points: a refused command is not logged.
			_, _ = eng.Points().Spend(ctx, gamify.PointsEntry{System: "xp", User: u, Amount: gamify.AmountFromInt(5)})
		case 11:
			_, _ = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: u, IdempotencyKey: fmt.Sprint("claim-", i)})
		case 13:
			_, err := eng.Metrics().Patch(ctx, "steps", func(m *gamify.Metric) { m.Name = fmt.Sprint("Steps ", i) })
			require.NoError(t, err)
		}
		if i == len(plan)/2 {
			// A hard delete of a user who comes back later.
			require.NoError(t, eng.Users().Erase(ctx, "di"))
		}
	}
	eng.admin(t, next, arrivalEnd)
	eng.clock.Set(arrivalEnd)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	st, err := eng.Challenges().Stats(ctx, "steady")
	require.NoError(t, err)
	if coverage {
		require.NotZero(t, st.Completed, "the workload completes the challenge: %+v", st)
	}
}

func requireSameStore(t *testing.T, want, got map[string]string, what string) {
	t.Helper()
	if d := os.Getenv("GAMIFY_DEBUG_DUMP"); d != "" {
		for name, m := range map[string]map[string]string{"want": want, "got": got} {
			f, _ := os.Create(filepath.Join(d, name+".txt"))
			keys := slices.Sorted(maps.Keys(m))
			for _, k := range keys {
				fmt.Fprintf(f, "%q %q\n", k, m[k])
			}
			f.Close()
		}
	}
	if len(want) == len(got) {
		same := true
		for k, v := range want {
			if got[k] != v {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	var diffs []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing %q", k))
		} else if g != v {
			diffs = append(diffs, fmt.Sprintf("differs %q:\n  want %q\n  got  %q", k, v, g))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("extra %q", k))
		}
	}
	slices.Sort(diffs)
	t.Fatalf("%s: the replayed store differs from the live one in %d records:\n%s", what, len(diffs), diffs[:min(len(diffs), 400)])
}

// openReplica opens a new file beside a copy of te's command log, on a
// manual clock at te's time: te's commands replayed, none failing. It is
// checked and closed at the end of the test.
func openReplica(t *testing.T, te *testEngine) *testEngine {
	t.Helper()
	path := filepath.Join(t.TempDir(), "replica.db")
	copyDir(t, te.path+".log", path+".log")
	o := te.opts
	clock := gamify.NewManualClock(te.clock.Now())
	o.Clock = clock
	eng, err := gamify.Open(path, &o)
	require.NoError(t, err)
	require.Zero(t, eng.Stats().ReplayFailed, "commands failed at replay")
	rep := &testEngine{Engine: eng, path: path, clock: clock, opts: o}
	t.Cleanup(func() { rep.closeChecked(t) })
	return rep
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(to, 0o700))
	ents, err := os.ReadDir(from)
	require.NoError(t, err)
	require.NotEmpty(t, ents, "the command log is empty")
	for _, ent := range ents {
		src, err := os.Open(filepath.Join(from, ent.Name()))
		require.NoError(t, err)
		dst, err := os.Create(filepath.Join(to, ent.Name()))
		require.NoError(t, err)
		_, err = io.Copy(dst, src)
		require.NoError(t, err)
		require.NoError(t, src.Close())
		require.NoError(t, dst.Close())
	}
}
