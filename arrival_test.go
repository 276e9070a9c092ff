package gamify_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestArrivalOrder is the property of docs/behaviour.md "Arrival order":
// one random set of events for a few users (zones with and without DST),
// delivered in different orders and batchings while the clock advances,
// ends in the same totals, balances, streak histories, longest lengths,
// achievement completions and per-trigger award sums, and pays each streak
// multiple and milestone exactly once per run of the final history. A
// metric trigger, a boost and a board are deactivated and activated again
// at fixed times (arrivalAdmin) in every delivery: what they pay and rank
// is judged at the events' times, so it does not depend on arrival either.
//
// Seeds: a fixed list; GAMIFY_ARRIVAL_SEEDS=n adds n seeds drawn from the
// time (printed), GAMIFY_ARRIVAL_SEED=s runs seed s alone. A failure names
// its seed and delivery.
func TestArrivalOrder(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if os.Getenv("CI") == "true" {
		seeds = seeds[:8]
	}
	if v := os.Getenv("GAMIFY_ARRIVAL_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "GAMIFY_ARRIVAL_SEEDS")
		base := uint64(time.Now().UnixNano())
		for i := range n {
			seeds = append(seeds, base+uint64(i))
		}
	}
	if v := os.Getenv("GAMIFY_ARRIVAL_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "GAMIFY_ARRIVAL_SEED")
		seeds = []uint64{s}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("reproduce with GAMIFY_ARRIVAL_SEED=%d go test -run TestArrivalOrder .", seed)
			evs := arrivalEvents(seed)
			var ref *arrivalOutcome
			for _, d := range arrivalDeliveries {
				rng := rand.New(rand.NewPCG(seed, uint64(len(d.name))))
				got := deliver(t, evs, func(evs []arrivalEvent) []arrivalSync { return d.plan(rng, evs) })
				checkStreakPayments(t, got, d.name)
				if ref == nil {
					ref = got
					continue
				}
				for _, u := range arrivalUsers {
					require.Equal(t, ref.users[u.id], got.users[u.id], "seed %d: user %s: delivery %q differs from %q", seed, u.id, d.name, arrivalDeliveries[0].name)
				}
			}
		})
	}
}

// The game of the property test: two streaks with triggers (EveryN 3 and 7
// daily, 2 weekly), a daily streak with freezes that only a milestone pays
// on (see the doc of checkStreakPayments) and one with earned freezes that
// nothing pays on, a metric trigger, and streak and metric achievements.
var (
	arrivalFrom  = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // spans New York's DST start (8 March)
	arrivalDays  = 26
	arrivalEnd   = arrivalFrom.AddDate(0, 0, arrivalDays+1).Add(12 * time.Hour)
	arrivalUsers = []struct{ id, tz string }{
		{"ana", "America/New_York"}, {"bo", "UTC"}, {"cy", "Asia/Tokyo"}, {"di", "Europe/London"},
	}
	arrivalTriggers = map[string]int{"d3": 3, "d7": 7, "w2": 2, "s2": 2} // trigger → EveryN
	arrivalStreakOf = map[string]string{"d3": "daily", "d7": "daily", "w2": "weekly", "s2": "safe"}
	// arrivalMilestone is the length of the daily streak's milestone, which
	// pays 1 gem per run reaching it.
	arrivalMilestone = 4
	// arrivalSafeMilestone is the length of the safe streak's milestone,
	// which pays 1 ruby per run reaching it: a late event that moves a
	// freeze earlier can end a run that had been paid it.
	arrivalSafeMilestone = 3
)

