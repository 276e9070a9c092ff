package gamify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func ach(key string, kind gamify.AchievementKind, mod func(*gamify.Achievement)) gamify.Achievement {
	d := gamify.Achievement{Key: key, Name: key, Kind: kind}
	if mod != nil {
		mod(&d)
	}
	return d
}

func achEngine(t *testing.T, defs ...gamify.Achievement) *testEngine {
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

func threshold(v int64) func(*gamify.Achievement) {
	return func(d *gamify.Achievement) { d.Metric, d.Threshold = "xp", gamify.AmountFromInt(v) }
}

func TestAchievementsOnEvents(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t,
		ach("xp10", gamify.AchievementMetric, threshold(10)),
		ach("xp20", gamify.AchievementMetric, threshold(20)),
		ach("xp15", gamify.AchievementMetric, threshold(15)),
		ach("both", gamify.AchievementComposite, func(d *gamify.Achievement) { d.Prerequisites = []string{"xp10", "xp15"} }),
		ach("all3", gamify.AchievementComposite, func(d *gamify.Achievement) { d.Prerequisites = []string{"both", "xp20"} }),
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

	list, err := eng.Achievements().Stats(ctx, gamify.AchievementStatsQuery{})
	require.NoError(t, err)
	require.Len(t, list, 5)
	for _, s := range list {
		require.Equal(t, 1, s.Completions)
		require.Equal(t, 100.0, s.RarityPercent)
	}
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 1})
	require.NoError(t, err)
	list, err = eng.Achievements().Stats(ctx, gamify.AchievementStatsQuery{})
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
		ach("ranked", gamify.AchievementMetric, func(d *gamify.Achievement) {
			threshold(5)(d)
			d.EventFilters = map[string]string{"mode": "ranked"}
		}),
		ach("pro", gamify.AchievementMetric, func(d *gamify.Achievement) {
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
	_, err = eng.Achievements().Lock(ctx, "pro")
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
		ach("hero", gamify.AchievementManual, nil),
		ach("xp1", gamify.AchievementMetric, threshold(1)),
		ach("legend", gamify.AchievementComposite, func(d *gamify.Achievement) { d.Prerequisites = []string{"hero", "xp1"} }),
	)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	r, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "ana"})
	require.NoError(t, err)
	require.False(t, r.AlreadyCompleted)
	require.Equal(t, []string{"hero", "legend"}, keysOf(r.Completions))
	first := r.CompletedAt
	eng.clock.Advance(time.Hour)
	r, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "ana"})
	require.NoError(t, err)
	require.True(t, r.AlreadyCompleted)
	require.Equal(t, first, r.CompletedAt, "a repeat returns the original time")
	require.Empty(t, r.Completions)
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "xp1", User: "ana"})
	requireField(t, err, "ManualCompletion.Achievement") // not a manual achievement
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "nope", User: "ana"})
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
	_, err := eng.Achievements().Create(ctx, ach("xp10", gamify.AchievementMetric, threshold(10)))
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
	list, err := eng.Achievements().Stats(ctx, gamify.AchievementStatsQuery{})
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
	eng := achEngine(t, ach("xp50", gamify.AchievementMetric, threshold(50)))
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
	_, err := eng.Achievements().Create(ctx, ach("walk3", gamify.AchievementStreak, func(d *gamify.Achievement) {
		d.Streak, d.Length = "walk", 3
	}))
	require.NoError(t, err)
	var r gamify.EventResult
	for range 3 {
		r = walk(t, eng, "ana", 1000)
		eng.clock.Advance(24 * time.Hour)
	}
	require.Equal(t, []string{"walk3"}, keysOf(r.Achievements))
	_, err = eng.Achievements().Create(ctx, ach("bad", gamify.AchievementStreak, func(d *gamify.Achievement) { d.Streak, d.Length = "nope", 1 }))
	require.ErrorContains(t, err, "Achievement.Streak")
}

