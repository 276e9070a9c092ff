package gamify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func ach(key string, kind gamify.AchievementKind, mod func(*gamify.AchievementDefinition)) gamify.AchievementDefinition {
	d := gamify.AchievementDefinition{Key: key, Name: key, Kind: kind, Status: gamify.AchievementActive}
	if mod != nil {
		mod(&d)
	}
	return d
}

func achEngine(t *testing.T, defs ...gamify.AchievementDefinition) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	for _, k := range []string{"mode"} {
		_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: k, Name: k, Type: gamify.EventAttribute})
		require.NoError(t, err)
	}
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "plan", Type: gamify.UserAttribute})
	require.NoError(t, err)
	for _, d := range defs {
		_, err := eng.Achievements().Create(ctx, d)
		require.NoError(t, err)
	}
	return eng
}

func keysOf(cs []gamify.AchievementCompletion) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Key)
	}
	return out
}

func threshold(v int64) func(*gamify.AchievementDefinition) {
	return func(d *gamify.AchievementDefinition) { d.Metric, d.Threshold = "xp", gamify.AmountFromInt(v) }
}

func TestAchievementsOnEvents(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t,
		ach("xp10", gamify.KindMetric, threshold(10)),
		ach("xp20", gamify.KindMetric, threshold(20)),
		ach("xp15", gamify.KindMetric, threshold(15)),
		ach("both", gamify.KindComposite, func(d *gamify.AchievementDefinition) { d.Prerequisites = []string{"xp10", "xp15"} }),
		ach("all3", gamify.KindComposite, func(d *gamify.AchievementDefinition) { d.Prerequisites = []string{"both", "xp20"} }),
	)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"xp10"}, keysOf(r.Achievements), "threshold reached exactly")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 11})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"xp15", "xp20", "both", "all3"}, keysOf(r.Achievements),
		"one event overshooting completes two, and a chain of composites in the same event")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: -30})
	require.NoError(t, err)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 30})
	require.NoError(t, err)
	require.Empty(t, r.Achievements, "down then up does not complete again")

	list, err := eng.Achievements().List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, list, 5)
	for _, s := range list {
		require.Equal(t, 1, s.Completions)
		require.Equal(t, 100.0, s.RarityPercent)
	}
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 1})
	require.NoError(t, err)
	list, err = eng.Achievements().List(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 50.0, list[0].RarityPercent)
	mine, err := eng.Achievements().User(ctx, "bob", true)
	require.NoError(t, err)
	require.Len(t, mine, 5)
	for _, a := range mine {
		if a.Key == "xp10" {
			require.Equal(t, "1", a.Current.String())
			require.Equal(t, "10", a.Target.String())
		}
	}
}

func TestAchievementFiltersGatingAndStatuses(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t,
		ach("ranked", gamify.KindMetric, func(d *gamify.AchievementDefinition) {
			threshold(5)(d)
			d.EventFilters = map[string]string{"mode": "ranked"}
		}),
		ach("pro", gamify.KindMetric, func(d *gamify.AchievementDefinition) {
			threshold(1)(d)
			d.UserFilters = map[string]string{"plan": "pro"}
		}),
	)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10, Attributes: map[string]string{"mode": "casual"}})
	require.NoError(t, err)
	require.Empty(t, r.Achievements, "only matching events count, and ana is not pro")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5, Attributes: map[string]string{"mode": "ranked"},
		Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "pro"}}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"ranked", "pro"}, keysOf(r.Achievements),
		"gaining the attribute completes the gated one at the next relevant event")

	// Locked: nobody new completes it; the holder keeps it.
	d := ach("pro", gamify.KindMetric, func(d *gamify.AchievementDefinition) {
		threshold(1)(d)
		d.UserFilters = map[string]string{"plan": "pro"}
		d.Status = gamify.AchievementLocked
	})
	_, err = eng.Achievements().Update(ctx, d)
	require.NoError(t, err)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 5, Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "pro"}}})
	require.NoError(t, err)
	require.Empty(t, r.Achievements)
	held, err := eng.Achievements().User(ctx, "ana", false)
	require.NoError(t, err)
	require.Len(t, held, 2)
}