func setupArrival(t *testing.T, eng *testEngine) {
	t.Helper()
	ctx := context.Background()
	for _, m := range []string{"lessons", "steps"} {
		mustMetric(t, eng.Engine, m)
	}
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "rubies", Name: "Rubies"})
	require.NoError(t, err)
	for _, s := range []gamify.Streak{
		{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
			Milestones: []gamify.StreakMilestone{{Length: arrivalMilestone, System: "gems", Points: gamify.AmountFromInt(1)}}},
		{Key: "weekly", Name: "Weekly", Frequency: gamify.StreakWeekly, Metrics: []gamify.StreakMetric{{Metric: "steps", Min: gamify.AmountFromInt(300)}}},
		{Key: "safe", Name: "Safe", Frequency: gamify.StreakDaily, Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(2)}},
			Freezes:    gamify.StreakFreezes{Initial: 2, Max: 2},
			Milestones: []gamify.StreakMilestone{{Length: arrivalSafeMilestone, System: "rubies", Points: gamify.AmountFromInt(1)}}},
		// Freezes earned from the user's earliest activity, whenever it arrives.
		{Key: "earned", Name: "Earned", Frequency: gamify.StreakDaily, Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
			Freezes: gamify.StreakFreezes{Max: 2, EarnAmount: 1, EarnEveryDays: 3}},
	} {
		_, err := eng.Streaks().Create(ctx, s)
		require.NoError(t, err)
	}
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	for key, n := range arrivalTriggers {
		_, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: key, System: "xp", Kind: gamify.TriggerStreak,
			Streak: arrivalStreakOf[key], EveryN: n, Points: gamify.AmountFromInt(int64(10 * n))})
		require.NoError(t, err)
	}
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-250-steps", System: "xp", Kind: gamify.TriggerMetric,
		Metric: "steps", Threshold: gamify.AmountFromInt(250), Points: gamify.AmountFromInt(1)})
	require.NoError(t, err)
	// What arrivalAdmin switches off and on: coins per lesson, doubled by a
	// boost, their points system, and a board of steps.
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "coins-per-lesson", System: "coins", Kind: gamify.TriggerMetric,
		Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(5)})
	require.NoError(t, err)
	_, err = eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "coins-double", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "steps-all", Name: "Steps", RankBy: gamify.RankByMetric, Metric: "steps"})
	require.NoError(t, err)
	for _, a := range []gamify.Achievement{
		{Key: "daily5", Name: "Five days", Kind: gamify.AchievementStreak, Streak: "daily", Length: 5},
		{Key: "daily9", Name: "Nine days", Kind: gamify.AchievementStreak, Streak: "daily", Length: 9},
		{Key: "weekly3", Name: "Three weeks", Kind: gamify.AchievementStreak, Streak: "weekly", Length: 3},
		{Key: "steps2k", Name: "2000 steps", Kind: gamify.AchievementMetric, Metric: "steps", Threshold: gamify.AmountFromInt(2000)},
	} {
		_, err := eng.Achievements().Create(ctx, a)
		require.NoError(t, err)
	}
	for _, u := range arrivalUsers {
		_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: u.id, TZ: u.tz})
		require.NoError(t, err)
	}
}

// arrivalAdmin are the status changes every delivery makes at the same
// clock times, between its syncs.
var arrivalAdmin = []struct {
	at     time.Time
	what   string // "trigger", "boost", "system" or "board"
	key    string
	active bool
}{
	{arrivalFrom.AddDate(0, 0, 4).Add(10 * time.Hour), "trigger", "coins-per-lesson", false},
	{arrivalFrom.AddDate(0, 0, 6), "board", "steps-all", false},
	{arrivalFrom.AddDate(0, 0, 8).Add(15 * time.Hour), "trigger", "coins-per-lesson", true},
	{arrivalFrom.AddDate(0, 0, 11).Add(8 * time.Hour), "boost", "coins-double", false},
	{arrivalFrom.AddDate(0, 0, 13).Add(12 * time.Hour), "board", "steps-all", true},
	{arrivalFrom.AddDate(0, 0, 14).Add(14 * time.Hour), "system", "coins", false},
	{arrivalFrom.AddDate(0, 0, 15).Add(18 * time.Hour), "system", "coins", true},
	{arrivalFrom.AddDate(0, 0, 16).Add(20 * time.Hour), "boost", "coins-double", true},
	{arrivalFrom.AddDate(0, 0, 19), "trigger", "coins-per-lesson", false},
	{arrivalFrom.AddDate(0, 0, 22).Add(6 * time.Hour), "trigger", "coins-per-lesson", true},
}