func TestAchievementDeleteAndBulk(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t)
	created, issues, err := eng.Achievements().BulkCreate(ctx, []gamify.Achievement{
		ach("a", gamify.AchievementMetric, threshold(1)),
		ach("b", gamify.AchievementComposite, func(d *gamify.Achievement) { d.Prerequisites = []string{"a"} }),
		ach("a", gamify.AchievementManual, nil),
		ach("c", gamify.AchievementComposite, func(d *gamify.Achievement) { d.Prerequisites = []string{"zzz"} }),
	})
	require.NoError(t, err)
	require.Len(t, created, 2)
	require.Len(t, issues, 2)
	require.ErrorIs(t, issues[0].Err, gamify.ErrConflict)
	require.Equal(t, 3, issues[1].Index)
	require.ErrorIs(t, eng.Achievements().Delete(ctx, "a"), gamify.ErrConflict, "a is a prerequisite of b")
	require.NoError(t, eng.Achievements().Delete(ctx, "b"))
	require.NoError(t, eng.Achievements().Delete(ctx, "a"))
	list, err := eng.Achievements().Stats(ctx, gamify.AchievementStatsQuery{})
	require.NoError(t, err)
	require.Empty(t, list)
	defs, err := eng.Achievements().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, defs)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Empty(t, r.Achievements, "archived achievements are not evaluated")
	_, err = eng.Achievements().Create(ctx, ach("a", gamify.AchievementManual, nil))
	require.ErrorIs(t, err, gamify.ErrConflict, "keys are never reused")
	eng.reopen(t)
	got, err := eng.Achievements().Get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
}

