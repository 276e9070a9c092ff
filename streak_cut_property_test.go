package gamify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// cutCfg is one streak of TestStreakRewardsOfCutRunsProperty: its
// frequency, freezes and grace, the EveryN of its triggers (10 xp each) and
// its milestones (l gems for length l).
type cutCfg struct {
	name   string
	freq   gamify.StreakFrequency
	fr     gamify.StreakFreezes
	grace  int
	everyN []int
	miles  []int
}

var cutCfgs = []cutCfg{
	{"daily-2freezes", gamify.StreakDaily, gamify.StreakFreezes{Initial: 2, Max: 2}, 0, []int{1, 2, 3}, []int{2, 3, 5}},
	{"daily-earned", gamify.StreakDaily, gamify.StreakFreezes{Initial: 1, Max: 2, EarnAmount: 1, EarnEveryDays: 3}, 0, []int{1, 2, 4}, []int{3, 4}},
	{"daily-grace", gamify.StreakDaily, gamify.StreakFreezes{Initial: 1, Max: 1}, 6, []int{1, 3}, []int{2, 3}},
	{"weekly", gamify.StreakWeekly, gamify.StreakFreezes{Initial: 1, Max: 1}, 0, []int{1, 2}, []int{2, 3}},
}

func cutSetup(t *testing.T, eng *testEngine, c cutCfg) {
	ctx := context.Background()
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	var ms []gamify.StreakMilestone
	for _, l := range c.miles {
		ms = append(ms, gamify.StreakMilestone{Length: l, System: "gems", Points: gamify.AmountFromInt(int64(l))})
	}
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "s", Name: "S", Frequency: c.freq, GraceHours: c.grace,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}, Freezes: c.fr, Milestones: ms})
	require.NoError(t, err)
	for _, n := range c.everyN {
		_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: fmt.Sprintf("e%d", n), System: "xp", Kind: gamify.TriggerStreak, Streak: "s", EveryN: n, Points: gamify.AmountFromInt(10)})
		require.NoError(t, err)
	}
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", TZ: "UTC"})
	require.NoError(t, err)
}

// cutTakeBacks counts the trigger take-backs the property test saw (logged:
// a run in which none happens tests little).
var cutTakeBacks int

type cutOutcome struct {
	runs    []int
	trig    map[string]int64
	gems    gamify.Amount
	history []string
}

// readCutOutcome reads ana's runs, history, trigger multiples and gems, and
// checks the store.
func readCutOutcome(t *testing.T, eng *testEngine) cutOutcome {
	t.Helper()
	ctx := context.Background()
	o := cutOutcome{trig: map[string]int64{}}
	h, err := eng.Users().StreakHistory(ctx, "ana", "s", 40)
	require.NoError(t, err)
	o.runs = runLengths(h)
	o.history = historyWords(h)
	for skip := 0; ; skip += 100 {
		aw, err := eng.Users().Awards(ctx, "ana", "xp", gamify.ListOptions{Limit: 100, Skip: skip})
		require.NoError(t, err)
		for _, a := range aw {
			o.trig[a.Trigger] += a.Multiple
			if a.Multiple < 0 {
				cutTakeBacks++
			}
		}
		if len(aw) < 100 {
			break
		}
	}
	g, err := eng.Users().Points(ctx, "ana", "gems")
	require.NoError(t, err)
	o.gems = g.Total
	require.NoError(t, eng.Check(ctx))
	return o
}

