package gamify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// Challenge tests run on a manual clock from t0 (Sunday 2026-03-08 12:00
// UTC) with metrics "lessons" and "xp", event attribute "mode", points
// system "gems" and manual achievement "champ".
func challengeEngine(t *testing.T, opts *gamify.Options) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, opts)
	mustMetric(t, eng.Engine, "lessons")
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "Mode", Type: gamify.EventAttribute})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "champ", Name: "Champion", Kind: gamify.AchievementManual})
	require.NoError(t, err)
	return eng
}

func chAmt(n int64) gamify.Amount { return gamify.AmountFromInt(n) }

// weekChallenge is a fixed window over the week after t0 with automatic
// enrollment: 5 lessons and 100 xp; half of them pays 10 gems, completion
// 50 gems and the achievement "champ".
func weekChallenge() gamify.Challenge {
	return gamify.Challenge{Key: "week", Name: "Week", Window: gamify.ChallengeFixed, Start: t0, End: t0.Add(7 * 24 * time.Hour),
		Enrollment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{
			{Key: "lessons", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: chAmt(5)},
			{Key: "xp", Metric: "xp", Target: chAmt(100)},
		},
		Milestones: []gamify.ChallengeMilestone{{Share: 50, Pay: gamify.ChallengePayout{System: "gems", Points: chAmt(10)}}},
		Completion: gamify.ChallengePayout{System: "gems", Points: chAmt(50), Achievement: "champ"},
	}
}

func mustChallenge(t *testing.T, eng *testEngine, c gamify.Challenge) gamify.Challenge {
	t.Helper()
	out, err := eng.Challenges().Create(context.Background(), c)
	require.NoError(t, err)
	return out
}

func track(t *testing.T, eng *testEngine, ev gamify.Event) gamify.EventResult {
	t.Helper()
	r, err := eng.Track(context.Background(), ev)
	require.NoError(t, err)
	return r
}

func progressOf(t *testing.T, eng *testEngine, key, user string) gamify.ChallengeProgress {
	t.Helper()
	p, err := eng.Challenges().Progress(context.Background(), key, user)
	require.NoError(t, err)
	return p
}

func progressAmounts(p gamify.ChallengeProgress) []gamify.Amount {
	var out []gamify.Amount
	for _, o := range p.Objectives {
		out = append(out, o.Progress)
	}
	return out
}

func gemsOf(t *testing.T, eng *testEngine, user string) gamify.Amount {
	t.Helper()
	p, err := eng.Users().Points(context.Background(), user, "gems")
	require.NoError(t, err)
	return p.Total
}

func TestChallengeAdmin(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	c := mustChallenge(t, eng, weekChallenge())
	require.Equal(t, gamify.StatusActive, c.Status)
	got, err := eng.Challenges().Get(ctx, "week")
	require.NoError(t, err)
	require.Equal(t, c, got)

	_, err = eng.Challenges().Create(ctx, weekChallenge())
	require.ErrorIs(t, err, gamify.ErrConflict)

	bad := func(edit func(*gamify.Challenge)) gamify.Challenge {
		c := weekChallenge()
		c.Key = "bad"
		edit(&c)
		return c
	}
	for field, c := range map[string]gamify.Challenge{
		"Challenge.Key":    bad(func(c *gamify.Challenge) { c.Key = "no spaces" }),
		"Challenge.Name":   bad(func(c *gamify.Challenge) { c.Name = "" }),
		"Challenge.Window": bad(func(c *gamify.Challenge) { c.Window = "weekly" }),
		"Challenge.End":    bad(func(c *gamify.Challenge) { c.End = c.Start }),
		"Challenge.Days": bad(func(c *gamify.Challenge) {
			c.Window, c.Start, c.End = gamify.ChallengeRolling, time.Time{}, time.Time{}
		}),
		"Challenge.Enrollment":                             bad(func(c *gamify.Challenge) { c.Enrollment = "sometimes" }),
		"Challenge.Objectives":                             bad(func(c *gamify.Challenge) { c.Objectives = nil }),
		"Challenge.Objectives[1].Key":                      bad(func(c *gamify.Challenge) { c.Objectives[1].Key = "lessons" }),
		"Challenge.Objectives[0].Target":                   bad(func(c *gamify.Challenge) { c.Objectives[0].Target = gamify.MustParseAmount("1.5") }),
		"Challenge.Objectives[1].Count":                    bad(func(c *gamify.Challenge) { c.Objectives[1].Count = "sum" }),
		"Challenge.Objectives[0].Prerequisites[0]":         bad(func(c *gamify.Challenge) { c.Objectives[0].Prerequisites = []string{"xp"} }),
		"Challenge.Objectives[0].Metric":                   bad(func(c *gamify.Challenge) { c.Objectives[0].Metric = "nope" }),
		"Challenge.Objectives[0].EventFilters[undeclared]": bad(func(c *gamify.Challenge) { c.Objectives[0].EventFilters = map[string]string{"undeclared": "x"} }),
		"Challenge.Milestones[0].Share":                    bad(func(c *gamify.Challenge) { c.Milestones[0].Share = 101 }),
		"Challenge.Milestones[0].Objective":                bad(func(c *gamify.Challenge) { c.Milestones[0].Share, c.Milestones[0].Objective = 0, "nope" }),
		"Challenge.Milestones[0].Pay":                      bad(func(c *gamify.Challenge) { c.Milestones[0].Pay = gamify.ChallengePayout{} }),
		"Challenge.Milestones[0].Pay.System":               bad(func(c *gamify.Challenge) { c.Milestones[0].Pay.System = "coins" }),
		"Challenge.Completion.Points":                      bad(func(c *gamify.Challenge) { c.Completion.System = "" }),
		"Challenge.Completion.Achievement":                 bad(func(c *gamify.Challenge) { c.Completion.Achievement = "nope" }),
		"Challenge.Milestones[0].Pay.Reward":               bad(func(c *gamify.Challenge) { c.Milestones[0].Pay.Reward = "nope" }),
		"Challenge.Objectives[0].EventFilters[mode]": bad(func(c *gamify.Challenge) {
			c.Objectives[0].EventFilters = map[string]string{"mode": strings.Repeat("x", gamifytype.MaxNameLen+1)}
		}),
		"Challenge.Objectives[1].EventFilters[mode]": bad(func(c *gamify.Challenge) {
			c.Objectives[1].EventFilters = map[string]string{"mode": string(make([]byte, 5000))}
		}),
		"Challenge.Objectives[0].EventFilters": bad(func(c *gamify.Challenge) {
			c.Objectives[0].EventFilters = map[string]string{}
			for i := range gamifytype.MaxMapEntries + 1 {
				c.Objectives[0].EventFilters[fmt.Sprint("k", i)] = "x"
			}
		}),
	} {
		_, err := eng.Challenges().Create(ctx, c)
		requireField(t, err, field)
		_, err = eng.Challenges().Get(ctx, "bad")
		require.ErrorIs(t, err, gamify.ErrNotFound, field) // nothing was created
	}

	p, err := eng.Challenges().Patch(ctx, "week", func(c *gamify.Challenge) {
		c.Name = "Busy week"
		c.Completion.Points = chAmt(60)
	})
	require.NoError(t, err)
	require.Equal(t, "Busy week", p.Name)
	require.Equal(t, chAmt(60), p.Completion.Points)
	for field, edit := range map[string]func(*gamify.Challenge){
		"Challenge.Window": func(c *gamify.Challenge) {
			c.Window, c.Start, c.End, c.Days = gamify.ChallengeRolling, time.Time{}, time.Time{}, 7
		},
		"Challenge.Start":      func(c *gamify.Challenge) { c.End = c.End.Add(time.Hour) },
		"Challenge.Objectives": func(c *gamify.Challenge) { c.Objectives[0].Target = chAmt(6) },
		"Challenge.Milestones": func(c *gamify.Challenge) { c.Milestones = nil },
		"Challenge.Enrollment": func(c *gamify.Challenge) { c.Enrollment = gamify.ChallengeExplicit },
		"Challenge.Status":     func(c *gamify.Challenge) { c.Status = gamify.StatusInactive },
	} {
		_, err := eng.Challenges().Patch(ctx, "week", edit)
		requireField(t, err, field)
	}

	d, err := eng.Challenges().Deactivate(ctx, "week")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, d.Status)
	_, err = eng.Challenges().Activate(ctx, "week")
	require.NoError(t, err)

	second := weekChallenge()
	second.Key, second.Milestones = "second", nil
	made, issues, err := eng.Challenges().BulkCreate(ctx, []gamify.Challenge{second, weekChallenge()})
	require.NoError(t, err)
	require.Len(t, made, 1)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	patched, issues, err := eng.Challenges().BulkPatch(ctx, []string{"second", "missing"}, func(c *gamify.Challenge) { c.Description = "two" })
	require.NoError(t, err)
	require.Len(t, patched, 1)
	require.Len(t, issues, 1)
	list, err := eng.Challenges().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"week", "second"}, []string{list[0].Key, list[1].Key})

	require.NoError(t, eng.Challenges().Delete(ctx, "second"))
	issues, err = eng.Challenges().BulkDelete(ctx, []string{"week", "second"})
	require.NoError(t, err)
	require.Len(t, issues, 1) // second is archived already
	list, err = eng.Challenges().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, list)
	list, err = eng.Challenges().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
	_, err = eng.Challenges().Create(ctx, weekChallenge())
	require.ErrorIs(t, err, gamify.ErrConflict) // an archived key is never reused

	eng.reopen(t)
	list, err = eng.Challenges().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
}

