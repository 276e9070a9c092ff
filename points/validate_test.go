package points

import (
	"errors"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	gstreak "github.com/gamifykit/gamify/streak"
	"github.com/stretchr/testify/require"
)

// fields returns the Field of every ValidationError joined in err.
func fields(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		var ve *gamifytype.ValidationError
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if errors.As(e, &ve) {
			out = append(out, ve.Field)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestValidateReportsEveryField(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"system ok", System{Key: "xp", Name: "XP", MaxPoints: pts("10")}.Validate(), nil},
		{"system", System{Key: "x y", MaxPoints: micros(-1)}.Validate(), []string{"System.Key", "System.Name", "System.MaxPoints"}},
		{"metric ok", metricTrigger("t", "m", "1", "-1").Validate(), nil},
		{"metric", Trigger{Key: "t", System: "xp", Kind: KindMetric, Threshold: micros(-1), UserFilters: map[string]string{"bad key": "v"}}.Validate(),
			[]string{"Trigger.Points", "Trigger.Metric", "Trigger.Threshold", "Trigger.UserFilters"}},
		{"kind", Trigger{System: "xp", Points: micros(1)}.Validate(), []string{"Trigger.Key", "Trigger.Kind"}},
		{"streak", Trigger{Key: "t", System: "xp", Kind: KindStreak, Points: micros(1), EventFilters: map[string]string{"a": "b"}}.Validate(),
			[]string{"Trigger.Streak", "Trigger.EveryN", "Trigger.EventFilters"}},
		{"time", Trigger{Key: "t", System: "xp", Kind: KindTime, Points: maxPointsMagnitude.Add(micros(1)), Every: 0}.Validate(),
			[]string{"Trigger.Points", "Trigger.Unit", "Trigger.Every"}},
		{"time too long", Trigger{Key: "t", System: "xp", Kind: KindTime, Points: micros(1), Every: 40000, Unit: Days}.Validate(), []string{"Trigger.Every"}},
		{"achievement", Trigger{Key: "t", System: "", Kind: KindAchievement, Points: micros(1)}.Validate(), []string{"Trigger.System", "Trigger.Achievement"}},
		{"user created ok", Trigger{Key: "t", System: "xp", Kind: KindUserCreated, Points: micros(1)}.Validate(), nil},
		{"boost ok", globalBoost("b", "0.5", RoundNearest).Validate(), nil},
		{"boost", Boost{Key: "b", System: "xp", Scope: Global, From: Date{2026, 2, 30}, To: Date{2026, 1, 1}, Multiplier: one, Rounding: 9, User: "u"}.Validate(),
			[]string{"Boost.Multiplier", "Boost.Rounding", "Boost.User", "Boost.From"}},
		{"boost to before from", Boost{Key: "b", System: "xp", Scope: Global, From: Date{2026, 2, 1}, To: Date{2026, 1, 1}, Multiplier: gamifytype.AmountFromInt(100)}.Validate(),
			[]string{"Boost.Multiplier", "Boost.To"}},
		{"cohort", Boost{Key: "b", System: "xp", Scope: Cohort, From: Date{2026, 2, 1}, Multiplier: gamifytype.AmountFromInt(2), Start: t0}.Validate(),
			[]string{"Boost.UserFilters", "Boost.Start"}},
		{"per-user", Boost{Key: "b", System: "xp", Scope: PerUser, Multiplier: gamifytype.AmountFromInt(2), End: t0, From: Date{2026, 1, 1}}.Validate(),
			[]string{"Boost.User", "Boost.Start", "Boost.From"}},
		{"per-user end", Boost{Key: "b", System: "xp", Scope: PerUser, User: "u", Start: t0, End: t0, Multiplier: gamifytype.AmountFromInt(2)}.Validate(), []string{"Boost.End"}},
		{"per-user ok", Boost{Key: "b", System: "xp", Scope: PerUser, User: "u", Start: t0, End: t0.Add(time.Hour), Multiplier: gamifytype.AmountFromInt(2)}.Validate(), nil},
		{"scope", Boost{Key: "b", System: "xp", Multiplier: gamifytype.AmountFromInt(2)}.Validate(), []string{"Boost.Scope"}},
		{"level", Level{Key: "", Multiplier: micros(-1)}.Validate(), []string{"Level.Key", "Level.Name", "Level.Multiplier"}},
		{"level benefits", Level{Key: "l", Name: "L", Benefits: []string{"Free shipping", " ", ""}}.Validate(), []string{"Level.Benefits[1]", "Level.Benefits[2]"}},
		{"levels ok", ValidateLevels(levels()), nil},
		{"levels", ValidateLevels([]Level{{Key: "a", Name: "A"}, {Key: "a", Name: "B", Threshold: Amount{}}}), []string{"Level.Key", "Level.Threshold"}},
	} {
		got := fields(c.err)
		require.Equal(t, c.want, got, "%s: Validate fields = %v, want %v (%v)", c.name, got, c.want, c.err)
		if c.want != nil {
			require.ErrorIs(t, c.err, gamifytype.ErrInvalid)
		}
	}
}

