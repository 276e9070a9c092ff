package gamify

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
)

// programsFixture is an engine with a weekly league (cohorts of 2, promote
// and demote 1) whose first run is rolled over (a and c promoted, b and d
// stayed) and whose second run has a (silver) and b (bronze) active, and a
// bundle "pack" that a claimed: 5 score points, double score for an hour
// and the manual achievement "shopper". With pending, the second run has
// ended and its rollover's first chunk failed: it is under way.
type programsFixture struct {
	eng        *Engine
	run1, run2 int64
	uid        map[string]uint32
}

func newProgramsFixture(t *testing.T, pending bool) *programsFixture {
	t.Helper()
	ctx := context.Background()
	clock := NewManualClock(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	failAt := 0 // fail the commit of this number (1 is the next one)
	opts := &Options{Clock: clock}
	opts.beforeCommit = func() error {
		mu.Lock()
		defer mu.Unlock()
		if failAt > 0 {
			if failAt--; failAt == 0 {
				return errors.New("disk gone")
			}
		}
		return nil
	}
	eng, err := Open(filepath.Join(t.TempDir(), "p.db"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })
	_, err = eng.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, Leaderboard{Key: "weekly", Name: "Weekly", RankBy: RankByMetric, Metric: "xp", TZ: "UTC", RunEvery: 1, RunUnit: RunWeek})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "weekly")
	require.NoError(t, err)
	_, err = eng.Leagues().Create(ctx, League{Key: "league", Name: "League", Board: "weekly", Tiers: []string{"bronze", "silver", "gold"}, CohortSize: 2, Promote: 1, Demote: 1})
	require.NoError(t, err)
	for _, k := range []string{"gems", "score"} {
		_, err = eng.Points().Create(ctx, PointsSystem{Key: k, Name: k})
		require.NoError(t, err)
	}
	for _, k := range []string{"shopper", "other"} {
		_, err = eng.Achievements().Create(ctx, Achievement{Key: k, Name: k, Kind: AchievementManual})
		require.NoError(t, err)
	}
	_, err = eng.Rewards().Create(ctx, Reward{Key: "pack", Name: "Pack", Type: RewardBundle, System: "gems", Cost: AmountFromInt(10),
		PerUserLimit: RewardUnlimited, Grants: RewardGrants{
			Boosts:       []BoostGrant{{System: "score", Multiplier: AmountFromInt(2), Duration: time.Hour}},
			Points:       []PointsGrant{{System: "score", Amount: AmountFromInt(5)}},
			Achievements: []string{"shopper"},
		}})
	require.NoError(t, err)
	track := func(user string, v float64) {
		_, err := eng.Track(ctx, Event{Metric: "xp", User: user, Value: v})
		require.NoError(t, err)
	}
	for i, u := range []string{"a", "b", "c", "d"} {
		track(u, float64(4-i))
	}
	_, err = eng.Points().Award(ctx, PointsEntry{System: "gems", User: "a", Amount: AmountFromInt(100)})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, ClaimRequest{Reward: "pack", User: "a"})
	require.NoError(t, err)
	st, err := eng.Leagues().Standing(ctx, "league", "a")
	require.NoError(t, err)
	f := &programsFixture{eng: eng, run1: st.RunStart.UnixNano(), run2: st.RunEnd.UnixNano(), uid: map[string]uint32{}}
	clock.Set(st.RunEnd)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	track("a", 1)
	track("b", 1)
	for _, u := range []string{"a", "b", "c", "d"} {
		p, _, err := eng.readUser(u, false)
		require.NoError(t, err)
		f.uid[u] = uint32(p.UID)
	}
	if pending {
		clock.Set(st.RunEnd.AddDate(0, 0, 7))
		mu.Lock()
		failAt = 2 // the board's rollover commits, the league's first chunk fails
		mu.Unlock()
		_, err = eng.RunDue(ctx)
		require.Error(t, err)
	}
	require.NoError(t, eng.Check(ctx))
	return f
}

// damage changes the engine's store behind its back.
func (f *programsFixture) damage(t *testing.T, fn func(tx *store.Tx) error) {
	t.Helper()
	require.NoError(t, f.eng.db.Update(fn))
}