func lessonAt(user string, at time.Time) gamify.Event {
	return gamify.Event{Metric: "lessons", User: user, Value: 1, Time: at}
}

func xpAt(user string, v float64, at time.Time) gamify.Event {
	return gamify.Event{Metric: "xp", User: user, Value: v, Time: at}
}

func TestChallengeFixedWindowAutomatic(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, weekChallenge())

	// Before Start: counts nothing and enrolls nobody.
	r := track(t, eng, lessonAt("ana", t0.Add(-time.Hour)))
	require.Empty(t, r.Challenges)
	_, err := eng.Challenges().Progress(ctx, "week", "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	// A negative value adds nothing and does not enroll either.
	eng.clock.Set(t0.Add(2 * time.Hour))
	r = track(t, eng, xpAt("ana", -5, t0.Add(time.Hour)))
	require.Empty(t, r.Challenges)

	r = track(t, eng, lessonAt("ana", t0.Add(time.Hour)))
	require.Len(t, r.Challenges, 1)
	ch := r.Challenges[0]
	require.True(t, ch.Enrolled)
	require.Equal(t, []gamify.ObjectiveProgress{
		{Key: "lessons", Progress: chAmt(1), Target: chAmt(5)},
		{Key: "xp", Progress: chAmt(0), Target: chAmt(100)},
	}, ch.Objectives)
	p := progressOf(t, eng, "week", "ana")
	require.Equal(t, t0, p.WindowStart) // automatic: the window is the challenge's
	require.Equal(t, t0.Add(7*24*time.Hour), p.WindowEnd)
	require.Equal(t, t0.Add(time.Hour), p.EnrolledAt)

	// The xp objective completes: half of the objectives pays the milestone.
	r = track(t, eng, xpAt("ana", 150, t0.Add(90*time.Minute)))
	require.Equal(t, []string{"xp"}, r.Challenges[0].Completed)
	require.Len(t, r.Challenges[0].Milestones, 1)
	require.Equal(t, gamify.ChallengePaid{System: "gems", Points: chAmt(10)}, r.Challenges[0].Milestones[0].Paid)
	require.Equal(t, chAmt(100), r.Challenges[0].Objectives[1].Progress) // capped at the target
	require.Equal(t, chAmt(10), gemsOf(t, eng, "ana"))

	// After End: not counted; a late event dated inside the window counts.
	eng.clock.Set(t0.Add(8 * 24 * time.Hour))
	r = track(t, eng, lessonAt("ana", t0.Add(8*24*time.Hour-time.Minute)))
	require.Empty(t, r.Challenges)
	for i := range 4 {
		r = track(t, eng, lessonAt("ana", t0.Add(time.Duration(i+2)*time.Hour)))
	}
	require.Equal(t, []string{"lessons"}, r.Challenges[0].Completed)
	require.NotNil(t, r.Challenges[0].Completion)
	require.Equal(t, gamify.ChallengePaid{Achievement: "champ", System: "gems", Points: chAmt(50)}, r.Challenges[0].Completion.Paid)
	require.Len(t, r.Achievements, 1) // the completion's achievement shows in the event's result
	require.Equal(t, chAmt(60), gemsOf(t, eng, "ana"))
	p = progressOf(t, eng, "week", "ana")
	require.Equal(t, 2, p.Complete)
	require.Equal(t, []int{0}, p.Milestones)
	require.Equal(t, eng.clock.Now(), p.CompletedAt)

	// More events change nothing and pay nothing.
	r = track(t, eng, lessonAt("ana", t0.Add(3*time.Hour)))
	require.Empty(t, r.Challenges)
	require.Equal(t, chAmt(60), gemsOf(t, eng, "ana"))
}