func TestAchievementBulkPatchBackdatesLoweredThreshold(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("xp10", gamify.AchievementMetric, threshold(10)))
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 7})
	require.NoError(t, err)
	updated, issues, err := eng.Achievements().BulkPatch(ctx, []string{"xp10", "nope"}, func(a *gamify.Achievement) {
		a.Threshold = gamify.AmountFromInt(5)
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

func achKeys(as []gamify.Achievement) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

func userAchKeys(t *testing.T, eng *testEngine, user string, incomplete bool) []string {
	t.Helper()
	as, err := eng.Achievements().User(context.Background(), user, incomplete)
	require.NoError(t, err)
	out := []string{}
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

func statKeys(t *testing.T, eng *testEngine) []string {
	t.Helper()
	ss, err := eng.Achievements().Stats(context.Background(), gamify.AchievementStatsQuery{})
	require.NoError(t, err)
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Key)
	}
	return out
}

func TestAchievementPatchAndLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("hero", gamify.AchievementManual, nil))
	mustMetric(t, eng.Engine, "km")
	created, err := eng.Achievements().Create(ctx, gamify.Achievement{
		Key: "xp10", Name: "Ten", Description: "Ten XP", ImageURL: "https://x/b.png", Category: "xp", Rarity: gamify.RarityEpic,
		Order: 3, Kind: gamify.AchievementMetric, Metric: "xp", Threshold: gamify.AmountFromInt(10),
		EventFilters: map[string]string{"mode": "ranked"}, UserFilters: map[string]string{"plan": "pro"},
	})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, created.Status, "active by default")
	got, err := eng.Achievements().Get(ctx, "xp10")
	require.NoError(t, err)
	require.Equal(t, created, got)

	// Refused edits name their field and change nothing.
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Achievement){
		"Achievement.Key":              func(a *gamify.Achievement) { a.Key = "xp11" },
		"Achievement.Status":           func(a *gamify.Achievement) { a.Status = gamify.StatusLocked },
		"Achievement.Created":          func(a *gamify.Achievement) { a.Created = a.Created.Add(time.Hour) },
		"Achievement.Updated":          func(a *gamify.Achievement) { a.Updated = a.Updated.Add(time.Hour) },
		"Achievement.Kind":             func(a *gamify.Achievement) { a.Kind = gamify.AchievementManual },
		"Achievement.Threshold":        func(a *gamify.Achievement) { a.Threshold = gamify.AmountFromInt(-1) },
		"Achievement.Rarity":           func(a *gamify.Achievement) { a.Rarity = "mythic" },
		"Achievement.ImageURL":         func(a *gamify.Achievement) { a.ImageURL = strings.Repeat("u", 2049) },
		"Achievement.Metric":           func(a *gamify.Achievement) { a.Metric = "nope" },
		"Achievement.Length":           func(a *gamify.Achievement) { a.Length = 3 },
		"Achievement.Prerequisites":    func(a *gamify.Achievement) { a.Prerequisites = []string{"hero"} },
		"Achievement.EventFilters[zz]": func(a *gamify.Achievement) { a.EventFilters["zz"] = "1" },
		"Achievement.UserFilters[mode]": func(a *gamify.Achievement) {
			a.UserFilters["mode"] = "ranked" // an event attribute
		},
	} {
		_, err := eng.Achievements().Patch(ctx, "xp10", edit)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	_, err = eng.Achievements().Patch(ctx, "hero", func(a *gamify.Achievement) { a.Prerequisites = []string{"xp10"} })
	require.ErrorContains(t, err, "Achievement.Prerequisites", "a manual achievement has no prerequisites")
	_, err = eng.Achievements().Create(ctx, ach("c1", gamify.AchievementComposite, func(a *gamify.Achievement) { a.Prerequisites = []string{"hero"} }))
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, ach("c2", gamify.AchievementComposite, func(a *gamify.Achievement) { a.Prerequisites = []string{"c1"} }))
	require.NoError(t, err)
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Achievements().Patch(ctx, "c1", func(a *gamify.Achievement) { a.Prerequisites = append(a.Prerequisites, "c2") })
	var cycle *gamify.ValidationError
	require.ErrorAs(t, err, &cycle)
	require.Equal(t, "Achievement.Prerequisites", cycle.Field)
	require.ErrorContains(t, err, "c1 -> c2 -> c1")
	for _, bad := range []gamify.Achievement{
		ach("new", gamify.AchievementMetric, func(a *gamify.Achievement) { a.Metric = "xp" }),                // no threshold
		ach("new", gamify.AchievementStreak, func(a *gamify.Achievement) { a.Streak, a.Length = "none", 2 }), // no such streak
		ach("new", gamify.AchievementManual, func(a *gamify.Achievement) { a.Rarity = "mythic" }),
	} {
		_, err := eng.Achievements().Create(ctx, bad)
		require.ErrorIs(t, err, gamify.ErrInvalid)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "refused creates and patches change nothing")
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Achievements().Patch(ctx, "nope", func(*gamify.Achievement) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// A reference the edit does not touch is not checked again: the metric
	// may have been deactivated since.
	_, err = eng.Metrics().Deactivate(ctx, "xp")
	require.NoError(t, err)
	eng.clock.Advance(time.Minute)
	a, err := eng.Achievements().Patch(ctx, "xp10", func(a *gamify.Achievement) { a.Name = "Ten XP" })
	require.NoError(t, err)
	want := created
	want.Name, want.Updated = "Ten XP", created.Updated.Add(time.Minute)
	require.Equal(t, want, a, "only Name (and Updated) changed")
	_, err = eng.Achievements().Patch(ctx, "xp10", func(a *gamify.Achievement) { a.Metric = "xp" })
	require.NoError(t, err, "setting the same metric is no change")
	_, err = eng.Achievements().Patch(ctx, "xp10", func(a *gamify.Achievement) { a.Metric = "km" })
	require.NoError(t, err, "moving to another active metric")
	_, err = eng.Metrics().Activate(ctx, "xp")
	require.NoError(t, err)

	// The edit gets a copy: changing its maps does not reach the stored one.
	_, err = eng.Achievements().Patch(ctx, "xp10", func(a *gamify.Achievement) {
		a.UserFilters["plan"] = "free"
		a.Name = ""
		a.Rarity = "bad"
	})
	require.Error(t, err)
	got, err = eng.Achievements().Get(ctx, "xp10")
	require.NoError(t, err)
	require.Equal(t, "pro", got.UserFilters["plan"])
	got.UserFilters["plan"] = "mutated"
	again, err := eng.Achievements().Get(ctx, "xp10")
	require.NoError(t, err)
	require.Equal(t, "pro", again.UserFilters["plan"], "Get returns a copy")

	eng.reopen(t)
	again, err = eng.Achievements().Get(ctx, "xp10")
	require.NoError(t, err)
	want.Metric, want.Updated = "km", again.Updated
	require.Equal(t, want, again, "survives a reopen")

	for _, st := range []gamify.Status{gamify.StatusLocked, gamify.StatusArchived, gamify.StatusScheduled, "weird"} {
		_, err = eng.Achievements().Create(ctx, ach("s-"+string(st), gamify.AchievementManual, func(a *gamify.Achievement) { a.Status = st }))
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, st)
		require.Equal(t, "Achievement.Status", ve.Field)
	}
	_, err = eng.Achievements().Create(ctx, ach("k", "trophy", nil))
	require.ErrorContains(t, err, "Achievement.Kind")
	require.ErrorContains(t, err, "trophy", "the kind is named")
}

