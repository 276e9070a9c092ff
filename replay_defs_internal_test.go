package gamify

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every definition admin change is a logged command: its records, applied
// in order to a fresh engine at the same times, give a byte-identical store.

// recording collects the records of the commands applied while on. Its
// hook wraps the codec check (codec_internal_test.go, whose init runs
// first: files initialise in name order).
var recording struct {
	sync.Mutex
	on   bool
	recs [][]byte
	errs []error
}

func init() {
	check := commandCheck
	commandCheck = func(c command, now time.Time) {
		if check != nil {
			check(c, now)
		}
		recording.Lock()
		defer recording.Unlock()
		if !recording.on {
			return
		}
		b, err := encodeCommand(nil, c, now)
		if err != nil {
			recording.errs = append(recording.errs, err)
			return
		}
		recording.recs = append(recording.recs, b)
	}
}

func TestDefinitionCommandsReplayToTheSameStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	open := func(name string, clock *ManualClock, keys func() string) *Engine {
		t.Helper()
		e, err := Open(filepath.Join(dir, name), &Options{Clock: clock, rewardKey: keys})
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	drawn := []string{"badge", "gen_1", "gen_2", "gen_3"} // the first is taken: drawn again
	clock := NewManualClock(start)
	a := open("a.db", clock, func() string { k := drawn[0]; drawn = drawn[1:]; return k })

	recording.Lock()
	recording.on, recording.recs, recording.errs = true, nil, nil
	recording.Unlock()
	defer func() {
		recording.Lock()
		recording.on = false
		recording.Unlock()
	}()
	defineEverything(t, a, clock)
	recording.Lock()
	recording.on = false
	recs, errs := recording.recs, recording.errs
	recording.Unlock()
	require.Empty(t, errs, "every command applied can be logged")
	require.Greater(t, len(recs), 80)

	replayClock := NewManualClock(start)
	b := open("b.db", replayClock, func() string { panic("a replayed command draws no key") })
	for i, rec := range recs {
		c, at, err := decodeCommand(rec)
		require.NoError(t, err, "record %d", i)
		replayClock.Set(at)
		_, err = b.do(ctx, c, at, true)
		require.NoError(t, err, "record %d: %s", i, c.(loggable).opName())
	}
	want, got := DumpStore(a), DumpStore(b)
	require.Contains(t, want, "definitions/points-boost/mine")
	for k, v := range want {
		require.Equal(t, v, got[k], "key %s", k)
	}
	require.Equal(t, len(want), len(got))
}