func TestChallengeRollingExplicit(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, gamify.Challenge{Key: "sprint", Name: "Sprint", Window: gamify.ChallengeRolling, Days: 3,
		Objectives: []gamify.ChallengeObjective{{Key: "l", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: chAmt(3)}},
		Completion: gamify.ChallengePayout{System: "gems", Points: chAmt(7)}})

	// Not enrolled: events count toward nothing.
	r := track(t, eng, lessonAt("bo", t0))
	require.Empty(t, r.Challenges)

	eng.clock.Set(t0.Add(time.Hour))
	p, err := eng.Challenges().Enroll(ctx, "sprint", "bo")
	require.NoError(t, err)
	require.False(t, p.AlreadyEnrolled)
	require.Equal(t, t0.Add(time.Hour), p.WindowStart)
	require.Equal(t, t0.Add(time.Hour+72*time.Hour), p.WindowEnd)
	again, err := eng.Challenges().Enroll(ctx, "sprint", "bo")
	require.NoError(t, err)
	require.True(t, again.AlreadyEnrolled)
	require.Equal(t, p.WindowStart, again.WindowStart) // re-enrolling moves nothing

	// Dated before the enrollment: never counts, late or not.
	r = track(t, eng, lessonAt("bo", t0.Add(30*time.Minute)))
	require.Empty(t, r.Challenges)
	// Inside the window, in any order; after its end, nothing.
	eng.clock.Set(t0.Add(80 * time.Hour))
	r = track(t, eng, lessonAt("bo", t0.Add(76*time.Hour)))
	require.Empty(t, r.Challenges)
	track(t, eng, lessonAt("bo", t0.Add(70*time.Hour)))
	track(t, eng, lessonAt("bo", t0.Add(2*time.Hour)))
	require.Equal(t, []gamify.Amount{chAmt(2)}, progressAmounts(progressOf(t, eng, "sprint", "bo")))
	r = track(t, eng, lessonAt("bo", t0.Add(3*time.Hour)))
	require.NotNil(t, r.Challenges[0].Completion)
	require.Equal(t, chAmt(7), gemsOf(t, eng, "bo"))

	// Enroll creates a user on first sight; bad input names the field.
	_, err = eng.Challenges().Enroll(ctx, "sprint", "new-user")
	require.NoError(t, err)
	_, err = eng.Users().Get(ctx, "new-user")
	require.NoError(t, err)
	_, err = eng.Challenges().Enroll(ctx, "sprint", "")
	requireField(t, err, "User")
	_, err = eng.Challenges().Enroll(ctx, "nope", "bo")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Challenges().Deactivate(ctx, "sprint")
	require.NoError(t, err)
	_, err = eng.Challenges().Enroll(ctx, "sprint", "cy")
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Users().Get(ctx, "cy")
	require.ErrorIs(t, err, gamify.ErrNotFound) // a refused enrollment leaves no trace
	// An inactive challenge counts nothing.
	_, err = eng.Challenges().Enroll(ctx, "sprint", "new-user")
	require.NoError(t, err) // already enrolled: idempotent even while inactive
	r = track(t, eng, lessonAt("new-user", eng.clock.Now()))
	require.Empty(t, r.Challenges)
}

func TestChallengeFixedExplicitEnds(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	c := weekChallenge()
	c.Enrollment = gamify.ChallengeExplicit
	mustChallenge(t, eng, c)
	eng.clock.Set(t0.Add(-24 * time.Hour))
	p, err := eng.Challenges().Enroll(ctx, "week", "ana")
	require.NoError(t, err)
	require.Equal(t, t0, p.WindowStart) // enrolled before Start: counts from Start
	eng.clock.Set(t0.Add(2 * 24 * time.Hour))
	p, err = eng.Challenges().Enroll(ctx, "week", "bo")
	require.NoError(t, err)
	require.Equal(t, eng.clock.Now(), p.WindowStart)
	eng.clock.Set(t0.Add(7 * 24 * time.Hour))
	_, err = eng.Challenges().Enroll(ctx, "week", "cy")
	require.ErrorIs(t, err, gamify.ErrConflict) // the window is over
}

func TestChallengePerpetualFiltersAndValues(t *testing.T) {
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, gamify.Challenge{Key: "ranked", Name: "Ranked", Window: gamify.ChallengePerpetual, Enrollment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{
			{Key: "ranked-xp", Metric: "xp", EventFilters: map[string]string{"mode": "ranked"}, Target: gamify.MustParseAmount("10.5")},
		}})
	casual := gamify.Event{Metric: "xp", User: "ana", Value: 50, Attributes: map[string]string{"mode": "casual"}}
	require.Empty(t, track(t, eng, casual).Challenges) // filtered out: not enrolled
	require.Empty(t, track(t, eng, gamify.Event{Metric: "xp", User: "ana", Value: 50}).Challenges)
	ranked := gamify.Event{Metric: "xp", User: "ana", Amount: gamify.MustParseAmount("4.25"), Attributes: map[string]string{"mode": "ranked"}}
	r := track(t, eng, ranked)
	require.True(t, r.Challenges[0].Enrolled)
	require.Equal(t, gamify.MustParseAmount("4.25"), r.Challenges[0].Objectives[0].Progress)
	p := progressOf(t, eng, "ranked", "ana")
	require.True(t, p.WindowEnd.IsZero())
	// Dated before the challenge existed: a perpetual window opens at its creation.
	old := ranked
	old.Time = t0.Add(-time.Hour)
	require.Empty(t, track(t, eng, old).Challenges)
	eng.clock.Set(t0.Add(400 * 24 * time.Hour))
	track(t, eng, ranked)
	r = track(t, eng, ranked)
	require.Equal(t, []string{"ranked-xp"}, r.Challenges[0].Completed)
	require.NotNil(t, r.Challenges[0].Completion) // no payout: still reported once
}

