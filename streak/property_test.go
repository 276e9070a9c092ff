package streak

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// op is one input of the randomized test: an activity, or an admin call.
type op struct {
	kind   int // 0 activity, 1 grant, 2 pause
	metric string
	delta  int64
	at     time.Time // activity time, or the call time
	arrive time.Time // when the activity reaches the engine
	from   int       // pause: days after today
	days   int       // pause: length in days
}

func randomDef(r *rand.Rand) Definition {
	d := Definition{Key: "p", Frequency: Frequency(1 + r.IntN(3)), Mode: Mode(r.IntN(2))}
	d.Metrics = []MetricRule{{Metric: "a", Min: amt(1)}}
	if r.IntN(2) == 0 {
		d.Metrics = append(d.Metrics, MetricRule{Metric: "b", Min: amt(2)})
	}
	if r.IntN(2) == 0 {
		d.WeekStart = Weekday(r.IntN(8))
	}
	if r.IntN(2) == 0 {
		d.GraceHours = []int{2, 5, 20}[r.IntN(3)]
	}
	d.Freezes.Max = r.IntN(4)
	d.Freezes.Initial = r.IntN(d.Freezes.Max + 1)
	if r.IntN(2) == 0 {
		d.Freezes.EarnAmount = 1 + r.IntN(2)
		d.Freezes.EarnEveryDays = 1 + r.IntN(10)
	}
	return d
}

var propZones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia", "America/Sao_Paulo"}

// TestIncrementalEqualsFromScratch applies random activities (many of them
// late) and admin calls in arrival order with Advance at random times, and
// checks that the result equals applying the same inputs in time order, and
// applying every activity at the end in a random order.
func TestIncrementalEqualsFromScratch(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 40
	}
	for seed := range uint64(runs) {
		r := rand.New(rand.NewPCG(seed, 7))
		d := randomDef(r)
		require.NoError(t, d.Validate())
		loc := mustLoc(t, propZones[r.IntN(len(propZones))])
		if r.IntN(10) == 0 {
			loc = mustLoc(t, "Pacific/Apia")
		}
		t0 := time.Date(2025, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, loc)
		if loc.String() == "Pacific/Apia" && r.IntN(2) == 0 {
			t0 = time.Date(2011, 12, 1+r.IntN(20), 12, 0, 0, 0, loc)
		}
		unit := map[Frequency]time.Duration{Daily: 24 * time.Hour, Weekly: 7 * 24 * time.Hour, Monthly: 30 * 24 * time.Hour}[d.Frequency]
		horizon := time.Duration(20+r.IntN(40)) * unit
		var ops []op
		n := 20 + r.IntN(80)
		for range n {
			at := t0.Add(-time.Duration(r.Int64N(int64(20 * 24 * time.Hour)))).Add(time.Duration(r.Int64N(int64(horizon + 20*24*time.Hour))))
			o := op{kind: 0, metric: []string{"a", "b", "a", "c"}[r.IntN(4)], delta: int64(1 + r.IntN(2)), at: at}
			if r.IntN(15) == 0 {
				o.delta = -1
			}
			arrive := at
			if arrive.Before(t0) {
				arrive = t0
			}
			if r.IntN(3) == 0 {
				arrive = arrive.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
			}
			o.arrive = arrive
			ops = append(ops, o)
		}
		for range r.IntN(4) {
			at := t0.Add(time.Duration(r.Int64N(int64(horizon))))
			ops = append(ops, op{kind: 1, at: at, arrive: at})
		}
		for range r.IntN(3) {
			at := t0.Add(time.Duration(r.Int64N(int64(horizon))))
			ops = append(ops, op{kind: 2, at: at, arrive: at, from: r.IntN(5), days: 1 + r.IntN(10)})
		}
		end := t0.Add(horizon + time.Duration(r.Int64N(int64(40*24*time.Hour))))
		ops = slices.DeleteFunc(ops, func(o op) bool { return o.at.After(end) })
		for i := range ops {
			ops[i].arrive = minTime(ops[i].arrive, end)
		}

		lateFirst := r.IntN(3) == 0
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			apply := func(s State, o op, now time.Time) State {
				switch o.kind {
				case 0:
					s2, _, err := Apply(d, s, Activity{Metric: o.metric, Delta: amt(o.delta), At: o.at, Loc: loc}, now)
					require.NoError(t, err)
					return s2
				case 1:
					s2, _, err := GrantFreeze(d, s, now, loc)
					require.NoError(t, err)
					return s2
				default:
					today := DateOf(now.In(loc))
					from := dateOfDay(today.dayNumber() + int64(o.from))
					s2, _, err := AddPause(d, s, now, loc, from, dateOfDay(from.dayNumber()+int64(o.days-1)))
					if err != nil {
						return s // overlapping: refused the same way on both paths
					}
					return s2
				}
			}
			start, _ := Advance(d, State{}, t0, loc)
			if lateFirst {
				// First seen by the first input to arrive: a late first
				// sync earns freezes from the earliest activity, as live.
				start = State{}
			}

			// Incremental: arrival order, Advance at random instants in between.
			inc := slices.Clone(ops)
			slices.SortStableFunc(inc, func(a, b op) int { return a.arrive.Compare(b.arrive) })
			s := start
			prev := t0
			for _, o := range inc {
				if r.IntN(3) == 0 && o.arrive.After(prev) {
					s, _ = Advance(d, s, prev.Add(time.Duration(r.Int64N(int64(o.arrive.Sub(prev))))), loc)
				}
				s = apply(s, o, o.arrive)
				prev = o.arrive
			}
			s, _ = Advance(d, s, end, loc)

			// From scratch: time order, each on time.
			fs := slices.Clone(ops)
			slices.SortStableFunc(fs, func(a, b op) int { return maxTime(a.at, t0).Compare(maxTime(b.at, t0)) })
			s2 := start
			for _, o := range fs {
				now := maxTime(o.at, t0)
				if o.kind != 0 {
					now = o.arrive
				}
				s2 = apply(s2, o, now)
			}
			s2, _ = Advance(d, s2, end, loc)
			requireSameState(t, d, s2, s, end, loc)

			// Once more with a round trip through the encoding.
			b, err := s.MarshalBinary()
			require.NoError(t, err)
			var s3 State
			require.NoError(t, s3.UnmarshalBinary(b))
			requireSameState(t, d, s, s3, end.Add(37*time.Hour), loc)
		})
	}
}

