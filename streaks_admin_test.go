package gamify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func streakKeys(ss []gamify.Streak) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Key)
	}
	return out
}

func dailyStreak(key string, order int) gamify.Streak {
	return gamify.Streak{Key: key, Name: key, Order: order, Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "steps", Min: gamify.AmountFromInt(1000)}}}
}

func TestStreaksAdmin(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "steps")
	mustMetric(t, eng.Engine, "off")
	_, err := eng.Metrics().Deactivate(ctx, "off")
	require.NoError(t, err)

	s, err := eng.Streaks().Create(ctx, dailyStreak("c", 3))
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, s.Status)
	require.Equal(t, gamify.StreakModeAll, s.Mode, "the default mode is spelled out")
	_, err = eng.Streaks().Create(ctx, dailyStreak("c", 0))
	require.ErrorIs(t, err, gamify.ErrConflict)

	bad := dailyStreak("bad", 0)
	bad.Frequency = "hourly"
	offMetric := dailyStreak("offm", 0)
	offMetric.Metrics[0].Metric = "off"
	created, issues, err := eng.Streaks().BulkCreate(ctx, []gamify.Streak{
		dailyStreak("b", 2), bad, dailyStreak("c", 0), offMetric, dailyStreak("a", 1),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, streakKeys(created))
	require.Len(t, issues, 3)
	var ve *gamify.ValidationError
	require.Equal(t, 1, issues[0].Index)
	require.Equal(t, "bad", issues[0].Key)
	require.ErrorAs(t, issues[0].Err, &ve)
	require.Equal(t, "Streak.Frequency", ve.Field)
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrConflict)
	require.Equal(t, 3, issues[2].Index)
	require.ErrorAs(t, issues[2].Err, &ve)
	require.Equal(t, "Streak.Metrics[0].Metric", ve.Field)
	_, _, err = eng.Streaks().BulkCreate(ctx, make([]gamify.Streak, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// Creation order, not Order; paging.
	list, err := eng.Streaks().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "b", "a"}, streakKeys(list))
	require.Equal(t, []int{3, 2, 1}, []int{list[0].Order, list[1].Order, list[2].Order})
	list, err = eng.Streaks().List(ctx, gamify.ListOptions{Limit: 1, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, streakKeys(list))
	list, err = eng.Streaks().List(ctx, gamify.ListOptions{Skip: 5})
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = eng.Streaks().List(ctx, gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// Delete archives: hidden, no longer counting, key not reusable.
	r, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1000})
	require.NoError(t, err)
	require.Equal(t, "c", r.Streak.Key, "without a default, the first created reports")
	issues, err = eng.Streaks().BulkDelete(ctx, []string{"c", "zzz", "c"})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound, "deleting an archived streak")
	require.ErrorIs(t, eng.Streaks().Delete(ctx, "c"), gamify.ErrNotFound)
	_, err = eng.Streaks().Create(ctx, dailyStreak("c", 0))
	require.ErrorIs(t, err, gamify.ErrConflict)
	list, err = eng.Streaks().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, streakKeys(list))
	r, err = eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1000})
	require.NoError(t, err)
	require.Equal(t, "b", r.Streak.Key, "an archived streak no longer reports")
	_, err = eng.Users().Streak(ctx, "ana", "c")
	require.ErrorIs(t, err, gamify.ErrNotFound)

	eng.reopen(t)
	list, err = eng.Streaks().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "b", "a"}, streakKeys(list))
	got, err := eng.Streaks().Get(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	require.Equal(t, 3, got.Order)

	patched, issues, err := eng.Streaks().BulkPatch(ctx, []string{"a", "c", "b"}, func(s *gamify.Streak) { s.GraceHours = 2 })
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, streakKeys(patched))
	require.Equal(t, 2, patched[1].GraceHours)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound, "an archived streak is not patched")
	_, issues, err = eng.Streaks().BulkPatch(ctx, []string{"a", "b"}, func(s *gamify.Streak) {
		if s.Key == "b" {
			s.Metrics[0].Min = gamify.Amount{}
		}
	})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorAs(t, issues[0].Err, &ve)
	require.Equal(t, "Streak.Metrics[0].Min", ve.Field)
}

func TestStreakPatchAndLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "steps")
	mustMetric(t, eng.Engine, "km")
	mustMetric(t, eng.Engine, "later")
	in := dailyStreak("walk", 4)
	in.Description, in.GraceHours, in.Personalizable = "Walk daily", 3, true
	in.Metrics = append(in.Metrics, gamify.StreakMetric{Metric: "km", Min: gamify.AmountFromInt(2)})
	in.Freezes = gamify.StreakFreezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 7}
	created, err := eng.Streaks().Create(ctx, in)
	require.NoError(t, err)
	_, err = eng.Metrics().Deactivate(ctx, "km")
	require.NoError(t, err)
	_, err = eng.Metrics().Deactivate(ctx, "later")
	require.NoError(t, err)

	// Refused edits name their field and change nothing.
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Streak){
		"Streak.Key":             func(s *gamify.Streak) { s.Key = "run" },
		"Streak.Status":          func(s *gamify.Streak) { s.Status = gamify.StatusInactive },
		"Streak.Created":         func(s *gamify.Streak) { s.Created = s.Created.Add(time.Hour) },
		"Streak.Updated":         func(s *gamify.Streak) { s.Updated = time.Time{} },
		"Streak.Name":            func(s *gamify.Streak) { s.Name = "" },
		"Streak.Frequency":       func(s *gamify.Streak) { s.Frequency = "hourly" },
		"Streak.WeekStart":       func(s *gamify.Streak) { s.WeekStart = "funday" },
		"Streak.Mode":            func(s *gamify.Streak) { s.Mode = "most" },
		"Streak.GraceHours":      func(s *gamify.Streak) { s.GraceHours = 23 },
		"Streak.Freezes.Initial": func(s *gamify.Streak) { s.Freezes.Initial = 4 },
		"Streak.Metrics[1].Min":  func(s *gamify.Streak) { s.Metrics[1].Min = gamify.AmountFromInt(-1) },
		"Streak.Metrics[2].Metric": func(s *gamify.Streak) {
			s.Metrics = append(s.Metrics, gamify.StreakMetric{Metric: "later", Min: gamify.AmountFromInt(1)})
		},
	} {
		_, err := eng.Streaks().Patch(ctx, "walk", edit)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Streaks().Patch(ctx, "nope", func(*gamify.Streak) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// Only the edited field changes; the metric deactivated since (km) does
	// not block an edit that leaves the metrics alone.
	eng.clock.Advance(time.Minute)
	s, err := eng.Streaks().Patch(ctx, "walk", func(s *gamify.Streak) { s.Order = 9 })
	require.NoError(t, err)
	want := created
	want.Order, want.Updated = 9, created.Updated.Add(time.Minute)
	require.Equal(t, want, s, "only Order (and Updated) changed")
	got, err := eng.Streaks().Get(ctx, "walk")
	require.NoError(t, err)
	require.Equal(t, s, got)
	eng.reopen(t)
	got, err = eng.Streaks().Get(ctx, "walk")
	require.NoError(t, err)
	require.Equal(t, s.Freezes, got.Freezes)
	require.Equal(t, s.Metrics, got.Metrics)
	require.Equal(t, s.Order, got.Order)

	// Create with a status.
	inactive := dailyStreak("later", 0)
	inactive.Status = gamify.StatusInactive
	s, err = eng.Streaks().Create(ctx, inactive)
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, s.Status)
	r, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1000})
	require.NoError(t, err)
	require.Equal(t, "walk", r.Streak.Key)
	us, err := eng.Users().Streak(ctx, "ana", "later")
	require.NoError(t, err)
	require.Zero(t, us.Length, "created inactive: events do not count")
	// Inactive since ever, not since its creation: once active, a late
	// event dated before the creation counts no more than one dated after.
	_, err = eng.Streaks().Activate(ctx, "later")
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "steps", User: "bo", Value: 1000, Time: eng.clock.Now().Add(-time.Hour)})
	require.NoError(t, err)
	us, err = eng.Users().Streak(ctx, "bo", "later")
	require.NoError(t, err)
	require.Zero(t, us.Length, "a late event dated before the creation of a streak created inactive")
	gone := dailyStreak("gone", 0)
	gone.Status = gamify.StatusArchived
	_, err = eng.Streaks().Create(ctx, gone)
	require.ErrorContains(t, err, "Streak.Status")
	gone.Status, gone.Default = gamify.StatusInactive, true
	_, err = eng.Streaks().Create(ctx, gone)
	require.ErrorContains(t, err, "Streak.Default")

	require.NoError(t, eng.Streaks().Delete(ctx, "walk"))
	_, err = eng.Streaks().Activate(ctx, "walk")
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived streak stays archived")
	_, err = eng.Streaks().Deactivate(ctx, "walk")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Streaks().Patch(ctx, "walk", func(s *gamify.Streak) { s.Name = "Back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// Deactivate pauses the streak for everyone: no counting, no losses, the
// inactive days shown as paused; Activate resumes the runs.
func TestStreakDeactivateKeepsRunsAndActivateResumes(t *testing.T) {
	ctx := context.Background()
	eng, log := streakEngine(t, nil, nil)
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "bob", TZ: "America/New_York"})
	require.NoError(t, err)
	for range 2 {
		walk(t, eng, "ana", 1000)
		walk(t, eng, "bob", 1000)
		eng.clock.Advance(24 * time.Hour)
	}
	// Now 4 March, noon: both at 2, today unmet.
	s, err := eng.Streaks().Deactivate(ctx, "walk")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, s.Status)
	again, err := eng.Streaks().Deactivate(ctx, "walk")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, s, again)
	list, err := eng.Streaks().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"walk"}, streakKeys(list), "inactive streaks are listed")

	r := walk(t, eng, "ana", 1000)
	require.Nil(t, r.Streak, "an inactive streak neither counts nor reports")
	_, _, err = eng.Streaks().GrantFreezes(ctx, "walk", []string{"ana"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Streaks().AddPause(ctx, "walk", "ana", gamify.Date{Year: 2026, Month: 3, Day: 10}, gamify.Date{Year: 2026, Month: 3, Day: 11})
	require.ErrorIs(t, err, gamify.ErrConflict)

	for range 3 {
		eng.clock.Advance(24 * time.Hour)
		_, err := eng.RunDue(ctx)
		require.NoError(t, err)
	}
	eng.reopen(t)
	sub := eng.Subscribe(log.add)
	t.Cleanup(sub.Close)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	us, err := eng.Users().Streak(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Equal(t, 2, us.Length, "no loss while inactive")
	require.True(t, us.Paused, "an inactive streak reads as paused")
	require.Equal(t, []string{"started", "started", "extended", "extended"}, log.kinds(t, 4))

	// 7 March, noon: reactivate. Ana walks and goes on from 2; a late event
	// dated while inactive does not count.
	s, err = eng.Streaks().Activate(ctx, "walk")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, s.Status)
	again, err = eng.Streaks().Activate(ctx, "walk")
	require.NoError(t, err, "activating twice is not an error")
	require.Equal(t, s, again)
	late, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "bob", Value: 1000, Time: eng.clock.Now().Add(-48 * time.Hour)})
	require.NoError(t, err)
	require.Nil(t, late.Streak, "a late event dated while inactive is ignored")
	us, err = eng.Users().Streak(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Equal(t, 2, us.Length)
	r = walk(t, eng, "ana", 1000)
	require.Equal(t, 3, r.Streak.Length, "the run resumes where it was")
	require.True(t, r.Streak.Extended)
	hist, err := eng.Users().StreakHistory(ctx, "ana", "walk", 5)
	require.NoError(t, err)
	require.Len(t, hist, 5)
	for _, p := range hist[1:4] { // 4, 5 and 6 March
		require.True(t, p.UsedPause, "%s", p.First)
		require.False(t, p.Missed)
	}

	// Bob, whose period ends came due while inactive, is processed again:
	// 7 March was partly inactive (paused), missing 8 March loses his streak.
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	us, err = eng.Users().Streak(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Equal(t, 2, us.Length)
	walk(t, eng, "ana", 1000)
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	kinds := log.kinds(t, 7)
	require.Equal(t, []string{"started", "started", "extended", "extended", "extended", "extended", "lost"}, kinds)
	log.mu.Lock()
	require.Equal(t, "bob", log.notes[6].User)
	log.mu.Unlock()
	us, err = eng.Users().Streak(ctx, "bob", "walk")
	require.NoError(t, err)
	require.Zero(t, us.Length)
}

// Only an active streak is the default; Deactivate clears the flag.
func TestStreakDefaultIsAnActiveStreak(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "steps")
	_, err := eng.Streaks().Create(ctx, dailyStreak("a", 0))
	require.NoError(t, err)
	b := dailyStreak("b", 0)
	b.Default = true
	_, err = eng.Streaks().Create(ctx, b)
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, dailyStreak("c", 0))
	require.NoError(t, err)
	track := func() string {
		r, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1})
		require.NoError(t, err)
		return r.Streak.Key
	}
	require.Equal(t, "b", track())

	s, err := eng.Streaks().Deactivate(ctx, "b")
	require.NoError(t, err)
	require.False(t, s.Default, "Deactivate clears Default")
	require.Equal(t, "a", track(), "then the first created active streak reports")
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Streaks().Patch(ctx, "b", func(s *gamify.Streak) { s.Default = true })
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Streak.Default", ve.Field)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Streaks().Patch(ctx, "b", func(s *gamify.Streak) { s.Name = "B" })
	require.NoError(t, err, "other edits of an inactive streak are fine")
	_, err = eng.Streaks().Activate(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, "a", track(), "Activate does not bring the flag back")

	// A bulk edit that sets Default on one streak is not undone by the
	// others' unchanged flags.
	_, err = eng.Streaks().Patch(ctx, "a", func(s *gamify.Streak) { s.Default = true })
	require.NoError(t, err)
	_, issues, err := eng.Streaks().BulkPatch(ctx, []string{"c", "a"}, func(s *gamify.Streak) {
		s.Default = s.Default || s.Key == "c"
	})
	require.NoError(t, err)
	require.Empty(t, issues)
	require.Equal(t, "c", track())
	eng.reopen(t)
	require.Equal(t, "c", track())
	list, err := eng.Streaks().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	var defaults []string
	for _, s := range list {
		if s.Default {
			defaults = append(defaults, s.Key)
		}
	}
	require.Equal(t, []string{"c"}, defaults)
}