// Inactive: completes for nobody, hidden from Stats and from what users can
// still earn; holders keep it; the filtered sums keep accruing and
// Activate backdates.
func TestAchievementDeactivateAndActivate(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t,
		ach("xp10", gamify.AchievementMetric, threshold(10)),
		ach("ranked5", gamify.AchievementMetric, func(a *gamify.Achievement) {
			threshold(5)(a)
			a.EventFilters = map[string]string{"mode": "ranked"}
		}),
		ach("hero", gamify.AchievementManual, nil),
	)
	var mu sync.Mutex
	var notified []string
	sub := eng.Subscribe(func(n gamify.Notification) {
		if c, ok := n.(gamify.AchievementCompleted); ok {
			mu.Lock()
			notified = append(notified, c.User+"/"+c.Achievement)
			mu.Unlock()
		}
	})
	defer sub.Close()
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"xp10"}, keysOf(r.Achievements))

	for _, k := range []string{"xp10", "ranked5", "hero"} {
		a, err := eng.Achievements().Deactivate(ctx, k)
		require.NoError(t, err)
		require.Equal(t, gamify.StatusInactive, a.Status)
	}
	again, err := eng.Achievements().Deactivate(ctx, "xp10")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, gamify.StatusInactive, again.Status)
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Achievements().Deactivate(ctx, "xp10")
	require.NoError(t, err)
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "an idempotent Deactivate writes nothing")

	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 12, Attributes: map[string]string{"mode": "ranked"}})
	require.NoError(t, err)
	require.Empty(t, r.Achievements, "inactive achievements complete for nobody")
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "bob"})
	require.ErrorIs(t, err, gamify.ErrConflict, "an inactive manual achievement cannot be completed")
	require.Empty(t, statKeys(t, eng), "hidden from Stats")
	require.Empty(t, userAchKeys(t, eng, "bob", true), "hidden from what bob can earn")
	require.Equal(t, []string{"xp10"}, userAchKeys(t, eng, "ana", false), "ana keeps hers")
	list, err := eng.Achievements().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"xp10", "ranked5", "hero"}, achKeys(list), "inactive achievements are listed")

	eng.reopen(t)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Empty(t, userAchKeys(t, eng, "bob", false), "still inactive after a reopen")
	for _, k := range []string{"xp10", "ranked5"} {
		a, err := eng.Achievements().Activate(ctx, k)
		require.NoError(t, err)
		require.Equal(t, gamify.StatusActive, a.Status)
	}
	a, err := eng.Achievements().Activate(ctx, "xp10")
	require.NoError(t, err, "activating twice is not an error")
	require.Equal(t, gamify.StatusActive, a.Status)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	got, err := eng.Achievements().User(ctx, "bob", false)
	require.NoError(t, err)
	require.Len(t, got, 2, "activation backdated both, the filtered sum included")
	for _, g := range got {
		require.True(t, g.Backdated, g.Key)
	}
	require.Equal(t, []string{"ranked5", "xp10"}, statKeys(t, eng))
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"ana/xp10"}, notified, "backdated completions are not notified")
}

// Created inactive: nothing completes until activated.
func TestAchievementCreatedInactive(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("xp5", gamify.AchievementMetric, func(a *gamify.Achievement) {
		threshold(5)(a)
		a.Status = gamify.StatusInactive
	}))
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Empty(t, r.Achievements)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Empty(t, userAchKeys(t, eng, "ana", false))
	_, err = eng.Achievements().Activate(ctx, "xp5")
	require.NoError(t, err)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"xp5"}, userAchKeys(t, eng, "ana", false))
}