// admin makes the status changes of arrivalAdmin from i on that are due by
// until, each at its own time; it returns the index of the next one.
func (te *testEngine) admin(t *testing.T, i int, until time.Time) int {
	t.Helper()
	ctx := context.Background()
	for ; i < len(arrivalAdmin) && !arrivalAdmin[i].at.After(until); i++ {
		a := arrivalAdmin[i]
		require.False(t, te.clock.Now().After(a.at), "a status change is made at its own time")
		te.clock.Set(a.at)
		_, err := te.RunDue(ctx)
		require.NoError(t, err)
		switch {
		case a.what == "trigger" && a.active:
			_, err = te.Points().Triggers().Activate(ctx, a.key)
		case a.what == "trigger":
			_, err = te.Points().Triggers().Deactivate(ctx, a.key)
		case a.what == "boost" && a.active:
			_, err = te.Points().Boosts().Activate(ctx, a.key)
		case a.what == "boost":
			_, err = te.Points().Boosts().Deactivate(ctx, a.key)
		case a.what == "system" && a.active:
			_, err = te.Points().Activate(ctx, a.key)
		case a.what == "system":
			_, err = te.Points().Deactivate(ctx, a.key)
		case a.active:
			_, err = te.Leaderboards().Activate(ctx, a.key)
		default:
			_, err = te.Leaderboards().Deactivate(ctx, a.key)
		}
		require.NoError(t, err, "%s %s active=%v", a.what, a.key, a.active)
	}
	return i
}

type arrivalEvent struct {
	ev gamify.Event
	at time.Time
}

// arrivalEvents draws each user's activity: most days a lesson or two at a
// random local hour, steps on some days, and gaps.
func arrivalEvents(seed uint64) []arrivalEvent {
	rng := rand.New(rand.NewPCG(seed, 0))
	var out []arrivalEvent
	for _, u := range arrivalUsers {
		loc, err := time.LoadLocation(u.tz)
		if err != nil {
			panic(err)
		}
		p := 0.55 + rng.Float64()*0.4 // how regular this user is
		for d := range arrivalDays {
			day := arrivalFrom.AddDate(0, 0, d)
			at := func() time.Time {
				return time.Date(day.Year(), day.Month(), day.Day(), rng.IntN(24), rng.IntN(60), 0, 0, loc)
			}
			if rng.Float64() < p {
				for range 1 + rng.IntN(2) {
					out = append(out, arrivalEvent{gamify.Event{Metric: "lessons", User: u.id, Value: 1}, at()})
				}
			}
			if rng.Float64() < 0.5 {
				out = append(out, arrivalEvent{gamify.Event{Metric: "steps", User: u.id, Value: float64(20 + rng.IntN(200))}, at()})
			}
		}
	}
	for i := range out {
		out[i].ev.Time = out[i].at
	}
	return out
}

// arrivalSync is one delivery: at the clock's at, the events, one Track
// each or one TrackBatch.
type arrivalSync struct {
	at    time.Time
	evs   []arrivalEvent
	batch bool
}

func byTime(evs []arrivalEvent) []arrivalEvent {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b arrivalEvent) int { return a.at.Compare(b.at) })
	return evs
}

// chunks splits evs into TrackBatch calls of random sizes (1 to 20).
func chunks(rng *rand.Rand, at time.Time, evs []arrivalEvent) []arrivalSync {
	var out []arrivalSync
	for len(evs) > 0 {
		n := min(len(evs), 1+rng.IntN(20))
		out = append(out, arrivalSync{at: at, evs: evs[:n], batch: true})
		evs = evs[n:]
	}
	return out
}