// defineEverything runs every admin verb of every definition resource,
// with failing items, a patch of a time in a zone of its own, a generated
// reward key drawn twice and status changes at different times.
func defineEverything(t *testing.T, e *Engine, clock *ManualClock) {
	ctx := context.Background()
	tick := func() { clock.Advance(time.Minute) }
	must := func(_ any, err error) {
		t.Helper()
		require.NoError(t, err)
		tick()
	}
	done := func(err error) {
		t.Helper()
		require.NoError(t, err)
		tick()
	}
	bulk := func(issues int) func(any, []Issue, error) {
		return func(_ any, is []Issue, err error) {
			t.Helper()
			require.NoError(t, err)
			require.Len(t, is, issues, "%v", is)
			tick()
		}
	}
	deleted := func(issues int) func([]Issue, error) {
		return func(is []Issue, err error) {
			t.Helper()
			require.NoError(t, err)
			require.Len(t, is, issues, "%v", is)
			tick()
		}
	}
	n := func(v int64) Amount { return AmountFromInt(v) }

	ms := e.Metrics()
	must(ms.Create(ctx, Metric{Key: "xp", Name: "XP"}))
	bulk(1)(ms.BulkCreate(ctx, []Metric{{Key: "steps", Name: "Steps"}, {Key: "bad", Name: "caf\xe9"}}))
	must(ms.Patch(ctx, "xp", func(m *Metric) { m.Units = "points" }))
	bulk(1)(ms.BulkPatch(ctx, []string{"xp", "steps", "nope"}, func(m *Metric) { m.Description = "counted" }))
	must(ms.Deactivate(ctx, "steps"))
	must(ms.Activate(ctx, "steps"))
	must(ms.Create(ctx, Metric{Key: "old", Name: "Old"}))
	done(ms.Delete(ctx, "old"))
	deleted(2)(ms.BulkDelete(ctx, []string{"steps", "nope", "caf\xe9"})) // not a key: refused before the command
	require.ErrorIs(t, ms.Delete(ctx, "caf\xe9"), ErrNotFound)

	as := e.Attributes()
	must(as.Create(ctx, Attribute{Key: "tier", Name: "Tier", Type: UserAttribute}))
	bulk(0)(as.BulkCreate(ctx, []Attribute{{Key: "mode", Name: "Mode", Type: EventAttribute}, {Key: "plan", Name: "Plan", Type: UserAttribute}}))
	must(as.Patch(ctx, "tier", func(a *Attribute) { a.Name = "Tier level" }))
	bulk(0)(as.BulkPatch(ctx, []string{"mode", "plan"}, func(a *Attribute) { a.Name += "!" }))
	must(as.Deactivate(ctx, "plan"))
	must(as.Activate(ctx, "plan"))
	deleted(0)(as.BulkDelete(ctx, []string{"plan"}))

	ss := e.Streaks()
	must(ss.Create(ctx, Streak{Key: "daily", Name: "Daily", Frequency: StreakDaily, Metrics: []StreakMetric{{Metric: "xp", Min: n(1)}}}))
	bulk(0)(ss.BulkCreate(ctx, []Streak{{Key: "weekly", Name: "Weekly", Frequency: StreakWeekly, Metrics: []StreakMetric{{Metric: "xp", Min: n(5)}}}}))
	must(ss.Patch(ctx, "daily", func(s *Streak) { s.Description = "every day" }))
	bulk(0)(ss.BulkPatch(ctx, []string{"daily", "weekly"}, func(s *Streak) { s.Name += "!" }))
	must(ss.Deactivate(ctx, "weekly"))
	clock.Advance(time.Hour)
	must(ss.Activate(ctx, "weekly"))
	must(ss.Create(ctx, Streak{Key: "monthly", Name: "Monthly", Frequency: StreakMonthly, Metrics: []StreakMetric{{Metric: "xp", Min: n(1)}}}))
	done(ss.Delete(ctx, "monthly"))
	deleted(1)(ss.BulkDelete(ctx, []string{"weekly", "monthly"}))

	ps := e.Points()
	must(ps.Create(ctx, PointsSystem{Key: "coins", Name: "Coins",
		Levels:   []Level{{Key: "bronze", Level: 1, Name: "Bronze"}},
		Triggers: []Trigger{{Key: "per10", Kind: TriggerMetric, Metric: "xp", Threshold: n(10), Points: n(5)}},
		Boosts:   []Boost{{Key: "double", Scope: BoostGlobal, From: Date{Year: 2026, Month: 1, Day: 1}, Multiplier: n(2)}}}))
	bulk(1)(ps.BulkCreate(ctx, []PointsSystem{{Key: "gems", Name: "Gems"}, {Key: "coins", Name: "Again"}}))
	must(ps.Patch(ctx, "coins", func(s *PointsSystem) { s.Description = "spend them" }))
	bulk(0)(ps.BulkPatch(ctx, []string{"coins", "gems"}, func(s *PointsSystem) { s.Name += "!" }))
	must(ps.Deactivate(ctx, "gems"))
	must(ps.Activate(ctx, "gems"))
	must(ps.Create(ctx, PointsSystem{Key: "stars", Name: "Stars"}))
	done(ps.Delete(ctx, "stars"))
	deleted(1)(ps.BulkDelete(ctx, []string{"gems", "stars"}))

	ls := ps.Levels("coins")
	must(ls.Create(ctx, Level{Key: "silver", Level: 2, Name: "Silver", Threshold: n(100)}))
	bulk(1)(ls.BulkCreate(ctx, []Level{{Key: "gold", Level: 3, Name: "Gold", Threshold: n(500)}, {Key: "tin", Level: 2, Name: "Tin", Threshold: n(50)}}))
	must(ls.Patch(ctx, "silver", func(l *Level) { l.Threshold = n(150) }))
	bulk(0)(ls.BulkPatch(ctx, []string{"silver", "gold"}, func(l *Level) { l.Name += "!" }))
	must(ls.Deactivate(ctx, "gold"))
	must(ls.Activate(ctx, "gold"))
	done(ls.Delete(ctx, "gold"))
	deleted(1)(ls.BulkDelete(ctx, []string{"silver", "gold"}))

	ts := ps.Triggers()
	must(ts.Create(ctx, Trigger{Key: "welcome", System: "coins", Kind: TriggerUserCreation, Points: n(10)}))
	bulk(1)(ts.BulkCreate(ctx, []Trigger{{Key: "per5", System: "coins", Kind: TriggerMetric, Metric: "xp", Threshold: n(5), Points: n(1)},
		{Key: "ghost", System: "coins", Kind: TriggerMetric, Metric: "ghost", Threshold: n(5), Points: n(1)}}))
	must(ts.Patch(ctx, "per5", func(tr *Trigger) { tr.Points = n(2) }))
	bulk(0)(ts.BulkPatch(ctx, []string{"per5", "welcome"}, func(tr *Trigger) { tr.Points = tr.Points.Add(n(1)) }))
	must(ts.Deactivate(ctx, "per5"))
	must(ts.Activate(ctx, "per5"))
	done(ts.Delete(ctx, "welcome"))
	deleted(1)(ts.BulkDelete(ctx, []string{"per5", "welcome"}))

	paris := time.FixedZone("CET", 3600)
	bs := ps.Boosts()
	must(bs.Create(ctx, Boost{Key: "mine", System: "coins", Scope: BoostUser, User: "ana",
		Start: time.Date(2026, 3, 9, 10, 0, 0, 0, paris), End: time.Date(2026, 3, 10, 10, 0, 0, 0, paris), Multiplier: n(3)}))
	bulk(0)(bs.BulkCreate(ctx, []Boost{{Key: "cohort", System: "coins", Scope: BoostCohort, UserFilters: map[string]string{"tier": "gold"},
		From: Date{Year: 2026, Month: 3, Day: 1}, Multiplier: n(2)}}))
	must(bs.Patch(ctx, "mine", func(b *Boost) { b.End = b.End.Add(time.Hour) }))
	bulk(0)(bs.BulkPatch(ctx, []string{"mine", "cohort"}, func(b *Boost) { b.Name = "Boosted" }))
	must(bs.Deactivate(ctx, "cohort"))
	must(bs.Activate(ctx, "cohort"))
	done(bs.Delete(ctx, "double"))
	deleted(1)(bs.BulkDelete(ctx, []string{"cohort", "double"}))

	ach := e.Achievements()
	must(ach.Create(ctx, Achievement{Key: "ten", Name: "Ten", Kind: AchievementMetric, Metric: "xp", Threshold: n(10)}))
	bulk(0)(ach.BulkCreate(ctx, []Achievement{{Key: "twenty", Name: "Twenty", Kind: AchievementMetric, Metric: "xp", Threshold: n(20)},
		{Key: "both", Name: "Both", Kind: AchievementComposite, Prerequisites: []string{"ten", "twenty"}}}))
	must(ach.Patch(ctx, "twenty", func(d *Achievement) { d.Threshold = n(15) }))
	bulk(0)(ach.BulkPatch(ctx, []string{"ten", "twenty"}, func(d *Achievement) { d.Category = "xp" }))
	must(ach.Lock(ctx, "ten"))
	must(ach.Activate(ctx, "ten"))
	must(ach.Deactivate(ctx, "twenty"))
	require.Error(t, ach.Delete(ctx, "ten"), "a prerequisite of both")
	deleted(1)(ach.BulkDelete(ctx, []string{"both", "ten", "both"}))

	lb := e.Leaderboards()
	must(lb.Create(ctx, Leaderboard{Key: "board", Name: "Board", RankBy: RankByMetric, Metric: "xp"}))
	bulk(0)(lb.BulkCreate(ctx, []Leaderboard{{Key: "daily", Name: "Daily", RankBy: RankByMetric, Metric: "xp", RunUnit: RunDay, Status: StatusInactive}}))
	must(lb.Patch(ctx, "board", func(b *Leaderboard) { b.Description = "all time" }))
	bulk(0)(lb.BulkPatch(ctx, []string{"board", "daily"}, func(b *Leaderboard) { b.Name += "!" }))
	must(lb.Activate(ctx, "daily"))
	must(lb.Deactivate(ctx, "daily"))
	must(lb.Finish(ctx, "board"))
	done(lb.Delete(ctx, "board"))
	deleted(1)(lb.BulkDelete(ctx, []string{"daily", "board"}))

	rs := e.Rewards()
	must(rs.Create(ctx, Reward{Key: "badge", Name: "Badge", Type: RewardDigital}))
	must(rs.Create(ctx, Reward{Name: "Generated", Type: RewardDigital}))
	bulk(1)(rs.BulkCreate(ctx, []Reward{{Name: "Gen 2", Type: RewardDigital}, {Key: "cap", Name: "Cap", Type: RewardPhysical, Inventory: 5}, {Key: "cap", Name: "Twice", Type: RewardDigital}}))
	must(rs.Patch(ctx, "cap", func(r *Reward) { r.Inventory = 10 }))
	bulk(0)(rs.BulkPatch(ctx, []string{"cap", "badge"}, func(r *Reward) { r.Description = "yours" }))
	must(rs.Deactivate(ctx, "cap"))
	must(rs.Activate(ctx, "cap"))
	done(rs.Delete(ctx, "gen_1"))
	deleted(1)(rs.BulkDelete(ctx, []string{"cap", "gen_1"}))

	tn := e.Tenants()
	must(tn.Create(ctx, Tenant{Key: "acme", Name: "Acme"}))
	bulk(1)(tn.BulkCreate(ctx, []Tenant{{Key: "globex", Name: "Globex"}, {Key: "ACME", Name: "Shouting"}}))
	must(tn.Patch(ctx, "acme", func(x *Tenant) { x.Name = "Acme Inc" }))
	bulk(0)(tn.BulkPatch(ctx, []string{"acme", "globex"}, func(x *Tenant) { x.Name += "!" }))
	must(tn.Deactivate(ctx, "globex"))
	must(tn.Activate(ctx, "globex"))
	done(tn.Delete(ctx, "globex"))
	deleted(1)(tn.BulkDelete(ctx, []string{"acme", "globex"}))
}