// orderedChallenge asks for 1 "intro" lesson, then 3 ranked xp... in order:
// "drill" counts only after "intro", "final" after both.
func orderedChallenge() gamify.Challenge {
	return gamify.Challenge{Key: "path", Name: "Path", Window: gamify.ChallengePerpetual, Enrollment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{
			{Key: "intro", Metric: "lessons", Count: gamify.ChallengeCountEvents, EventFilters: map[string]string{"mode": "intro"}, Target: chAmt(1)},
			{Key: "drill", Metric: "xp", Target: chAmt(30), Prerequisites: []string{"intro"}},
			{Key: "final", Metric: "lessons", Count: gamify.ChallengeCountEvents, EventFilters: map[string]string{"mode": "final"}, Target: chAmt(1), Prerequisites: []string{"intro", "drill"}},
		},
		Milestones: []gamify.ChallengeMilestone{
			{Objective: "drill", Pay: gamify.ChallengePayout{System: "gems", Points: chAmt(3)}},
			{Share: 100, Pay: gamify.ChallengePayout{System: "gems", Points: chAmt(4)}},
		},
		Completion: gamify.ChallengePayout{System: "gems", Points: chAmt(5)},
	}
}

func TestChallengeOrderedObjectives(t *testing.T) {
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, orderedChallenge())
	mode := func(m string) map[string]string { return map[string]string{"mode": m} }

	// The drill's target is reached before the intro: it waits.
	r := track(t, eng, gamify.Event{Metric: "xp", User: "ana", Value: 40})
	require.Equal(t, gamify.ObjectiveProgress{Key: "drill", Progress: chAmt(30), Target: chAmt(30), Waiting: true}, r.Challenges[0].Objectives[1])
	r = track(t, eng, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Attributes: mode("final")})
	require.True(t, r.Challenges[0].Objectives[2].Waiting)
	require.Empty(t, r.Challenges[0].Completed)
	require.Zero(t, gemsOf(t, eng, "ana").Sign())

	// The intro completes all three at once, paying each milestone once.
	r = track(t, eng, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Attributes: mode("intro")})
	ch := r.Challenges[0]
	require.Equal(t, []string{"intro", "drill", "final"}, ch.Completed)
	require.Len(t, ch.Milestones, 2)
	require.NotNil(t, ch.Completion)
	require.Equal(t, chAmt(12), gemsOf(t, eng, "ana"))
	for _, o := range ch.Objectives {
		require.True(t, o.Complete)
		require.False(t, o.Waiting)
	}
}

// TestChallengeArrivalOrder delivers the same events to a fixed challenge
// and the ordered one in shuffled orders, late ones included: the progress,
// the milestones and the completion paid are the same every time.
func TestChallengeArrivalOrder(t *testing.T) {
	mode := func(m string) map[string]string { return map[string]string{"mode": m} }
	evs := []gamify.Event{
		{Metric: "xp", User: "ana", Value: 12, Time: t0.Add(1 * time.Hour)},
		{Metric: "xp", User: "ana", Value: 25, Time: t0.Add(30 * time.Hour)},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(2 * time.Hour), Attributes: mode("final")},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(50 * time.Hour), Attributes: mode("intro")},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(-2 * time.Hour)}, // before the week
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(3 * time.Hour)},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(4 * time.Hour)},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(5 * time.Hour)},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(6 * time.Hour)},
		{Metric: "lessons", User: "ana", Value: 1, Time: t0.Add(8*24*time.Hour - time.Minute)}, // after the week
		{Metric: "xp", User: "ana", Value: 70, Time: t0.Add(7*24*time.Hour - time.Minute)},
	}
	type outcome struct {
		week, path []gamify.Amount
		milestones [2][]int
		completed  [2]bool
		gems       gamify.Amount
		notes      int
	}
	var want *outcome
	rng := rand.New(rand.NewPCG(18, 1))
	for run := range 6 {
		eng := challengeEngine(t, nil)
		eng.clock.Set(t0.Add(-3 * time.Hour))
		mustChallenge(t, eng, weekChallenge())
		mustChallenge(t, eng, orderedChallenge())
		order := rng.Perm(len(evs))
		eng.clock.Set(t0.Add(8 * 24 * time.Hour)) // every event arrives late, in one order or another
		notes := 0
		for _, i := range order {
			for _, ch := range track(t, eng, evs[i]).Challenges {
				notes += len(ch.Milestones)
				if ch.Completion != nil {
					notes++
				}
			}
		}
		w, p := progressOf(t, eng, "week", "ana"), progressOf(t, eng, "path", "ana")
		got := &outcome{week: progressAmounts(w), path: progressAmounts(p), milestones: [2][]int{w.Milestones, p.Milestones},
			completed: [2]bool{!w.CompletedAt.IsZero(), !p.CompletedAt.IsZero()}, gems: gemsOf(t, eng, "ana"), notes: notes}
		if want == nil {
			want = got
			require.Equal(t, []gamify.Amount{chAmt(5), chAmt(100)}, got.week, "run %d", run)
			require.Equal(t, [2]bool{true, true}, got.completed)
			require.Equal(t, chAmt(10+50+3+4+5), got.gems)
			continue
		}
		require.Equal(t, want, got, "run %d, order %v", run, order)
	}
}