func singly(at time.Time, evs []arrivalEvent) []arrivalSync {
	var out []arrivalSync
	for _, e := range evs {
		out = append(out, arrivalSync{at: at, evs: []arrivalEvent{e}})
	}
	return out
}

var arrivalDeliveries = []struct {
	name string
	plan func(*rand.Rand, []arrivalEvent) []arrivalSync
}{
	{"one batch at the end", func(_ *rand.Rand, evs []arrivalEvent) []arrivalSync {
		var out []arrivalSync
		for evs := byTime(evs); len(evs) > 0; evs = evs[min(len(evs), 1000):] {
			out = append(out, arrivalSync{at: arrivalEnd, evs: evs[:min(len(evs), 1000)], batch: true})
		}
		return out
	}},
	{"live, in time order", func(_ *rand.Rand, evs []arrivalEvent) []arrivalSync {
		var out []arrivalSync
		for _, e := range byTime(evs) {
			out = append(out, arrivalSync{at: e.at, evs: []arrivalEvent{e}})
		}
		return out
	}},
	{"oldest first at the end", func(_ *rand.Rand, evs []arrivalEvent) []arrivalSync {
		return singly(arrivalEnd, byTime(evs))
	}},
	{"newest first at the end", func(_ *rand.Rand, evs []arrivalEvent) []arrivalSync {
		evs = byTime(evs)
		slices.Reverse(evs)
		return singly(arrivalEnd, evs)
	}},
	{"shuffled batches at the end", func(rng *rand.Rand, evs []arrivalEvent) []arrivalSync {
		evs = slices.Clone(evs)
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		return chunks(rng, arrivalEnd, evs)
	}},
	{"late syncs, shuffled", func(rng *rand.Rand, evs []arrivalEvent) []arrivalSync {
		// Each event waits 0 to 5 days on its device; a device syncs what
		// waits, in a random order, singly or in batches.
		type held struct {
			e  arrivalEvent
			at time.Time
		}
		var hs []held
		for _, e := range evs {
			// Syncs at the next 6-hour mark, never after arrivalEnd: the
			// outcome is read there, and a clock set back would read the
			// streaks before periods their cursors already settled.
			at := e.at.Add(time.Duration(rng.Int64N(int64(5 * 24 * time.Hour)))).Truncate(6 * time.Hour).Add(6 * time.Hour)
			if at.After(arrivalEnd) {
				at = arrivalEnd
			}
			hs = append(hs, held{e, at})
		}
		slices.SortStableFunc(hs, func(a, b held) int { return a.at.Compare(b.at) })
		var out []arrivalSync
		for len(hs) > 0 {
			j := 1
			for j < len(hs) && hs[j].at.Equal(hs[0].at) {
				j++
			}
			var group []arrivalEvent
			for _, h := range hs[:j] {
				group = append(group, h.e)
			}
			rng.Shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
			if rng.IntN(2) == 0 {
				out = append(out, singly(hs[0].at, group)...)
			} else {
				out = append(out, chunks(rng, hs[0].at, group)...)
			}
			hs = hs[j:]
		}
		return out
	}},
}

// arrivalOutcome is what must not depend on the arrival order, per user.
type arrivalOutcome struct {
	users map[string]userOutcome
	// gems are paid by the daily streak's milestone, once per run of the
	// final history (see checkStreakPayments).
	gems map[string]gamify.Amount
	// rubies are paid by the safe streak's milestone, once per run of the
	// final history that reaches it.
	rubies map[string]gamify.Amount
}

type userOutcome struct {
	Metrics      map[string]gamify.Amount
	Total        gamify.Amount
	Available    gamify.Amount
	Coins        gamify.Amount // paid by the trigger and boost arrivalAdmin switches
	BoardScore   gamify.Amount // on the board arrivalAdmin pauses
	Streaks      map[string]streakOutcome
	Achievements []string
	// Awards sums the award log per trigger: points and multiples paid.
	// Award times and how multiples group into awards depend on arrival.
	Awards map[string][2]int64
	runs   [][]int // per streak of arrivalStreaks, the lengths of the runs of the final history
}