// Locked: no new completions; holders keep it and still see it; Activate
// unlocks (and backdates).
func TestAchievementLock(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("xp5", gamify.AchievementMetric, threshold(5)), ach("hero", gamify.AchievementManual, nil))
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "ana"})
	require.NoError(t, err)
	for _, k := range []string{"xp5", "hero"} {
		a, err := eng.Achievements().Lock(ctx, k)
		require.NoError(t, err)
		require.Equal(t, gamify.StatusLocked, a.Status)
	}
	before := gamify.DumpStore(eng.Engine)
	a, err := eng.Achievements().Lock(ctx, "xp5")
	require.NoError(t, err, "locking twice is not an error")
	require.Equal(t, gamify.StatusLocked, a.Status)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 5})
	require.NoError(t, err)
	require.Empty(t, r.Achievements)
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "bob"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	rep, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "ana"})
	require.NoError(t, err, "a holder's repeat still answers")
	require.True(t, rep.AlreadyCompleted)
	require.Equal(t, []string{"hero", "xp5"}, userAchKeys(t, eng, "ana", true), "holders keep and see it")
	require.Empty(t, userAchKeys(t, eng, "bob", true), "others do not see it")
	require.Equal(t, []string{"hero", "xp5"}, statKeys(t, eng), "locked achievements are in Stats")

	eng.reopen(t)
	_, err = eng.Achievements().Activate(ctx, "xp5")
	require.NoError(t, err)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	got, err := eng.Achievements().User(ctx, "bob", false)
	require.NoError(t, err)
	require.Len(t, got, 1, "unlocking backdated bob")
	require.True(t, got[0].Backdated)
	_, err = eng.Achievements().Lock(ctx, "nope")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestAchievementListPagingAndArchive(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t)
	for _, k := range []string{"c", "a", "b", "d"} {
		_, err := eng.Achievements().Create(ctx, ach(k, gamify.AchievementManual, nil))
		require.NoError(t, err)
	}
	list, err := eng.Achievements().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "a", "b", "d"}, achKeys(list), "creation order")
	list, err = eng.Achievements().List(ctx, gamify.ListOptions{Limit: 2, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, achKeys(list))
	list, err = eng.Achievements().List(ctx, gamify.ListOptions{Skip: 9})
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = eng.Achievements().List(ctx, gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	require.NoError(t, eng.Achievements().Delete(ctx, "a"))
	require.ErrorIs(t, eng.Achievements().Delete(ctx, "a"), gamify.ErrNotFound, "already archived")
	require.ErrorIs(t, eng.Achievements().Delete(ctx, "zz"), gamify.ErrNotFound)
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "a", User: "ana"})
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived achievement cannot be completed")
	_, err = eng.Achievements().Activate(ctx, "a")
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived achievement stays archived")
	_, err = eng.Achievements().Patch(ctx, "a", func(a *gamify.Achievement) { a.Name = "back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Achievements().Create(ctx, ach("z", gamify.AchievementComposite, func(a *gamify.Achievement) { a.Prerequisites = []string{"a"} }))
	require.ErrorContains(t, err, "Achievement.Prerequisites[0]", "an archived achievement is no prerequisite")

	eng.reopen(t)
	list, err = eng.Achievements().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "b", "d"}, achKeys(list))
	list, err = eng.Achievements().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "a", "b", "d"}, achKeys(list), "creation order survives a reopen")
	got, err := eng.Achievements().Get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	_, err = eng.Achievements().Create(ctx, ach("e", gamify.AchievementManual, nil))
	require.NoError(t, err)
	list, err = eng.Achievements().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "b", "d", "e"}, achKeys(list), "after a reopen, new ones still come last")
}