var (
	jObjective       = gamify.ObjectiveProgress{Key: "xp", Progress: gamify.MustParseAmount("30.5"), Target: chAmt(40), Complete: true, Waiting: true}
	jChallengePaid   = gamify.ChallengePaid{Achievement: "champ", Reward: "badge", Claim: 12, Code: "CODE-1", System: "gems", Points: chAmt(5), Skipped: []string{"reward badge: out of stock"}}
	jChallengeMile   = gamify.ChallengeMilestoneReached{User: "ana", Challenge: "week", Milestone: 1, Paid: jChallengePaid, At: jT2}
	jChallengeDone   = gamify.ChallengeCompleted{User: "ana", Challenge: "week", Paid: jChallengePaid, At: jT2}
	jChallengeChange = gamify.ChallengeChange{Challenge: "week", Enrolled: true, Objectives: []gamify.ObjectiveProgress{jObjective},
		Completed: []string{"xp"}, Milestones: []gamify.ChallengeMilestoneReached{jChallengeMile}, Completion: &jChallengeDone}
	jChallengeProgress = gamify.ChallengeProgress{Challenge: "week", User: "ana", EnrolledAt: jT1, WindowStart: jT1, WindowEnd: jT3,
		Objectives: []gamify.ObjectiveProgress{jObjective}, Complete: 1, Milestones: []int{0, 2}, CompletedAt: jT2, AlreadyEnrolled: true}
	jPayout = gamify.ChallengePayout{Achievement: "champ", Reward: "badge", System: "gems", Points: chAmt(5)}
)

// challengeJSONCases are the JSON round-trip cases of the challenge types
// (TestJSONRoundTrip).
func challengeJSONCases() []jsonCase {
	return []jsonCase{
		{name: "Challenge", v: gamify.Challenge{Key: "week", Name: "Week", Description: "A week", Window: gamify.ChallengeRolling,
			Start: jT1, End: jT3, Days: 7, Enrollment: gamify.ChallengeAutomatic,
			Objectives: []gamify.ChallengeObjective{{Key: "xp", Name: "XP", Metric: "xp", Count: gamify.ChallengeCountEvents,
				EventFilters: map[string]string{"mode": "ranked"}, Target: chAmt(3), Prerequisites: []string{"intro"}}},
			Milestones: []gamify.ChallengeMilestone{{Share: 50, Objective: "xp", Pay: jPayout}},
			Completion: jPayout, Status: gamify.StatusActive, Created: jT1, Updated: jT2, Inactive: jInactive[:1]}},
		{name: "ChallengeObjective", v: gamify.ChallengeObjective{Key: "xp", Name: "XP", Metric: "xp", Count: gamify.ChallengeCountValue,
			EventFilters: map[string]string{"mode": "ranked"}, Target: chAmt(3), Prerequisites: []string{"intro"}}},
		{name: "ChallengePayout", v: jPayout},
		{name: "ChallengeMilestone", v: gamify.ChallengeMilestone{Share: 50, Objective: "xp", Pay: jPayout}},
		{name: "ObjectiveProgress", v: jObjective},
		{name: "ChallengePaid", v: jChallengePaid},
		{name: "ChallengeMilestoneReached", v: jChallengeMile},
		{name: "ChallengeCompleted", v: jChallengeDone},
		{name: "ChallengeChange", v: jChallengeChange},
		{name: "ChallengeProgress", v: jChallengeProgress},
		{name: "ChallengeStats", v: gamify.ChallengeStats{Challenge: "week", Participants: 9, Completed: 2, Objectives: []gamify.ChallengeObjectiveCount{{Key: "lessons", Completed: 4}, {Key: "xp", Completed: 2}},
			Milestones: []gamify.ChallengeMilestoneCount{{Index: 1, Paid: 3}}}},
		{name: "ChallengeRow", v: gamify.ChallengeRow{Rank: 2, ChallengeProgress: jChallengeProgress, Share: 0.75}},
		{name: "ChallengeObjectiveCount", v: gamify.ChallengeObjectiveCount{Key: "xp", Completed: 2}},
		{name: "ChallengeParticipantsQuery", v: gamify.ChallengeParticipantsQuery{Limit: 10, After: "42"}},
		{name: "ChallengeParticipantsPage", v: gamify.ChallengeParticipantsPage{Participants: []gamify.ChallengeProgress{jChallengeProgress}, Next: "42"}},
		{name: "ChallengeMilestoneCount", v: gamify.ChallengeMilestoneCount{Index: 1, Paid: 3}},
	}
}

