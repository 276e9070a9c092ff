package gamify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// streakEngine has a "steps" metric and a daily "walk" streak (1000 steps a
// day, one initial freeze) and a clock at 2026-03-02 12:00 New York time.
func streakEngine(t *testing.T, opts *gamify.Options, mod func(*gamify.Streak)) (*testEngine, *noteLog) {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, opts)
	ny, _ := time.LoadLocation("America/New_York")
	eng.clock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, ny))
	mustMetric(t, eng.Engine, "steps")
	s := gamify.Streak{Key: "walk", Name: "Walk", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "steps", Min: gamify.AmountFromInt(1000)}}, Freezes: gamify.StreakFreezes{Max: 2}}
	if mod != nil {
		mod(&s)
	}
	_, err := eng.Streaks().Create(ctx, s)
	require.NoError(t, err)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	require.NoError(t, err)
	log := &noteLog{}
	sub := eng.Subscribe(log.add)
	t.Cleanup(sub.Close)
	return eng, log
}

type noteLog struct {
	mu    sync.Mutex
	notes []gamify.StreakChanged
}

func (l *noteLog) add(n gamify.Notification) {
	if s, ok := n.(gamify.StreakChanged); ok {
		l.mu.Lock()
		l.notes = append(l.notes, s)
		l.mu.Unlock()
	}
}

// kinds waits briefly for delivery and returns the kinds seen so far.
func (l *noteLog) kinds(t *testing.T, want int) []string {
	t.Helper()
	require.Eventually(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.notes) >= want }, 5*time.Second, time.Millisecond)
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, n := range l.notes {
		out = append(out, n.Kind.String())
	}
	return out
}

func walk(t *testing.T, eng *testEngine, user string, steps float64) gamify.EventResult {
	t.Helper()
	r, err := eng.Track(context.Background(), gamify.Event{Metric: "steps", User: user, Value: steps})
	require.NoError(t, err)
	return r
}

func TestStreakExtendsOncePerDay(t *testing.T) {
	eng, log := streakEngine(t, nil, nil)
	r := walk(t, eng, "ana", 600)
	require.Equal(t, 0, r.Streak.Length)
	require.False(t, r.Streak.Extended)
	r = walk(t, eng, "ana", 600)
	require.Equal(t, "walk", r.Streak.Key)
	require.Equal(t, 1, r.Streak.Length)
	require.True(t, r.Streak.Extended, "the event that met the period extends")
	r = walk(t, eng, "ana", 5000)
	require.False(t, r.Streak.Extended, "later events the same day do not")
	for day := 1; day <= 3; day++ {
		eng.clock.Advance(24 * time.Hour)
		r = walk(t, eng, "ana", 1000)
		require.Equal(t, day+1, r.Streak.Length)
		require.True(t, r.Streak.Extended)
	}
	require.Equal(t, []string{"started", "extended", "extended", "extended"}, log.kinds(t, 4))
}

func TestStreakLossIsComputedFromTheClockAndNotifiedOnce(t *testing.T) {
	ctx := context.Background()
	eng, log := streakEngine(t, nil, nil)
	walk(t, eng, "ana", 1000)
	eng.clock.Advance(24 * time.Hour)
	walk(t, eng, "ana", 1000)
	eng.clock.Advance(48 * time.Hour) // all of 3 March missed

	s, err := eng.Users().Streak(ctx, "ana", "walk")
	require.NoError(t, err)
	require.Equal(t, 0, s.Length, "reads are right before any job ran")
	require.Equal(t, 2, s.Longest)

	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{"started", "extended", "lost"}, log.kinds(t, 3))
	log.mu.Lock()
	require.Equal(t, 2, log.notes[2].Length, "lost carries the lost length")
	log.mu.Unlock()
	n, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	eng.reopen(t)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	require.Len(t, log.kinds(t, 3), 3, "lost is reported exactly once, also across a restart")
}

func TestStreakFreezeConsumedAtPeriodEnd(t *testing.T) {
	ctx := context.Background()
	eng, log := streakEngine(t, nil, func(s *gamify.Streak) { s.Freezes.Initial = 1 })
	walk(t, eng, "ana", 1000)
	eng.clock.Advance(48 * time.Hour)
	_, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"started", "freeze_consumed"}, log.kinds(t, 2))
	r := walk(t, eng, "ana", 1000)
	require.Equal(t, 2, r.Streak.Length, "a frozen day keeps the length without adding to it")
	require.Zero(t, r.Streak.Freezes)
}

func TestStreakLateEventRepairsGap(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	day1 := eng.clock.Now()
	walk(t, eng, "ana", 1000)
	eng.clock.Advance(48 * time.Hour)
	r := walk(t, eng, "ana", 1000)
	require.Equal(t, 1, r.Streak.Length)
	// The phone syncs a walk of day 2 late.
	_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1500, Time: day1.Add(24 * time.Hour)})
	require.NoError(t, err)
	s, err := eng.Users().Streak(ctx, "ana", "walk")
	require.NoError(t, err)
	require.Equal(t, 3, s.Length)
	h, err := eng.Users().StreakHistory(ctx, "ana", "walk", 3)
	require.NoError(t, err)
	require.Len(t, h, 3)
	for _, p := range h {
		require.True(t, p.Met)
	}
}

