package gamifytype

import (
	"testing"
	"time"
)

func TestIntervalContains(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	closed := Interval{From: t0, To: t0.Add(time.Hour)}
	open := Interval{From: t0}
	for _, c := range []struct {
		iv   Interval
		at   time.Time
		want bool
	}{
		{closed, t0.Add(-time.Nanosecond), false}, {closed, t0, true}, {closed, t0.Add(59 * time.Minute), true},
		{closed, t0.Add(time.Hour), false}, {open, t0.Add(-time.Nanosecond), false}, {open, t0.AddDate(100, 0, 0), true},
		{Interval{}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		if got := c.iv.Contains(c.at); got != c.want {
			t.Errorf("%v.Contains(%v) = %v, want %v", c.iv, c.at, got, c.want)
		}
	}
	if !InAny([]Interval{closed, {From: t0.Add(2 * time.Hour)}}, t0.Add(3*time.Hour)) || InAny([]Interval{closed}, t0.Add(2*time.Hour)) {
		t.Error("InAny")
	}
}