func FuzzTriggerValidate(f *testing.F) {
	f.Add("t", "xp", uint8(1), int64(1), "m", int64(1), "", 0, 0, uint8(0))
	f.Add("t", "xp", uint8(4), int64(-5), "", int64(0), "", 0, 3, uint8(2))
	f.Add("", "", uint8(9), int64(0), "a b", int64(-1), "s", -1, -1, uint8(7))
	f.Fuzz(func(t *testing.T, key, sys string, kind uint8, points int64, metric string, threshold int64, streak string, everyN, every int, unit uint8) {
		tr := Trigger{Key: key, System: sys, Kind: Kind(kind), Points: micros(points), Metric: metric, Threshold: micros(threshold),
			Streak: streak, EveryN: everyN, Every: every, Unit: Unit(unit), Active: true}
		err := tr.Validate()
		if err != nil {
			require.ErrorIs(t, err, gamifytype.ErrInvalid)
			require.NotEmpty(t, fields(err))
			return
		}
		// A valid trigger can be applied without panicking.
		r := Rules{System: System{Key: sys, Name: "S"}, Triggers: []Trigger{tr}}
		s, _, _ := OnMetric(r, State{}, User{}, MetricChange{Metric: metric, Delta: micros(points), At: t0})
		s, _, _ = OnStreak(r, s, User{}, streak, gstreak.Reach{Length: everyN * 3}, t0)
		s, _, _ = OnTime(r, s, User{}, t0, t0.Add(1000*time.Hour))
		_ = NextTimeDue(tr, s, t0, nil)
	})
}

func FuzzBoostValidate(f *testing.F) {
	f.Add("b", "xp", uint8(1), "", 2026, 3, 8, 0, 0, 0, int64(0), int64(0), int64(2_000_000), uint8(0))
	f.Add("b", "xp", uint8(3), "u", 0, 0, 0, 0, 0, 0, int64(1), int64(0), int64(500_000), uint8(2))
	f.Fuzz(func(t *testing.T, key, sys string, scope uint8, user string, fy, fm, fd, ty, tm, td int, start, end, mult int64, rounding uint8) {
		b := Boost{Key: key, System: sys, Scope: Scope(scope), User: user, From: Date{fy, time.Month(fm), fd}, To: Date{ty, time.Month(tm), td},
			Multiplier: micros(mult), Rounding: Rounding(rounding)}
		if start != 0 {
			b.Start = time.Unix(start, 0)
		}
		if end != 0 {
			b.End = time.Unix(end, 0)
		}
		err := b.Validate()
		if err != nil {
			require.ErrorIs(t, err, gamifytype.ErrInvalid)
			require.NotEmpty(t, fields(err))
			return
		}
		require.True(t, b.Multiplier.Sign() > 0 && b.Multiplier.Less(gamifytype.AmountFromInt(100)) && b.Multiplier != one)
		st := b.StatusAt(t0, nil)
		require.True(t, st >= Scheduled && st <= Finished)
	})
}

func FuzzSystemAndLevelValidate(f *testing.F) {
	f.Add("xp", "XP", int64(0), "gold", int64(500), int64(2_000_000))
	f.Add("", "", int64(-1), "a b", int64(-5), int64(-1))
	f.Fuzz(func(t *testing.T, key, name string, maxPoints int64, lkey string, threshold, mult int64) {
		for _, err := range []error{
			System{Key: key, Name: name, MaxPoints: micros(maxPoints)}.Validate(),
			Level{Key: lkey, Name: name, Threshold: micros(threshold), Multiplier: micros(mult)}.Validate(),
			ValidateLevels([]Level{{Key: lkey, Name: name, Threshold: micros(threshold)}, {Key: key, Name: name, Threshold: micros(maxPoints)}}),
		} {
			if err != nil {
				require.ErrorIs(t, err, gamifytype.ErrInvalid)
				require.NotEmpty(t, fields(err))
			}
		}
	})
}

func TestRulesValidate(t *testing.T) {
	good := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("a", "m", "1", "1")}, Boosts: []Boost{globalBoost("b", "2", RoundUp)}}
	require.NoError(t, good.Validate())
	other := metricTrigger("a", "m", "1", "1")
	other.System = "coins"
	good.Triggers = append(good.Triggers, other)
	require.NoError(t, good.Validate(), "the same key in another system")
	bad := good
	bad.System.Name = ""
	bad.Triggers = append(bad.Triggers, metricTrigger("a", "n", "1", "1"), Trigger{Key: "z", System: "xp"})
	bad.Boosts = append(bad.Boosts, Boost{Key: "c", System: "xp", Scope: Global, From: Date{2026, 1, 1}})
	got := fields(bad.Validate())
	want := []string{"System.Name", "Trigger.Key", "Trigger.Points", "Trigger.Kind", "Boost.Multiplier"}
	require.Equal(t, want, got, "Rules.Validate fields = %v, want %v", got, want)
}