// editClaim rewrites the stored claim(s) of the pack.
func editClaim(edit func(c *Claim)) func(tx *store.Tx) error {
	return func(tx *store.Tx) error {
		var keys, vals [][]byte
		if err := tx.Scan(store.Claims, nil, func(k, v []byte) error {
			var c Claim
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			edit(&c)
			b, err := json.Marshal(c)
			keys, vals = append(keys, append([]byte(nil), k...)), append(vals, b)
			return err
		}); err != nil {
			return err
		}
		for i, k := range keys {
			if err := tx.Put(store.Claims, k, vals[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestCheckFindsLeagueDrift(t *testing.T) {
	cases := []struct {
		name    string
		pending bool
		damage  func(f *programsFixture) func(tx *store.Tx) error
		want    string
	}{
		{"cohort size", false, func(f *programsFixture) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				return tx.Put(store.Jobs, leagueRunKey("league", f.run2), binary.AppendUvarint(nil, 5000))
			}
		}, "cohort size 5000"},
		{"two places in a run", false, func(f *programsFixture) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				return tx.Put(store.Jobs, leagueMemberKey("league", f.run2, 0, 1), binary.BigEndian.AppendUint64(nil, uint64(f.uid["a"])))
			}
		}, "holds 2 places"},
		{"tier not from the newest result", false, func(f *programsFixture) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				return tx.Put(store.Jobs, leagueTierKey("league", f.uid["a"]), binary.AppendUvarint(nil, 2))
			}
		}, "holds tier 2, their newest result gave 1"},
		{"tier without a result", false, func(f *programsFixture) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				return tx.Delete(store.Jobs, binary.BigEndian.AppendUint64(leagueHistoryPrefix("league", f.uid["c"]), uint64(f.run1)))
			}
		}, "holds tier 1, which no result gave"},
		{"result that moves two tiers", false, func(f *programsFixture) func(tx *store.Tx) error {
			return editHistory(f, "b", func(h map[string]any) { h["newTierIx"] = 2 })
		}, "stayed from tier 0 to 2"},
		{"result ranked past its cohort", false, func(f *programsFixture) func(tx *store.Tx) error {
			return editHistory(f, "b", func(h map[string]any) { h["Rank"] = 5 })
		}, "rank 5 of 2"},
		{"result of another user", false, func(f *programsFixture) func(tx *store.Tx) error {
			return editHistory(f, "b", func(h map[string]any) { h["User"] = "d" })
		}, "filed as d's"},
		{"waiting for nothing", false, func(f *programsFixture) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				return tx.Put(store.Jobs, leagueWaitKey("league", f.run2, 0), binary.BigEndian.AppendUint64(nil, uint64(f.uid["c"])))
			}
		}, "waits for the end of a run they are not in"},
		{"rollover past a member", true, func(f *programsFixture) func(tx *store.Tx) error {
			return func(tx *store.Tx) error {
				e, ok := decodeLeagueEnd(tx.Get(store.Jobs, leagueEndKey("league", f.run2)))
				if !ok {
					return errors.New("no rollover under way")
				}
				e.cohort = 1 // bronze cohort 1 (b) counted as done
				return tx.Put(store.Jobs, leagueEndKey("league", f.run2), e.encode())
			}
		}, "left at tier 0 place 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newProgramsFixture(t, c.pending)
			f.damage(t, c.damage(f))
			require.ErrorContains(t, f.eng.Check(context.Background()), c.want)
		})
	}
}

// editHistory rewrites user's result of run 1 as a JSON object.
func editHistory(f *programsFixture, user string, edit func(map[string]any)) func(tx *store.Tx) error {
	return func(tx *store.Tx) error {
		k := binary.BigEndian.AppendUint64(leagueHistoryPrefix("league", f.uid[user]), uint64(f.run1))
		var m map[string]any
		if err := json.Unmarshal(tx.Get(store.Jobs, k), &m); err != nil {
			return err
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return tx.Put(store.Jobs, k, b)
	}
}

func TestCheckFindsBundleDrift(t *testing.T) {
	cases := []struct {
		name   string
		damage func(tx *store.Tx) error
		want   string
	}{
		{"points without a claim", func(tx *store.Tx) error {
			var keys [][]byte
			if err := tx.Scan(store.Claims, nil, func(k, _ []byte) error { keys = append(keys, append([]byte(nil), k...)); return nil }); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(store.Claims, k); err != nil {
					return err
				}
			}
			return nil
		}, "for reward pack, which no claim granted"},
		{"points above the grant", editClaim(func(c *Claim) { c.Grants.Points[0].Amount = AmountFromInt(1) }), "awarded for a grant of 1 of reward pack"},
		{"grant without its award", func(tx *store.Tx) error {
			var del [][]byte
			if err := tx.Scan(store.Ledger, nil, func(k, v []byte) error {
				if en, err := ledger.Unmarshal(k, v); err == nil && strings.HasPrefix(en.Cause, "reward ") {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			}); err != nil {
				return err
			}
			for _, k := range del {
				if err := tx.Delete(store.Ledger, k); err != nil {
					return err
				}
			}
			return nil
		}, "its grant of 5 score has no award"},
		{"boost grant without its boost", editClaim(func(c *Claim) { c.Grants.Boosts[0].Multiplier = AmountFromInt(3) }), "its boost of score ×3 has no boost"},
		{"achievement grant not held", editClaim(func(c *Claim) { c.Grants.Achievements = []string{"other"} }), "achievement other it granted is not held"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newProgramsFixture(t, false)
			f.damage(t, c.damage)
			require.ErrorContains(t, f.eng.Check(context.Background()), c.want)
		})
	}
}
