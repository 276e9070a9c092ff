package gamify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// The intervals a definition was inactive (Inactive) are public: Create
// takes them from an export, checked, reads return them, and an event is
// judged by them at its own time; Patch and Apply leave them to the engine.

// inactiveNow is the clock of these tests: ten days after t0, so that the
// intervals and the late events before it are in the past.
var inactiveNow = t0.Add(10 * 24 * time.Hour)

func hours(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// closedOff is an interval a definition created active was inactive in.
var closedOff = []gamify.Interval{{From: hours(24), To: hours(48)}}

// inactiveEngine has the metric xp and the points system coins at
// inactiveNow.
func inactiveEngine(t *testing.T) *testEngine {
	t.Helper()
	te := openTest(t, nil)
	te.clock.Set(inactiveNow)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Points().Create(context.Background(), gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	return te
}

func perXP(key string, st gamify.Status, off []gamify.Interval) gamify.Trigger {
	return gamify.Trigger{Key: key, System: "coins", Kind: gamify.TriggerMetric, Metric: "xp",
		Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10), Status: st, Inactive: off}
}

func double(key string, st gamify.Status, off []gamify.Interval) gamify.Boost {
	return gamify.Boost{Key: key, System: "coins", Scope: gamify.BoostGlobal, Multiplier: gamify.AmountFromInt(2),
		From: gamify.Date{Year: 2026, Month: 3, Day: 1}, Status: st, Inactive: off}
}

func daily(key string, st gamify.Status, off []gamify.Interval) gamify.Streak {
	return gamify.Streak{Key: key, Name: key, Frequency: gamify.StreakDaily, Status: st, Inactive: off,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}}
}

func xpBoard(key string, st gamify.Status, off []gamify.Interval) gamify.Leaderboard {
	return gamify.Leaderboard{Key: key, Name: key, RankBy: gamify.RankByMetric, Metric: "xp",
		Start: gamify.Date{Year: 2026, Month: 3, Day: 1}, Status: st, Inactive: off}
}

// xpChallenge counts xp events in March, every user enrolled by the first.
func xpChallenge(key string, st gamify.Status, off []gamify.Interval) gamify.Challenge {
	return gamify.Challenge{Key: key, Name: key, Window: gamify.ChallengeFixed, Start: hours(-24 * 7), End: hours(24 * 20),
		Enrollment: gamify.ChallengeAutomatic, Status: st, Inactive: off,
		Objectives: []gamify.ChallengeObjective{{Key: "o", Metric: "xp", Count: gamify.ChallengeCountEvents, Target: gamify.AmountFromInt(10)}}}
}