func TestStreakPersonalizedThreshold(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, func(s *gamify.Streak) { s.Personalizable = true })
	_, err := eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Streak = gamify.StreakPreferences{Enabled: true, Thresholds: map[string]gamify.Amount{"steps": gamify.AmountFromInt(300)}}
	})
	require.NoError(t, err)
	r := walk(t, eng, "ana", 300)
	require.Equal(t, 1, r.Streak.Length)
	r = walk(t, eng, "bob", 300)
	require.Equal(t, 0, r.Streak.Length, "others keep the definition's minimum")
}

func TestStreakAdminGrantRestorePauseAndBulkRead(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	for range 3 {
		walk(t, eng, "ana", 1000)
		walk(t, eng, "bob", 1000)
		eng.clock.Advance(24 * time.Hour)
	}
	walk(t, eng, "bob", 1000)

	res, issues, err := eng.Streaks().GrantFreezes(ctx, "walk", []string{"ana", "ana", "ana", "ghost"})
	require.NoError(t, err)
	require.Len(t, res, 3)
	require.Equal(t, 3, res[2].Freezes)
	require.Equal(t, "exceeds max freezes", res[2].Warning)
	require.Len(t, issues, 2)
	require.Equal(t, gamify.SeverityWarning, issues[0].Severity)
	require.Equal(t, 2, issues[0].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound)

	rows, err := eng.Streaks().Users(ctx, "walk", []string{"ana", "bob", "nobody"})
	require.NoError(t, err)
	require.Equal(t, "bob", rows[0].User)
	require.Equal(t, 4, rows[0].Length)
	require.Equal(t, 3, rows[1].Length)
	require.Equal(t, 0, rows[2].Length)

	// Restore: bob misses two days, loses, and gets it back.
	eng.clock.Advance(72 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	s, err := eng.Users().Streak(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Equal(t, 0, s.Length)
	res, issues, err = eng.Streaks().Restore(ctx, "walk", []string{"bob"})
	require.NoError(t, err)
	require.Empty(t, issues)
	require.Equal(t, 4, res[0].Length)
	res, issues, err = eng.Streaks().Restore(ctx, "walk", []string{"bob"})
	require.NoError(t, err)
	require.Equal(t, "no streak to restore", res[0].Warning)
	require.Equal(t, gamify.SeverityWarning, issues[0].Severity)

	// Pauses start today at the earliest.
	today := gamify.Date{Year: 2026, Month: 3, Day: 8}
	_, err = eng.Streaks().AddPause(ctx, "walk", "bob", gamify.Date{Year: 2026, Month: 3, Day: 1}, today)
	require.ErrorIs(t, err, gamify.ErrInvalid)
	p, err := eng.Streaks().AddPause(ctx, "walk", "bob", today, gamify.Date{Year: 2026, Month: 3, Day: 10})
	require.NoError(t, err)
	ps, err := eng.Users().StreakPauses(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Equal(t, []gamify.StreakPause{p}, ps)
	eng.clock.Advance(48 * time.Hour)
	s, err = eng.Users().Streak(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Equal(t, 4, s.Length, "paused days keep the length")
	require.NoError(t, eng.Streaks().RemovePause(ctx, "walk", "bob", p.ID))
}

func TestStreakDefinitionValidation(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "bad key", Name: "", Frequency: "hourly",
		Metrics: []gamify.StreakMetric{{Metric: "steps", Min: gamify.AmountFromInt(-1)}}, Freezes: gamify.StreakFreezes{Max: 101}})
	for _, f := range []string{"Streak.Key", "Streak.Name", "Streak.Frequency", "Streak.Metrics[0].Min", "Streak.Freezes.Max"} {
		require.ErrorContains(t, err, f)
	}
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "s", Name: "S", Frequency: gamify.StreakWeekly,
		Metrics: []gamify.StreakMetric{{Metric: "nope", Min: gamify.AmountFromInt(1)}}})
	require.ErrorContains(t, err, "Streak.Metrics[0].Metric")
	require.ErrorIs(t, err, gamify.ErrInvalid)
	list, err := eng.Streaks().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestStreakStateSurvivesReopenAndArchive(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	walk(t, eng, "ana", 1000)
	eng.clock.Advance(24 * time.Hour)
	walk(t, eng, "ana", 1000)
	eng.reopen(t)
	s, err := eng.Users().Streak(ctx, "ana", "walk")
	require.NoError(t, err)
	require.Equal(t, 2, s.Length)
	require.NoError(t, eng.Streaks().Delete(ctx, "walk"))
	r := walk(t, eng, "ana", 1000)
	require.Nil(t, r.Streak, "an archived streak no longer counts")
	_, err = eng.Users().Streak(ctx, "ana", "walk")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestStreakFreezesAreEarnedBySchedule(t *testing.T) {
	ctx := context.Background()
	eng, log := streakEngine(t, nil, func(s *gamify.Streak) {
		s.Freezes = gamify.StreakFreezes{Max: 2, EarnAmount: 1, EarnEveryDays: 2}
	})
	for range 5 {
		walk(t, eng, "ana", 1000)
		eng.clock.Advance(24 * time.Hour)
		_, err := eng.RunDue(ctx)
		require.NoError(t, err)
	}
	s, err := eng.Users().Streak(ctx, "ana", "walk")
	require.NoError(t, err)
	require.Equal(t, 2, s.Freezes, "one every two days, capped at Max")
	kinds := log.kinds(t, 7)
	earned := 0
	for _, k := range kinds {
		if k == "freeze_earned" {
			earned++
		}
	}
	require.Equal(t, 2, earned, "notified once per earn: %v", kinds)
}