var arrivalStreaks = []string{"daily", "weekly", "safe", "earned"}

type streakOutcome struct {
	Length, Longest, Freezes int
	// History is one word per period: its first day, then M (met), F
	// (frozen), P (paused), X (missed) or - and the length.
	History []string
}

func historyWords(h []gamify.StreakPeriod) []string {
	out := make([]string, len(h))
	for i, p := range h {
		o := "-"
		switch {
		case p.Met:
			o = "M"
		case p.UsedFreeze:
			o = "F"
		case p.UsedPause:
			o = "P"
		case p.Missed:
			o = "X"
		}
		out[i] = fmt.Sprintf("%s%s%d", p.First, o, p.Length)
	}
	return out
}

// deliver opens an engine with the game, plays the plan (moving the clock to
// each sync and running the due jobs) and reads the outcome at arrivalEnd.
func deliver(t *testing.T, evs []arrivalEvent, plan func([]arrivalEvent) []arrivalSync) *arrivalOutcome {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered})
	eng.clock.Set(arrivalFrom.Add(-24 * time.Hour))
	setupArrival(t, eng)
	next := 0
	for _, s := range plan(evs) {
		next = eng.admin(t, next, s.at)
		eng.sync(t, s)
	}
	require.False(t, eng.clock.Now().After(arrivalEnd), "a plan syncs at arrivalEnd at the latest")
	eng.admin(t, next, arrivalEnd)
	eng.clock.Set(arrivalEnd)
	_, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))

	out := &arrivalOutcome{users: map[string]userOutcome{}, gems: map[string]gamify.Amount{}, rubies: map[string]gamify.Amount{}}
	for _, u := range arrivalUsers {
		uo := userOutcome{Metrics: map[string]gamify.Amount{}, Streaks: map[string]streakOutcome{}, Awards: map[string][2]int64{}}
		ms, err := eng.Users().Metrics(ctx, u.id)
		require.NoError(t, err)
		for _, m := range ms {
			uo.Metrics[m.Key] = m.Total
		}
		p, err := eng.Users().Points(ctx, u.id, "xp")
		require.NoError(t, err)
		uo.Total, uo.Available = p.Total, p.Available
		g, err := eng.Users().Points(ctx, u.id, "gems")
		require.NoError(t, err)
		out.gems[u.id] = g.Total
		r, err := eng.Users().Points(ctx, u.id, "rubies")
		require.NoError(t, err)
		out.rubies[u.id] = r.Total
		c, err := eng.Users().Points(ctx, u.id, "coins")
		require.NoError(t, err)
		uo.Coins = c.Total
		if r, err := eng.Leaderboards().UserRank(ctx, "steps-all", u.id); err == nil {
			uo.BoardScore = r.Score
		} else {
			require.ErrorIs(t, err, gamify.ErrNotFound)
		}
		for _, key := range arrivalStreaks {
			s, err := eng.Users().Streak(ctx, u.id, key)
			require.NoError(t, err)
			h, err := eng.Users().StreakHistory(ctx, u.id, key, 40)
			require.NoError(t, err)
			uo.Streaks[key] = streakOutcome{Length: s.Length, Longest: s.Longest, Freezes: s.Freezes, History: historyWords(h)}
			uo.runs = append(uo.runs, runLengths(h))
		}
		as, err := eng.Achievements().User(ctx, u.id, false)
		require.NoError(t, err)
		for _, a := range as {
			if a.Completed {
				uo.Achievements = append(uo.Achievements, a.Key)
			}
		}
		slices.Sort(uo.Achievements)
		for skip := 0; ; skip += 100 {
			aw, err := eng.Users().Awards(ctx, u.id, "xp", gamify.ListOptions{Limit: 100, Skip: skip})
			require.NoError(t, err)
			for _, a := range aw {
				s := uo.Awards[a.Trigger]
				uo.Awards[a.Trigger] = [2]int64{s[0] + a.Points.Micros(), s[1] + a.Multiple}
			}
			if len(aw) < 100 {
				break
			}
		}
		// A payment taken back (a run cut short) sums to nothing, as none.
		maps.DeleteFunc(uo.Awards, func(_ string, s [2]int64) bool { return s == [2]int64{} })
		out.users[u.id] = uo
	}
	return out
}