func TestCreateWithInactiveReadsBack(t *testing.T) {
	ctx := context.Background()
	te := inactiveEngine(t)
	// Inactive now since 96h, after a closed interval; the times come back
	// in UTC whatever zone they were given in.
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	open := []gamify.Interval{{From: hours(24).In(paris), To: hours(48)}, {From: hours(96)}}
	want := []gamify.Interval{{From: hours(24), To: hours(48)}, {From: hours(96)}}
	in := gamify.StatusInactive

	tr, err := te.Points().Triggers().Create(ctx, perXP("t-open", in, open))
	require.NoError(t, err)
	require.Equal(t, want, tr.Inactive, "Create returns them")
	_, err = te.Points().Triggers().Create(ctx, perXP("t-closed", "", closedOff))
	require.NoError(t, err)
	_, err = te.Points().Boosts().Create(ctx, double("b-open", in, open))
	require.NoError(t, err)
	_, err = te.Streaks().Create(ctx, daily("s-open", in, open))
	require.NoError(t, err)
	_, err = te.Leaderboards().Create(ctx, xpBoard("l-open", in, open))
	require.NoError(t, err)
	_, err = te.Challenges().Create(ctx, xpChallenge("c-open", in, open))
	require.NoError(t, err)

	check := func() {
		t.Helper()
		tg, err := te.Points().Triggers().Get(ctx, "t-open")
		require.NoError(t, err)
		require.Equal(t, []any{in, want}, []any{tg.Status, tg.Inactive}, "trigger")
		tc, err := te.Points().Triggers().Get(ctx, "t-closed")
		require.NoError(t, err)
		require.Equal(t, []any{gamify.StatusActive, closedOff}, []any{tc.Status, tc.Inactive}, "trigger created active")
		ts, err := te.Points().Triggers().List(ctx, gamify.ListOptions{})
		require.NoError(t, err)
		require.Equal(t, want, ts[0].Inactive, "List")
		b, err := te.Points().Boosts().Get(ctx, "b-open")
		require.NoError(t, err)
		require.Equal(t, []any{in, want}, []any{b.Status, b.Inactive}, "boost")
		bs, err := te.Points().Boosts().List(ctx, gamify.ListOptions{})
		require.NoError(t, err)
		require.Equal(t, want, bs[0].Inactive, "boost List")
		s, err := te.Streaks().Get(ctx, "s-open")
		require.NoError(t, err)
		require.Equal(t, []any{in, want}, []any{s.Status, s.Inactive}, "streak")
		ss, err := te.Streaks().List(ctx, gamify.ListOptions{})
		require.NoError(t, err)
		require.Equal(t, want, ss[0].Inactive, "streak List")
		l, err := te.Leaderboards().Get(ctx, "l-open")
		require.NoError(t, err)
		require.Equal(t, []any{in, want}, []any{l.Status, l.Inactive}, "board")
		ls, err := te.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeInactive: true})
		require.NoError(t, err)
		require.Equal(t, want, ls[0].Inactive, "board List")
		c, err := te.Challenges().Get(ctx, "c-open")
		require.NoError(t, err)
		require.Equal(t, []any{in, want}, []any{c.Status, c.Inactive}, "challenge")
		cs, err := te.Challenges().List(ctx, gamify.ListOptions{})
		require.NoError(t, err)
		require.Equal(t, want, cs[0].Inactive, "challenge List")
	}
	check()
	te.reopen(t)
	check()

	// Created inactive without intervals: inactive since ever, as before
	// (a board: a draft, with none).
	s, err := te.Streaks().Create(ctx, daily("s-ever", in, nil))
	require.NoError(t, err)
	require.Equal(t, []gamify.Interval{{}}, s.Inactive)
	l, err := te.Leaderboards().Create(ctx, xpBoard("l-draft", in, nil))
	require.NoError(t, err)
	require.Empty(t, l.Inactive)
	// Activate closes the open interval at now.
	tr, err = te.Points().Triggers().Activate(ctx, "t-open")
	require.NoError(t, err)
	require.Equal(t, []gamify.Interval{want[0], {From: hours(96), To: inactiveNow}}, tr.Inactive)
}