func TestChallengeReads(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, weekChallenge())
	mustChallenge(t, eng, orderedChallenge())
	eng.clock.Set(t0.Add(24 * time.Hour))
	// cy completes the week; ana is half-way with more xp than bo; bo and
	// dee tie.
	for i := range 5 {
		track(t, eng, lessonAt("cy", t0.Add(time.Duration(i)*time.Minute)))
	}
	track(t, eng, xpAt("cy", 100, t0))
	track(t, eng, xpAt("ana", 100, t0))
	track(t, eng, lessonAt("ana", t0))
	track(t, eng, xpAt("bo", 20, t0))
	track(t, eng, xpAt("dee", 20, t0))
	track(t, eng, lessonAt("eve", t0.Add(-time.Hour))) // before the week: not a participant
	eng.clock.Set(t0.Add(25 * time.Hour))
	track(t, eng, xpAt("ana", 1, t0)) // ana also joins "path" here (xp counts toward its drill)

	mine, err := eng.Challenges().User(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, mine, 2)
	require.Equal(t, "week", mine[0].Challenge)
	require.Equal(t, []gamify.Amount{chAmt(1), chAmt(100)}, progressAmounts(mine[0]))
	require.Equal(t, "path", mine[1].Challenge)
	none, err := eng.Challenges().User(ctx, "eve")
	require.NoError(t, err)
	require.Empty(t, none)
	_, err = eng.Challenges().User(ctx, "nobody")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Challenges().Progress(ctx, "week", "eve")
	require.ErrorIs(t, err, gamify.ErrNotFound)

	users := func(ps []gamify.ChallengeProgress) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.User)
		}
		return out
	}
	page1, err := eng.Challenges().Participants(ctx, "week", gamify.ChallengeParticipantsQuery{Limit: 3})
	require.NoError(t, err)
	require.Equal(t, []string{"cy", "ana", "bo"}, users(page1.Participants)) // the order users were first seen
	require.NotEmpty(t, page1.Next)
	page2, err := eng.Challenges().Participants(ctx, "week", gamify.ChallengeParticipantsQuery{Limit: 3, After: page1.Next})
	require.NoError(t, err)
	require.Equal(t, []string{"dee"}, users(page2.Participants))
	require.Empty(t, page2.Next, "the last page")
	_, err = eng.Challenges().Participants(ctx, "week", gamify.ChallengeParticipantsQuery{Limit: 101})
	requireField(t, err, "ChallengeParticipantsQuery.Limit")
	_, err = eng.Challenges().Participants(ctx, "week", gamify.ChallengeParticipantsQuery{After: "x"})
	requireField(t, err, "ChallengeParticipantsQuery.After")
	_, err = eng.Challenges().Participants(ctx, "nope", gamify.ChallengeParticipantsQuery{})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Challenges().Leaderboard(ctx, "week", gamify.ListOptions{IncludeArchived: true})
	requireField(t, err, "ListOptions.IncludeArchived")

	st, err := eng.Challenges().Stats(ctx, "week")
	require.NoError(t, err)
	require.Equal(t, gamify.ChallengeStats{Challenge: "week", Participants: 4, Completed: 1, Objectives: []gamify.ChallengeObjectiveCount{{Key: "lessons", Completed: 1}, {Key: "xp", Completed: 2}},
		Milestones: []gamify.ChallengeMilestoneCount{{Index: 0, Paid: 2}}}, st)

	board, err := eng.Challenges().Leaderboard(ctx, "week", gamify.ListOptions{})
	require.NoError(t, err)
	var ranks []string
	for _, s := range board {
		ranks = append(ranks, fmt.Sprintf("%d:%s", s.Rank, s.User))
	}
	require.Equal(t, []string{"1:cy", "2:ana", "3:bo", "3:dee"}, ranks)
	require.Equal(t, 1.0, board[0].Share)
	require.InDelta(t, 0.6, board[1].Share, 1e-9) // (1/5 + 100/100) / 2
	second, err := eng.Challenges().Leaderboard(ctx, "week", gamify.ListOptions{Limit: 1, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, "ana", second[0].User)

	// An archived challenge leaves the user's list, and its reads are
	// ErrNotFound, as an archived board's or league's, but for the user's
	// own record (Progress); Get still shows it.
	before, err := eng.Challenges().Progress(ctx, "path", "ana")
	require.NoError(t, err)
	require.NoError(t, eng.Challenges().Delete(ctx, "path"))
	mine, err = eng.Challenges().User(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, mine, 1)
	kept, err := eng.Challenges().Progress(ctx, "path", "ana")
	require.NoError(t, err)
	require.Equal(t, before, kept)
	_, err = eng.Challenges().Participants(ctx, "path", gamify.ChallengeParticipantsQuery{})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Challenges().Stats(ctx, "path")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Challenges().Leaderboard(ctx, "path", gamify.ListOptions{})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	c, err := eng.Challenges().Get(ctx, "path")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, c.Status)
}

// TestChallengeExactlyOnce pays a milestone and a completion once through
// retries with idempotency keys, a batch repeating them, late events and a
// reopen mid-challenge.
func TestChallengeExactlyOnce(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, weekChallenge())
	eng.clock.Set(t0.Add(time.Hour))
	xp := xpAt("ana", 60, t0.Add(time.Minute))
	xp.IdempotencyKey = "xp-1"
	r := track(t, eng, xp)
	require.Equal(t, chAmt(60), r.Challenges[0].Objectives[1].Progress)
	again := track(t, eng, xp)
	require.True(t, again.IdempotentReplayed)
	require.Empty(t, again.Challenges)
	xp2 := xpAt("ana", 60, t0.Add(2*time.Minute))
	xp2.IdempotencyKey = "xp-2"
	r = track(t, eng, xp2)
	require.Len(t, r.Challenges[0].Milestones, 1)
	_, err := eng.TrackBatch(ctx, []gamify.Event{xp, xp2, xp2})
	require.NoError(t, err)
	require.Equal(t, chAmt(10), gemsOf(t, eng, "ana"))

	eng.reopen(t)
	require.Equal(t, []gamify.Amount{chAmt(0), chAmt(100)}, progressAmounts(progressOf(t, eng, "week", "ana")))
	var notes []gamify.Notification
	sub := eng.Subscribe(func(n gamify.Notification) { notes = append(notes, n) })
	defer sub.Close()
	var evs []gamify.Event
	for i := range 5 {
		ev := lessonAt("ana", t0.Add(time.Duration(i)*time.Minute))
		ev.IdempotencyKey = fmt.Sprintf("l-%d", i)
		evs = append(evs, ev)
	}
	_, err = eng.TrackBatch(ctx, evs)
	require.NoError(t, err)
	_, err = eng.TrackBatch(ctx, evs) // a retry of the whole batch
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	sub.Close() // delivers what is queued
	eng.reopen(t)
	track(t, eng, lessonAt("ana", t0.Add(time.Hour))) // one more after completion
	require.Equal(t, chAmt(60), gemsOf(t, eng, "ana"))
	p := progressOf(t, eng, "week", "ana")
	require.False(t, p.CompletedAt.IsZero())
	var completed int
	for _, n := range notes {
		if c, ok := n.(gamify.ChallengeCompleted); ok {
			require.Equal(t, "week", c.Challenge)
			completed++
		}
	}
	require.Equal(t, 1, completed)
	entries, err := eng.Outbox().Read(ctx, 0, 1000)
	require.NoError(t, err)
	var types []string
	for _, e := range entries {
		if e.Type == "ChallengeMilestoneReached" || e.Type == "ChallengeCompleted" {
			types = append(types, e.Type)
		}
	}
	require.Equal(t, []string{"ChallengeMilestoneReached", "ChallengeCompleted"}, types)
}