func TestAchievementBulkIssues(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t)
	created, issues, err := eng.Achievements().BulkCreate(ctx, []gamify.Achievement{
		ach("a", gamify.AchievementMetric, threshold(1)),
		ach("bad key", gamify.AchievementManual, nil),
		ach("m", gamify.AchievementManual, nil),
		ach("all", gamify.AchievementComposite, func(a *gamify.Achievement) { a.Prerequisites = []string{"a", "m"} }),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "m", "all"}, achKeys(created))
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.Equal(t, "bad key", issues[0].Key)
	require.ErrorIs(t, issues[0].Err, gamify.ErrInvalid)

	// BulkPatch: a threshold suits the metric achievement only.
	before := gamify.DumpStore(eng.Engine)
	patched, issues, err := eng.Achievements().BulkPatch(ctx, []string{"zz", "m", "a"}, func(a *gamify.Achievement) {
		a.Threshold = gamify.AmountFromInt(3)
		a.Category = "x"
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, achKeys(patched))
	require.Equal(t, "x", patched[0].Category)
	require.Len(t, issues, 2)
	require.Equal(t, 0, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	require.Equal(t, 1, issues[1].Index)
	var ve *gamify.ValidationError
	require.ErrorAs(t, issues[1].Err, &ve)
	require.Equal(t, "Achievement.Threshold", ve.Field)
	require.NotEqual(t, before, gamify.DumpStore(eng.Engine))
	got, err := eng.Achievements().Get(ctx, "m")
	require.NoError(t, err)
	require.Empty(t, got.Category, "the refused item is unchanged")

	// BulkDelete: in order, so deleting the composite first frees a.
	issues, err = eng.Achievements().BulkDelete(ctx, []string{"a", "all", "a", "nope"})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 0, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrConflict, "all still lists a")
	require.Equal(t, 3, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound)
	list, err := eng.Achievements().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"m"}, achKeys(list))

	_, _, err = eng.Achievements().BulkCreate(ctx, make([]gamify.Achievement, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, _, err = eng.Achievements().BulkPatch(ctx, nil, func(*gamify.Achievement) {})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Achievements().BulkDelete(ctx, make([]string, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestAchievementJSON(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t)
	a, err := eng.Achievements().Create(ctx, ach("xp10", gamify.AchievementMetric, threshold(10)))
	require.NoError(t, err)
	b, err := json.Marshal(a)
	require.NoError(t, err)
	for _, want := range []string{`"Kind":"metric"`, `"Status":"active"`, `"Rarity":"common"`, `"Threshold":"10"`, `"Created":"2`} {
		require.Contains(t, string(b), want)
	}
	var back gamify.Achievement
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, a, back)
}

// Complete upserts the profile first and reports the points its
// completions awarded through achievement triggers.
func TestCompleteProfileAndPoints(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "plan", Type: gamify.UserAttribute})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, ach("vip", gamify.AchievementManual, func(a *gamify.Achievement) {
		a.UserFilters = map[string]string{"plan": "pro"}
	}))
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "badge", System: "coins", Kind: gamify.TriggerAchievement, Achievement: "vip",
		Points: gamify.AmountFromInt(50)})
	require.NoError(t, err)

	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "vip", User: "ana"})
	require.ErrorIs(t, err, gamify.ErrConflict, "ana is not pro")
	before := gamify.DumpStore(eng.Engine)
	for field, c := range map[string]gamify.ManualCompletion{
		"ManualCompletion.User":                    {Achievement: "vip"},
		"ManualCompletion.Profile.ID":              {Achievement: "vip", User: "ana", Profile: &gamify.UserInput{ID: "bob"}},
		"ManualCompletion.Profile.Attributes[zzz]": {Achievement: "vip", User: "ana", Profile: &gamify.UserInput{Attributes: map[string]string{"zzz": "1"}}},
	} {
		_, err := eng.Achievements().Complete(ctx, c)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "refused completions change nothing")

	r, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "vip", User: "ana",
		Profile: &gamify.UserInput{Name: "Ana", Attributes: map[string]string{"plan": "pro"}}})
	require.NoError(t, err, "the profile is upserted before the gate is checked")
	require.Equal(t, []string{"vip"}, keysOf(r.Completions))
	require.Len(t, r.Points, 1)
	require.Equal(t, "coins", r.Points[0].System)
	require.Equal(t, "50", r.Points[0].Added.String())
	require.Equal(t, "50", r.Points[0].Total.String())
	u, err := eng.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "Ana", u.Name)
	require.Equal(t, "pro", u.Attributes["plan"])

	r, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "vip", User: "ana"})
	require.NoError(t, err)
	require.True(t, r.AlreadyCompleted)
	require.Empty(t, r.Points, "a repeat awards nothing")
	eng.reopen(t)
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "50", up.Total.String())
}