func TestCreateRefusesBadInactive(t *testing.T) {
	ctx := context.Background()
	te := inactiveEngine(t)
	future := inactiveNow.Add(time.Hour)
	many := make([]gamify.Interval, 65)
	for i := range many {
		many[i] = gamify.Interval{From: hours(i), To: hours(i).Add(time.Minute)}
	}
	in := gamify.StatusInactive
	for _, c := range []struct {
		name  string
		st    gamify.Status
		off   []gamify.Interval
		field string
	}{
		{"too many", "", many, "Inactive"},
		{"zero From after the first", "", []gamify.Interval{{From: hours(1), To: hours(2)}, {To: hours(3)}}, "Inactive[1].From"},
		{"From after To", "", []gamify.Interval{{From: hours(2), To: hours(1)}}, "Inactive[0].To"},
		{"From equals To", "", []gamify.Interval{{From: hours(2), To: hours(2)}}, "Inactive[0].To"},
		{"not sorted", "", []gamify.Interval{{From: hours(5), To: hours(6)}, {From: hours(1), To: hours(2)}}, "Inactive[1].From"},
		{"overlapping", "", []gamify.Interval{{From: hours(1), To: hours(3)}, {From: hours(2), To: hours(4)}}, "Inactive[1].From"},
		{"open before the last", in, []gamify.Interval{{From: hours(1)}, {From: hours(2)}}, "Inactive[0].To"},
		{"open while active", "", []gamify.Interval{{From: hours(1), To: hours(2)}, {From: hours(3)}}, "Inactive[1].To"},
		{"open while explicitly active", gamify.StatusActive, []gamify.Interval{{From: hours(3)}}, "Inactive[0].To"},
		{"closed last while inactive", in, []gamify.Interval{{From: hours(1), To: hours(2)}}, "Inactive[0].To"},
		{"From in the future", in, []gamify.Interval{{From: future}}, "Inactive[0].From"},
		{"To in the future", "", []gamify.Interval{{From: hours(1), To: future}}, "Inactive[0].To"},
	} {
		t.Run(c.name, func(t *testing.T) {
			creates := []struct {
				kind string
				do   func() error
				get  func() error
			}{
				{"Trigger", func() error { _, err := te.Points().Triggers().Create(ctx, perXP("t", c.st, c.off)); return err },
					func() error { _, err := te.Points().Triggers().Get(ctx, "t"); return err }},
				{"Boost", func() error { _, err := te.Points().Boosts().Create(ctx, double("b", c.st, c.off)); return err },
					func() error { _, err := te.Points().Boosts().Get(ctx, "b"); return err }},
				{"Streak", func() error { _, err := te.Streaks().Create(ctx, daily("s", c.st, c.off)); return err },
					func() error { _, err := te.Streaks().Get(ctx, "s"); return err }},
				{"Leaderboard", func() error { _, err := te.Leaderboards().Create(ctx, xpBoard("l", c.st, c.off)); return err },
					func() error { _, err := te.Leaderboards().Get(ctx, "l"); return err }},
				{"Challenge", func() error { _, err := te.Challenges().Create(ctx, xpChallenge("c", c.st, c.off)); return err },
					func() error { _, err := te.Challenges().Get(ctx, "c"); return err }},
			}
			for _, k := range creates {
				err := k.do()
				var v *gamify.ValidationError
				require.True(t, errors.As(err, &v), "%s: %v", k.kind, err)
				require.ErrorIs(t, err, gamify.ErrInvalid)
				require.Equal(t, k.kind+"."+c.field, v.Field, "%s: %v", k.kind, err)
				require.ErrorIs(t, k.get(), gamify.ErrNotFound, "%s: nothing created", k.kind)
			}
		})
	}
	// A system's trigger is refused the same way, naming it in the system.
	_, err := te.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems",
		Triggers: []gamify.Trigger{{Key: "g", Kind: gamify.TriggerMetric, Metric: "xp", Threshold: gamify.AmountFromInt(1),
			Points: gamify.AmountFromInt(1), Inactive: []gamify.Interval{{From: hours(2), To: hours(1)}}}}})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	require.Contains(t, err.Error(), "Inactive[0].To")
	_, err = te.Points().Get(ctx, "gems")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// TestLateEventsJudgedByGivenInactive: an event dated inside an interval