func TestChallengeEraseAndTenants(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, weekChallenge())
	eng.clock.Set(t0.Add(time.Hour))
	track(t, eng, xpAt("ana", 100, t0))
	track(t, eng, xpAt("bo", 10, t0))
	require.NoError(t, eng.Users().Erase(ctx, "ana"))
	st, err := eng.Challenges().Stats(ctx, "week")
	require.NoError(t, err)
	require.Equal(t, 1, st.Participants)
	page, err := eng.Challenges().Participants(ctx, "week", gamify.ChallengeParticipantsQuery{})
	require.NoError(t, err)
	require.Len(t, page.Participants, 1)
	require.Equal(t, "bo", page.Participants[0].User)
	// A new "ana" starts from nothing: the milestone pays again, to her.
	r := track(t, eng, xpAt("ana", 100, t0))
	require.True(t, r.Challenges[0].Enrolled)
	require.Len(t, r.Challenges[0].Milestones, 1)

	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	acme, err := eng.Tenant("acme")
	require.NoError(t, err)
	_, err = acme.Challenges().Get(ctx, "week")
	require.ErrorIs(t, err, gamify.ErrNotFound) // tenants are isolated
	_, err = acme.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = acme.Challenges().Create(ctx, gamify.Challenge{Key: "week", Name: "Acme week", Window: gamify.ChallengePerpetual,
		Objectives: []gamify.ChallengeObjective{{Key: "xp", Metric: "xp", Target: chAmt(5)}}})
	require.NoError(t, err)
	_, err = acme.Challenges().Enroll(ctx, "week", "bo")
	require.NoError(t, err)
	_, err = acme.Track(ctx, gamify.Event{Metric: "xp", User: "bo", Value: 5})
	require.NoError(t, err)
	ap, err := acme.Challenges().Progress(ctx, "week", "bo")
	require.NoError(t, err)
	require.False(t, ap.CompletedAt.IsZero())
	bp := progressOf(t, eng, "week", "bo")
	require.Equal(t, []gamify.Amount{chAmt(0), chAmt(10)}, progressAmounts(bp)) // the root's bo is untouched
	require.NoError(t, acme.Check(ctx))
}

func TestChallengeEraseInOpenBatch(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, &gamify.Options{Durability: gamify.Buffered})
	mustChallenge(t, eng, weekChallenge())
	eng.clock.Set(t0.Add(time.Hour))
	track(t, eng, xpAt("ana", 100, t0))
	require.NoError(t, eng.Users().Erase(ctx, "ana"))
	require.NoError(t, eng.Flush(ctx))
	st, err := eng.Challenges().Stats(ctx, "week")
	require.NoError(t, err)
	require.Zero(t, st.Participants)
	for k := range gamify.DumpStore(eng.Engine) {
		require.NotContains(t, k, "challenge/week/p/", "a marker outlived the erase")
	}
}

func TestChallengeApply(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	c := weekChallenge()
	c.Objectives[1].Count = "" // the default, kept as given: a second Apply finds nothing to patch
	g := gamify.Game{Challenges: []gamify.Challenge{c}}
	rep, err := eng.Apply(ctx, g)
	require.NoError(t, err)
	require.Equal(t, []gamify.ApplyChange{{Resource: "challenge", Key: "week", Action: gamify.ApplyCreated}}, rep.Changes)
	rep, err = eng.Apply(ctx, g)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%+v", rep.Changes)
	g.Challenges[0].Name, g.Challenges[0].Status = "Renamed", gamify.StatusInactive
	rep, err = eng.Apply(ctx, g)
	require.NoError(t, err)
	require.Equal(t, []gamify.ApplyChange{{Resource: "challenge", Key: "week", Action: gamify.ApplyPatched, Fields: []string{"Name"}},
		{Resource: "challenge", Key: "week", Action: gamify.ApplyDeactivated}}, rep.Changes)
	g.Challenges[0].Days = 3
	_, err = eng.Apply(ctx, g)
	requireField(t, err, "Challenge.Days") // a fixed window has no Days
}

// TestChallengeControlGroup: a control user progresses and is paid as
// usual, but gets no challenge notification.
func TestChallengeControlGroup(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, weekChallenge())
	yes := true
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ctl", Control: &yes})
	require.NoError(t, err)
	var notes []string
	sub := eng.Subscribe(func(n gamify.Notification) {
		switch n.(type) {
		case gamify.ChallengeMilestoneReached, gamify.ChallengeCompleted:
			notes = append(notes, n.UserID())
		}
	})
	defer sub.Close()
	eng.clock.Set(t0.Add(time.Hour))
	for _, u := range []string{"ctl", "ana"} {
		r := track(t, eng, xpAt(u, 100, t0))
		require.Len(t, r.Challenges[0].Milestones, 1, u) // reported in the result either way
	}
	require.NoError(t, eng.Flush(ctx))
	sub.Close() // delivers what is queued
	require.Equal(t, []string{"ana"}, notes)
	require.Equal(t, chAmt(10), gemsOf(t, eng, "ctl"))
}

// TestChallengeRollingAutomatic: the event that enrolls opens the window;
// one dated before it, arriving later, does not move it (docs/behaviour.md).
func TestChallengeRollingAutomatic(t *testing.T) {
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, gamify.Challenge{Key: "streak3", Name: "Three days", Window: gamify.ChallengeRolling, Days: 3,
		Enrollment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{{Key: "l", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: chAmt(10)}}})
	eng.clock.Set(t0.Add(48 * time.Hour))
	r := track(t, eng, lessonAt("ana", t0.Add(24*time.Hour)))
	require.True(t, r.Challenges[0].Enrolled)
	p := progressOf(t, eng, "streak3", "ana")
	require.Equal(t, t0.Add(24*time.Hour), p.WindowStart)
	require.Equal(t, t0.Add(4*24*time.Hour), p.WindowEnd)
	require.Empty(t, track(t, eng, lessonAt("ana", t0)).Challenges) // dated before the window
	track(t, eng, lessonAt("ana", t0.Add(47*time.Hour)))
	require.Equal(t, []gamify.Amount{chAmt(2)}, progressAmounts(progressOf(t, eng, "streak3", "ana")))
}