func requireSameState(t *testing.T, d Definition, want, got State, now time.Time, loc *time.Location) {
	t.Helper()
	require.Equal(t, fmtStatus(View(d, want, now, loc)), fmtStatus(View(d, got, now, loc)), "View(%v)", now)
	hw, hg := fmtHistory(History(d, want, now, loc, 500)), fmtHistory(History(d, got, now, loc, 500))
	require.Equal(t, len(hw), len(hg), "len(History(%v))", now)
	for i := range hw {
		if hw[i] != hg[i] {
			lo := max(i-3, 0)
			require.Equal(t, hw[lo:min(i+3, len(hw))], hg[lo:min(i+3, len(hg))], "History(%v) from %d", now, lo)
		}
	}
	require.Equal(t, NextDue(d, want, loc), NextDue(d, got, loc), "NextDue")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func fmtStatus(s Status) string {
	f := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format("2006-01-02T15:04:05.999999999Z07:00")
	}
	return fmt.Sprintf("len=%d longest=%d started=%s period=%s..%s met=%v paused=%v risk=%v expires=%s grace=%s last=%s freezes=%d",
		s.Length, s.Longest, f(s.Started), f(s.PeriodStart), f(s.PeriodEnd), s.Met, s.Paused, s.AtRisk, f(s.Expires), f(s.GraceEnds), f(s.LastExtended), s.Freezes)
}

func fmtHistory(ps []Period) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s %s..%s len=%d met=%v freeze=%v pause=%v missed=%v", p.First, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), p.Length, p.Met, p.UsedFreeze, p.UsedPause, p.Missed)
	}
	return out
}