// Create was given pays, multiplies and counts nothing, whenever it
// arrives; one dated outside does, as on the definitions that lived it.
func TestLateEventsJudgedByGivenInactive(t *testing.T) {
	ctx := context.Background()
	te := inactiveEngine(t)
	// The trigger was inactive 24h–48h, the boost 72h–96h.
	_, err := te.Points().Triggers().Create(ctx, perXP("per-xp", "", closedOff))
	require.NoError(t, err)
	_, err = te.Points().Boosts().Create(ctx, double("double", "", []gamify.Interval{{From: hours(72), To: hours(96)}}))
	require.NoError(t, err)
	_, err = te.Leaderboards().Create(ctx, xpBoard("top", "", closedOff))
	require.NoError(t, err)
	// Paused since 100h: an activated board, not a draft.
	_, err = te.Leaderboards().Create(ctx, xpBoard("paused", gamify.StatusInactive, []gamify.Interval{{From: hours(100)}}))
	require.NoError(t, err)
	_, err = te.Challenges().Create(ctx, xpChallenge("march", "", closedOff))
	require.NoError(t, err)
	_, err = te.Streaks().Create(ctx, daily("days", "", closedOff))
	require.NoError(t, err)
	track := func(user string, h int) {
		t.Helper()
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 1, Time: hours(h)})
		require.NoError(t, err)
	}
	track("ana", 30)  // the trigger, board and challenge were inactive
	track("ana", 80)  // the boost was inactive: 10
	track("ana", 120) // 10 × 2; the paused board was paused
	require.Equal(t, "30", balance(t, te, "ana").String())
	score := func(board string) string {
		t.Helper()
		p, err := te.Leaderboards().Rankings(ctx, board, gamify.BoardQuery{})
		require.NoError(t, err)
		require.Len(t, p.Rows, 1)
		return p.Rows[0].Score.String()
	}
	require.Equal(t, "2", score("top"), "the event dated in the interval counts nowhere")
	require.Equal(t, "2", score("paused"), "dated before the pause: counted; after: not")
	ps, err := te.Challenges().User(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, "2", ps[0].Objectives[0].Progress.String())
	// The streak's 9 March (30h) overlaps the interval: the event does not
	// meet it, and the day counts as paused; 11 March (80h) is met.
	hist, err := te.Users().StreakHistory(ctx, "ana", "days", 10)
	require.NoError(t, err)
	days := map[gamify.Date][2]bool{}
	for _, p := range hist {
		days[p.First] = [2]bool{p.Met, p.UsedPause}
	}
	require.Equal(t, [2]bool{false, true}, days[gamify.Date{Year: 2026, Month: 3, Day: 9}])
	require.Equal(t, [2]bool{true, false}, days[gamify.Date{Year: 2026, Month: 3, Day: 11}])

	// A board created later with the interval fills from history without
	// the events dated in it.
	_, err = te.Leaderboards().Create(ctx, xpBoard("later", "", closedOff))
	require.NoError(t, err)
	for {
		n, err := te.RunDue(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	require.Equal(t, "2", score("later"))
}

// TestPatchAndApplyKeepInactive: the intervals are the engine's. A Patch
// that changes them is refused, naming the field, as one changing Created
// is; one changing another field keeps them; Apply neither reports nor
// changes them, and creates without them.
func TestPatchAndApplyKeepInactive(t *testing.T) {
	ctx := context.Background()
	te := inactiveEngine(t)
	in := gamify.StatusInactive
	open := []gamify.Interval{{From: hours(24), To: hours(48)}, {From: hours(96)}}
	other := []gamify.Interval{{From: hours(1)}}
	_, err := te.Points().Triggers().Create(ctx, perXP("t", in, open))
	require.NoError(t, err)
	_, err = te.Points().Boosts().Create(ctx, double("b", in, open))
	require.NoError(t, err)
	_, err = te.Streaks().Create(ctx, daily("s", in, open))
	require.NoError(t, err)
	_, err = te.Leaderboards().Create(ctx, xpBoard("l", in, open))
	require.NoError(t, err)
	_, err = te.Challenges().Create(ctx, xpChallenge("c", in, open))
	require.NoError(t, err)

	refused := func(kind string, err error) {
		t.Helper()
		var v *gamify.ValidationError
		require.True(t, errors.As(err, &v), "%s: %v", kind, err)
		require.Equal(t, kind+".Inactive", v.Field)
	}
	_, err = te.Points().Triggers().Patch(ctx, "t", func(d *gamify.Trigger) { d.Inactive = other })
	refused("Trigger", err)
	_, err = te.Points().Triggers().Patch(ctx, "t", func(d *gamify.Trigger) { d.Inactive[0].To = hours(50) })
	refused("Trigger", err)
	_, err = te.Points().Boosts().Patch(ctx, "b", func(d *gamify.Boost) { d.Inactive = nil })
	refused("Boost", err)
	_, err = te.Streaks().Patch(ctx, "s", func(d *gamify.Streak) { d.Inactive = other })
	refused("Streak", err)
	_, err = te.Leaderboards().Patch(ctx, "l", func(d *gamify.Leaderboard) { d.Inactive = other })
	refused("Leaderboard", err)
	_, err = te.Challenges().Patch(ctx, "c", func(d *gamify.Challenge) { d.Inactive = other })
	refused("Challenge", err)
	_, issues, err := te.Points().Triggers().BulkPatch(ctx, []string{"t"}, func(d *gamify.Trigger) { d.Inactive = other })
	require.NoError(t, err)
	require.Len(t, issues, 1)
	refused("Trigger", issues[0].Err)

	// Patching another field keeps them.
	tr, err := te.Points().Triggers().Patch(ctx, "t", func(d *gamify.Trigger) { d.Points = gamify.AmountFromInt(5) })
	require.NoError(t, err)
	require.Equal(t, open, tr.Inactive)
	b, err := te.Points().Boosts().Patch(ctx, "b", func(d *gamify.Boost) { d.Name = "Double" })
	require.NoError(t, err)
	require.Equal(t, open, b.Inactive)
	s, err := te.Streaks().Patch(ctx, "s", func(d *gamify.Streak) { d.Name = "Daily" })
	require.NoError(t, err)
	require.Equal(t, open, s.Inactive)
	l, err := te.Leaderboards().Patch(ctx, "l", func(d *gamify.Leaderboard) { d.Name = "Top" })
	require.NoError(t, err)
	require.Equal(t, open, l.Inactive)
	c, err := te.Challenges().Patch(ctx, "c", func(d *gamify.Challenge) { d.Name = "March" })
	require.NoError(t, err)
	require.Equal(t, open, c.Inactive)

	// Apply with other intervals: unchanged, and kept.
	game := gamify.Game{
		Streaks: []gamify.Streak{{Key: "s", Inactive: other}},
		Points: []gamify.PointsSystem{{Key: "coins", Triggers: []gamify.Trigger{{Key: "t", Inactive: other}},
			Boosts: []gamify.Boost{{Key: "b", Inactive: other}}}},
		Leaderboards: []gamify.Leaderboard{{Key: "l", Inactive: other}},
		Challenges:   []gamify.Challenge{{Key: "c", Inactive: other}},
	}
	rep, err := te.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%+v", rep)
	tr, err = te.Points().Triggers().Get(ctx, "t")
	require.NoError(t, err)
	require.Equal(t, open, tr.Inactive)
	ch, err := te.Challenges().Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, open, ch.Inactive)

	// A definition Apply creates gets no intervals from it.
	rep, err = te.Apply(ctx, gamify.Game{Points: []gamify.PointsSystem{{Key: "coins",
		Triggers: []gamify.Trigger{perXP("new", "", closedOff)}}}})
	require.NoError(t, err)
	require.True(t, rep.Changed())
	tr, err = te.Points().Triggers().Get(ctx, "new")
	require.NoError(t, err)
	require.Empty(t, tr.Inactive)
}

// An export made on a machine whose clock is ahead of the importing one's
// may hold an interval ending a little after the importer's now: up to 5
// minutes is accepted.
func TestCreateTakesInactiveAFewMinutesAhead(t *testing.T) {
	ctx := context.Background()
	te := inactiveEngine(t)
	ahead := []gamify.Interval{{From: inactiveNow.Add(-time.Hour), To: inactiveNow.Add(2 * time.Minute)}}
	tr, err := te.Points().Triggers().Create(ctx, perXP("ahead", gamify.StatusActive, ahead))
	require.NoError(t, err)
	require.Len(t, tr.Inactive, 1)
	require.True(t, tr.Inactive[0].To.Equal(ahead[0].To))
	_, err = te.Points().Triggers().Create(ctx, perXP("too-far", gamify.StatusActive,
		[]gamify.Interval{{From: inactiveNow.Add(-time.Hour), To: inactiveNow.Add(6 * time.Minute)}}))
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Trigger.Inactive[0].To", ve.Field)
}