// checkStreakPayments checks that every streak trigger paid, per user,
// exactly the multiples of its EveryN that the runs of the final history
// hold: each multiple once per run, none missed.
//
// The "safe" streak has freezes and a milestone but no trigger: a late
// event can move a freeze earlier (the gap it now covers comes first) and
// so cut short a run that was paid for at its full length. A milestone
// takes back what the shorter run no longer reaches; a streak trigger
// never takes points back, so one on a streak with freezes can differ by
// arrival in that case (docs/behaviour.md).
//
// A milestone pays once per run of the final history in every delivery: a
// late event that joins two runs which each reached it takes the later
// run's points back, as does one that cuts a paid run short.
func checkStreakPayments(t *testing.T, o *arrivalOutcome, delivery string) {
	t.Helper()
	for user, u := range o.users {
		for trig, n := range arrivalTriggers {
			runs := u.runs[slices.Index(arrivalStreaks, arrivalStreakOf[trig])]
			want := 0
			for _, l := range runs {
				want += l / n
			}
			got := u.Awards[trig][1]
			require.Equal(t, int64(want), got, "%s: %s paid %d multiples of %d, the runs of the history hold %d (%v)", delivery, user, got, n, want, runs)
		}
		runs := u.runs[slices.Index(arrivalStreaks, "daily")]
		want := 0
		for _, l := range runs {
			if l >= arrivalMilestone {
				want++
			}
		}
		got := o.gems[user]
		require.Equal(t, gamify.AmountFromInt(int64(want)), got, "%s: %s: the milestone of %d pays once per run reaching it (%v)", delivery, user, arrivalMilestone, runs)
		runs = u.runs[slices.Index(arrivalStreaks, "safe")]
		want = 0
		for _, l := range runs {
			if l >= arrivalSafeMilestone {
				want++
			}
		}
		got = o.rubies[user]
		require.Equal(t, gamify.AmountFromInt(int64(want)), got, "%s: %s: the safe streak's milestone of %d pays once per run reaching it, freezes moved or not (%v)", delivery, user, arrivalSafeMilestone, runs)
	}
}

// runLengths returns the lengths of the runs of a history: a run ends where
// the next period's length is 0 (frozen or paused periods keep it).
func runLengths(h []gamify.StreakPeriod) []int {
	var out []int
	for i, p := range h {
		if p.Length > 0 && (i == len(h)-1 || h[i+1].Length == 0) {
			out = append(out, p.Length)
		}
	}
	return out
}

// sync delivers s: the clock moves to its time if that is later (due jobs
// run), then its events are tracked.
func (te *testEngine) sync(t *testing.T, s arrivalSync) {
	t.Helper()
	ctx := context.Background()
	if s.at.After(te.clock.Now()) {
		te.clock.Set(s.at)
		_, err := te.RunDue(ctx)
		require.NoError(t, err)
	}
	if s.batch {
		batch := make([]gamify.Event, len(s.evs))
		for i, e := range s.evs {
			batch[i] = e.ev
		}
		_, err := te.TrackBatch(ctx, batch)
		require.NoError(t, err)
		return
	}
	for _, e := range s.evs {
		_, err := te.Track(ctx, e.ev)
		require.NoError(t, err)
	}
}