func TestManualAchievement(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t,
		ach("hero", gamify.KindManual, nil),
		ach("xp1", gamify.KindMetric, threshold(1)),
		ach("legend", gamify.KindComposite, func(d *gamify.AchievementDefinition) { d.Prerequisites = []string{"hero", "xp1"} }),
	)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	r, err := eng.Achievements().Complete(ctx, "hero", "ana")
	require.NoError(t, err)
	require.False(t, r.AlreadyCompleted)
	require.Equal(t, []string{"hero", "legend"}, keysOf(r.Completions))
	first := r.CompletedAt
	eng.clock.Advance(time.Hour)
	r, err = eng.Achievements().Complete(ctx, "hero", "ana")
	require.NoError(t, err)
	require.True(t, r.AlreadyCompleted)
	require.Equal(t, first, r.CompletedAt, "a repeat returns the original time")
	require.Empty(t, r.Completions)
	_, err = eng.Achievements().Complete(ctx, "xp1", "ana")
	require.ErrorIs(t, err, gamify.ErrInvalid, "not a manual achievement")
	_, err = eng.Achievements().Complete(ctx, "nope", "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestAchievementBackdatingWhileEventsFlow(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t)
	const users = 10_000 // twenty backdating chunks
	evs := make([]gamify.Event, 0, 1000)
	for i := range users {
		evs = append(evs, gamify.Event{Metric: "xp", User: fmt.Sprintf("u%04d", i), Value: float64(i % 20)})
		if len(evs) == cap(evs) {
			_, err := eng.TrackBatch(ctx, evs)
			require.NoError(t, err)
			evs = evs[:0]
		}
	}
	var mu sync.Mutex
	notified := 0
	sub := eng.Subscribe(func(n gamify.Notification) {
		if _, ok := n.(gamify.AchievementCompleted); ok {
			mu.Lock()
			notified++
			mu.Unlock()
		}
	})
	defer sub.Close()
	_, err := eng.Achievements().Create(ctx, ach("xp10", gamify.KindMetric, threshold(10)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { // events keep flowing during the backdating
		for i := range 200 {
			if _, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "late" + fmt.Sprint(i), Value: 10}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	wg.Wait()
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	list, err := eng.Achievements().List(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, users/2+200, list[0].Completions, "every qualifying user, once")
	got, err := eng.Achievements().User(ctx, "u0019", false)
	require.NoError(t, err)
	require.True(t, got[0].Backdated)
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 200, notified, "only live completions are notified; backdated ones are not")
}

func TestAchievementRaceCompletesOnce(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("xp50", gamify.KindMetric, threshold(50)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	completions := 0
	for range 64 {
		wg.Go(func() {
			r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			completions += len(r.Achievements)
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, 1, completions)
}

func TestStreakAchievement(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	_, err := eng.Achievements().Create(ctx, ach("walk3", gamify.KindStreak, func(d *gamify.AchievementDefinition) {
		d.Streak, d.Length = "walk", 3
	}))
	require.NoError(t, err)
	var r gamify.EventResult
	for range 3 {
		r = walk(t, eng, "ana", 1000)
		eng.clock.Advance(24 * time.Hour)
	}
	require.Equal(t, []string{"walk3"}, keysOf(r.Achievements))
	_, err = eng.Achievements().Create(ctx, ach("bad", gamify.KindStreak, func(d *gamify.AchievementDefinition) { d.Streak, d.Length = "nope", 1 }))
	require.ErrorContains(t, err, "Achievement.Streak")
}

func TestAchievementDeleteAndBulk(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t)
	created, issues, err := eng.Achievements().BulkCreate(ctx, []gamify.AchievementDefinition{
		ach("a", gamify.KindMetric, threshold(1)),
		ach("b", gamify.KindComposite, func(d *gamify.AchievementDefinition) { d.Prerequisites = []string{"a"} }),
		ach("a", gamify.KindManual, nil),
		ach("c", gamify.KindComposite, func(d *gamify.AchievementDefinition) { d.Prerequisites = []string{"zzz"} }),
	})
	require.NoError(t, err)
	require.Len(t, created, 2)
	require.Len(t, issues, 2)
	require.ErrorIs(t, issues[0].Err, gamify.ErrConflict)
	require.Equal(t, 3, issues[1].Index)
	require.ErrorIs(t, eng.Achievements().Delete(ctx, "a"), gamify.ErrConflict, "a is a prerequisite of b")
	require.NoError(t, eng.Achievements().Delete(ctx, "b"))
	require.NoError(t, eng.Achievements().Delete(ctx, "a"))
	list, err := eng.Achievements().List(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, list)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Empty(t, r.Achievements, "archived achievements are not evaluated")
	_, err = eng.Achievements().Create(ctx, ach("a", gamify.KindManual, nil))
	require.ErrorIs(t, err, gamify.ErrConflict, "keys are never reused")
	eng.reopen(t)
	got, err := eng.Achievements().Get(ctx, "a")
	require.NoError(t, err)
	require.True(t, got.Archived)
}

func TestAchievementBulkUpdateBackdatesLoweredThreshold(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("xp10", gamify.KindMetric, threshold(10)))
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 7})
	require.NoError(t, err)
	updated, issues, err := eng.Achievements().BulkUpdate(ctx, []gamify.AchievementDefinition{
		ach("xp10", gamify.KindMetric, threshold(5)),
		ach("nope", gamify.KindManual, nil),
	})
	require.NoError(t, err)
	require.Len(t, updated, 1)
	require.Len(t, issues, 1)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	got, err := eng.Achievements().User(ctx, "ana", false)
	require.NoError(t, err)
	require.Len(t, got, 1, "lowering the threshold backdated it")
	require.True(t, got[0].Backdated)
	issues, err = eng.Achievements().BulkDelete(ctx, []string{"xp10", "xp10"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
}