// TestStreakRewardsOfCutRunsProperty: for streaks with freezes (initial,
// earned, granted), grace hours, a pause, daily and weekly, random activity
// delivered live, newest first, shuffled with a reopen, and delayed in
// batches with freezes granted at fixed times, every streak trigger pays
// exactly the multiples the runs of the final history hold and the
// milestones exactly what those runs reach: a late event that moves a
// freeze earlier and cuts a paid run short gives back what the run no
// longer owes. GAMIFY_CUT_SEEDS=n runs n seeds per streak (default 6).
func TestStreakRewardsOfCutRunsProperty(t *testing.T) {
	ctx := context.Background()
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	nSeeds := 6
	if v := os.Getenv("GAMIFY_CUT_SEEDS"); v != "" {
		nSeeds, _ = strconv.Atoi(v)
	}
	defer func() { t.Logf("negative awards seen: %d", cutTakeBacks) }()
	for _, c := range cutCfgs {
		for seed := uint64(1); seed <= uint64(nSeeds); seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", c.name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				step := 24 * time.Hour
				periods := 24
				if c.freq == gamify.StreakWeekly {
					step, periods = 7*24*time.Hour, 10
				}
				var times []time.Time
				for p := 0; p < periods; p++ {
					if rng.IntN(100) < 62 {
						h := time.Duration(1+rng.IntN(22)) * time.Hour
						times = append(times, from.Add(time.Duration(p)*step+h))
					}
				}
				end := from.Add(time.Duration(periods)*step + 12*time.Hour)
				play := func(name string, order []time.Time, live bool, reopen bool) cutOutcome {
					eng := openTest(t, nil)
					eng.clock.Set(from.Add(-time.Hour))
					cutSetup(t, eng, c)
					if !live {
						setClock(t, eng, end)
					}
					for i, at := range order {
						if live {
							setClock(t, eng, at)
						}
						_, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: at})
						require.NoError(t, err)
						if reopen && i == len(order)/2 {
							eng.reopen(t)
						}
					}
					setClock(t, eng, end)
					return readCutOutcome(t, eng)
				}
				ref := play("live", times, true, false)
				rev := slices.Clone(times)
				slices.Reverse(rev)
				shuf := slices.Clone(times)
				rng.Shuffle(len(shuf), func(i, j int) { shuf[i], shuf[j] = shuf[j], shuf[i] })
				check := func(name string, o cutOutcome) {
					for _, n := range c.everyN {
						want := int64(0)
						for _, l := range o.runs {
							want += int64(l / n)
						}
						require.Equal(t, want, o.trig[fmt.Sprintf("e%d", n)], "%s: trigger every %d: runs %v history %v", name, n, o.runs, o.history)
					}
					var g int64
					for _, l := range o.runs {
						for _, m := range c.miles {
							if l >= m {
								g += int64(m)
							}
						}
					}
					require.Equal(t, gamify.AmountFromInt(g), o.gems, "%s: milestones: runs %v history %v", name, o.runs, o.history)
				}
				// Delayed: each event arrives up to 4 periods late; events arriving
				// together go in one TrackBatch; a freeze is granted at fixed clock
				// times in every delivery.
				type arr struct{ at, arrive time.Time }
				var arrs []arr
				for _, at := range times {
					d := time.Duration(rng.IntN(4)) * step
					if rng.IntN(3) == 0 {
						d = 0
					}
					a := at.Add(d)
					if a.After(end) {
						a = end
					}
					a = a.Truncate(step).Add(step / 2)
					if a.Before(at) {
						a = at
					}
					arrs = append(arrs, arr{at, a})
				}
				slices.SortStableFunc(arrs, func(x, y arr) int { return x.arrive.Compare(y.arrive) })
				grants := []time.Time{from.Add(5*step + time.Hour), from.Add(13*step + 3*time.Hour)}
				admin := func(eng *testEngine, gi int) {
					setClock(t, eng, grants[gi])
					_, _, err := eng.Streaks().GrantFreezes(ctx, "s", []string{"ana"})
					require.NoError(t, err)
					if gi == 0 && c.freq == gamify.StreakDaily {
						f := gamify.Date{Year: 2026, Month: time.March, Day: 2 + 9}
						_, err := eng.Streaks().AddPause(ctx, "s", "ana", f, gamify.Date{Year: 2026, Month: time.March, Day: 2 + 10})
						require.NoError(t, err)
					}
				}
				delayed := func(withGrants bool, arrs []arr) cutOutcome {
					eng := openTest(t, nil)
					eng.clock.Set(from.Add(-time.Hour))
					cutSetup(t, eng, c)
					gi := 0
					for i := 0; i < len(arrs); {
						j := i
						var batch []gamify.Event
						for j < len(arrs) && arrs[j].arrive.Equal(arrs[i].arrive) {
							batch = append(batch, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: arrs[j].at})
							j++
						}
						for withGrants && gi < len(grants) && !grants[gi].After(arrs[i].arrive) {
							admin(eng, gi)
							gi++
						}
						setClock(t, eng, arrs[i].arrive)
						_, err := eng.TrackBatch(ctx, batch)
						require.NoError(t, err)
						i = j
					}
					for withGrants && gi < len(grants) {
						admin(eng, gi)
						gi++
					}
					setClock(t, eng, end)
					return readCutOutcome(t, eng)
				}
				var liveArrs []arr
				for _, at := range times {
					liveArrs = append(liveArrs, arr{at, at})
				}
				outs := map[string]cutOutcome{
					"delayed": delayed(false, arrs),
				}
				gLive, gDelayed := delayed(true, liveArrs), delayed(true, arrs)
				check("granted-live", gLive)
				check("granted-delayed", gDelayed)
				require.Equal(t, gLive.history, gDelayed.history, "granted")
				for k, v := range map[string]cutOutcome{
					"newest-first": play("newest-first", rev, false, false),
					"shuffled":     play("shuffled", shuf, false, true),
				} {
					outs[k] = v
				}
				check("live", ref)
				for name, o := range outs {
					check(name, o)
					require.Equal(t, ref.history, o.history, name)
				}
			})
		}
	}
}