// Definitions, dates and notifications have JSON with names, not numbers.
func TestStreakJSONIsStable(t *testing.T) {
	s := gamify.Streak{Key: "w", Name: "W", Frequency: gamify.StreakWeekly, WeekStart: gamify.Sunday, Mode: gamify.StreakModeAny,
		Metrics: []gamify.StreakMetric{{Metric: "km", Min: floatAmount(1.5)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 2}}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	for _, want := range []string{`"Frequency":"weekly"`, `"WeekStart":"sunday"`, `"Mode":"any"`, `"Min":"1.5"`, `"Freezes":{"Initial":1,"Max":2,"EarnAmount":0,"EarnEveryDays":0}`} {
		require.Contains(t, string(b), want)
	}
	var back gamify.Streak
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, s, back)

	b, err = json.Marshal(gamify.StreakChanged{Kind: gamify.StreakFreezeConsumed, Period: gamify.Date{Year: 2026, Month: 3, Day: 8}})
	require.NoError(t, err)
	require.Contains(t, string(b), `"Kind":"freeze_consumed"`)
	require.Contains(t, string(b), `"Period":"2026-03-08"`)
	b, err = json.Marshal(gamify.StreakPause{ID: 1, To: gamify.Date{Year: 2026, Month: 12, Day: 31}})
	require.NoError(t, err)
	require.Equal(t, `{"ID":1,"From":"","To":"2026-12-31"}`, string(b))
	var p gamify.StreakPause
	require.NoError(t, json.Unmarshal(b, &p))
	require.Equal(t, gamify.StreakPause{ID: 1, To: gamify.Date{Year: 2026, Month: 12, Day: 31}}, p)
	require.Error(t, json.Unmarshal([]byte(`{"From":"2026-02-30"}`), &p))
}

// A Deactivate landing between a patch's edit and its command makes the
// patch run again on the inactive streak: the status and the inactive
// time are kept.
func TestStreakPatchRetriesWhenDeactivatedMeanwhile(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	walk(t, eng, "ana", 1000)
	calls := 0
	s, err := eng.Streaks().Patch(ctx, "walk", func(s *gamify.Streak) {
		calls++
		if calls == 1 {
			_, err := eng.Streaks().Deactivate(ctx, "walk")
			require.NoError(t, err)
		}
		s.Description = "Walk every day"
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls, "the edit ran again on the new version")
	require.Equal(t, gamify.StatusInactive, s.Status)
	require.Equal(t, "Walk every day", s.Description)
	eng.clock.Advance(72 * time.Hour)
	us, err := eng.Users().Streak(ctx, "ana", "walk")
	require.NoError(t, err)
	require.Equal(t, 1, us.Length, "still paused: the patch kept the inactive time")
	require.True(t, us.Paused)
}