// A patch whose achievement changes between the edit and the command is
// redone on the new version.
func TestAchievementPatchRetriesOnConcurrentChange(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t, ach("hero", gamify.AchievementManual, nil))
	calls := 0
	a, err := eng.Achievements().Patch(ctx, "hero", func(a *gamify.Achievement) {
		calls++
		if calls == 1 {
			_, err := eng.Achievements().Patch(ctx, "hero", func(a *gamify.Achievement) { a.Category = "stories" })
			require.NoError(t, err)
		}
		a.Description = "Saved the day"
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls)
	require.Equal(t, "stories", a.Category)
	require.Equal(t, "Saved the day", a.Description)
}

// A user's metric view carries that metric's achievements with progress.
func TestUserMetricAchievements(t *testing.T) {
	ctx := context.Background()
	eng := achEngine(t,
		ach("xp5", gamify.AchievementMetric, threshold(5)),
		ach("xp20", gamify.AchievementMetric, func(a *gamify.Achievement) { threshold(20)(a); a.Order = -1 }),
		ach("pro", gamify.AchievementMetric, func(a *gamify.Achievement) {
			threshold(1)(a)
			a.UserFilters = map[string]string{"plan": "pro"}
		}),
		ach("hero", gamify.AchievementManual, nil),
		ach("off", gamify.AchievementMetric, func(a *gamify.Achievement) { threshold(1)(a); a.Status = gamify.StatusInactive }),
	)
	mustMetric(t, eng.Engine, "km")
	_, err := eng.Achievements().Create(ctx, ach("km1", gamify.AchievementMetric, func(a *gamify.Achievement) {
		a.Metric, a.Threshold = "km", gamify.AmountFromInt(1)
	}))
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 7})
	require.NoError(t, err)

	m, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "7", m.Total.String())
	type row struct {
		key     string
		done    bool
		current string
	}
	var got []row
	for _, a := range m.Achievements {
		got = append(got, row{a.Key, a.Completed, a.Current.String()})
	}
	require.Equal(t, []row{{"xp20", false, "7"}, {"xp5", true, "5"}}, got,
		"this metric's visible achievements in display order; not gated, inactive, manual or other metrics' ones")
	ms, err := eng.Users().Metrics(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, m, ms[0])
	require.Len(t, ms[1].Achievements, 1)
	require.Equal(t, "km1", ms[1].Achievements[0].Key)
	require.Equal(t, "0", ms[1].Achievements[0].Current.String())
}

// Stats for a user lists only what that user sees; a user without
// attributes (a nil map, as User.Attributes is for them) sees no gated one.
func TestAchievementStatsForUser(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
	require.NoError(t, err)
	for _, a := range []gamify.Achievement{
		{Key: "open", Name: "Open", Kind: gamify.AchievementManual},
		{Key: "pro", Name: "Pro only", Kind: gamify.AchievementManual, UserFilters: map[string]string{"plan": "pro"}},
	} {
		_, err := eng.Achievements().Create(ctx, a)
		require.NoError(t, err)
	}
	keysOf := func(q gamify.AchievementStatsQuery) []string {
		list, err := eng.Achievements().Stats(ctx, q)
		require.NoError(t, err)
		var out []string
		for _, s := range list {
			out = append(out, s.Key)
		}
		return out
	}
	require.Equal(t, []string{"open", "pro"}, keysOf(gamify.AchievementStatsQuery{}), "every achievement")
	require.Equal(t, []string{"open"}, keysOf(gamify.AchievementStatsQuery{ForUser: true}), "a user without attributes")
	require.Equal(t, []string{"open", "pro"}, keysOf(gamify.AchievementStatsQuery{ForUser: true, UserAttributes: map[string]string{"plan": "pro"}}))
	require.Equal(t, []string{"open"}, keysOf(gamify.AchievementStatsQuery{ForUser: true, UserAttributes: map[string]string{"plan": "free"}}))
}