// TestChallengeArrivalProperty: random sets of events, delivered in random
// orders and groupings (single events and batches), end with the progress
// and payouts a reference model computes from the set alone.
func TestChallengeArrivalProperty(t *testing.T) {
	ctx := context.Background()
	modes := []string{"intro", "final", "casual"}
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 18))
		created := t0.Add(-3 * time.Hour)
		var evs []gamify.Event
		for range 10 + rng.IntN(20) {
			at := t0.Add(time.Duration(rng.IntN(9*24)-6) * time.Hour)
			if rng.IntN(2) == 0 {
				evs = append(evs, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: at, Attributes: map[string]string{"mode": modes[rng.IntN(3)]}})
			} else {
				evs = append(evs, gamify.Event{Metric: "xp", User: "ana", Value: float64(rng.IntN(40) - 5), Time: at})
			}
		}
		// The model: week counts lessons and positive xp dated in its week;
		// path counts from its creation, intro/final lessons by mode.
		capAt := func(v, target int64) int64 { return min(v, target) }
		var lessons, xp, intro, drill, final int64
		for _, ev := range evs {
			inWeek := !ev.Time.Before(t0) && ev.Time.Before(t0.Add(7*24*time.Hour))
			v := max(int64(ev.Value), 0)
			switch {
			case ev.Metric == "lessons" && inWeek:
				lessons++
			case ev.Metric == "xp" && inWeek:
				xp += v
			}
			if ev.Time.Before(created) {
				continue
			}
			switch {
			case ev.Metric == "xp":
				drill += v
			case ev.Attributes["mode"] == "intro":
				intro++
			case ev.Attributes["mode"] == "final":
				final++
			}
		}
		wantWeek := []gamify.Amount{chAmt(capAt(lessons, 5)), chAmt(capAt(xp, 100))}
		wantPath := []gamify.Amount{chAmt(capAt(intro, 1)), chAmt(capAt(drill, 30)), chAmt(capAt(final, 1))}
		weekDone := 0
		for _, ok := range []bool{lessons >= 5, xp >= 100} {
			if ok {
				weekDone++
			}
		}
		wantGems := int64(0)
		if weekDone >= 1 {
			wantGems += 10
		}
		if weekDone == 2 {
			wantGems += 50
		}
		introDone := intro >= 1
		drillDone := introDone && drill >= 30
		if drillDone {
			wantGems += 3
		}
		if drillDone && final >= 1 {
			wantGems += 4 + 5
		}

		for run := range 3 {
			eng := challengeEngine(t, nil)
			eng.clock.Set(created)
			mustChallenge(t, eng, weekChallenge())
			mustChallenge(t, eng, orderedChallenge())
			eng.clock.Set(t0.Add(9 * 24 * time.Hour))
			order := rng.Perm(len(evs))
			for len(order) > 0 {
				n := min(len(order), 1+rng.IntN(3))
				batch := make([]gamify.Event, n)
				for i, j := range order[:n] {
					batch[i] = evs[j]
				}
				order = order[n:]
				_, err := eng.TrackBatch(ctx, batch)
				require.NoError(t, err)
			}
			what := fmt.Sprintf("seed %d run %d", seed, run)
			w, err := eng.Challenges().Progress(ctx, "week", "ana")
			if lessons+xp == 0 {
				require.ErrorIs(t, err, gamify.ErrNotFound, what) // nothing counted: not enrolled
			} else {
				require.NoError(t, err)
				require.Equal(t, wantWeek, progressAmounts(w), what)
			}
			p, err := eng.Challenges().Progress(ctx, "path", "ana")
			if intro+drill+final == 0 {
				require.ErrorIs(t, err, gamify.ErrNotFound, what)
			} else {
				require.NoError(t, err)
				require.Equal(t, wantPath, progressAmounts(p), what)
			}
			got := gamify.Amount{}
			if pts, err := eng.Users().Points(ctx, "ana", "gems"); err == nil {
				got = pts.Total
			}
			require.Equal(t, chAmt(wantGems), got, what)
		}
	}
}

// TestChallengeParticipantsCursorIsStable: users known long before they
// enroll join a walk's order behind its cursor, so the rest of the walk
// neither repeats nor skips anyone (an offset would have listed u4 twice).
func TestChallengeParticipantsCursorIsStable(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	mustChallenge(t, eng, gamify.Challenge{Key: "p", Name: "P", Window: gamify.ChallengePerpetual,
		Objectives: []gamify.ChallengeObjective{{Key: "xp", Metric: "xp", Target: chAmt(10)}}})
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		_, err := eng.Users().Create(ctx, gamify.UserInput{ID: u})
		require.NoError(t, err)
	}
	enroll := func(us ...string) {
		for _, u := range us {
			_, err := eng.Challenges().Enroll(ctx, "p", u)
			require.NoError(t, err)
		}
	}
	ids := func(p gamify.ChallengeParticipantsPage) []string {
		out := []string{}
		for _, pr := range p.Participants {
			out = append(out, pr.User)
		}
		return out
	}
	enroll("u2", "u4", "u5")
	first, err := eng.Challenges().Participants(ctx, "p", gamify.ChallengeParticipantsQuery{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u2", "u4"}, ids(first))
	enroll("u1", "u3") // seen before the cursor: not in the rest of this walk
	rest, err := eng.Challenges().Participants(ctx, "p", gamify.ChallengeParticipantsQuery{Limit: 2, After: first.Next})
	require.NoError(t, err)
	require.Equal(t, []string{"u5"}, ids(rest))
	require.Empty(t, rest.Next)
	all, err := eng.Challenges().Participants(ctx, "p", gamify.ChallengeParticipantsQuery{})
	require.NoError(t, err)
	require.Equal(t, []string{"u1", "u2", "u3", "u4", "u5"}, ids(all), "a new walk lists them")
	full, err := eng.Challenges().Participants(ctx, "p", gamify.ChallengeParticipantsQuery{Limit: 5})
	require.NoError(t, err)
	require.Empty(t, full.Next, "a page that ends the walk exactly has no Next")
}
