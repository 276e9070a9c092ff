package streak

import (
	"testing"
	"time"
)

// BenchmarkApply measures the streak update per event on the hot path: a
// user with a long streak doing several activities a day, each applied at
// its time (so each call also advances over the previous period end).
func BenchmarkApply(b *testing.B) { benchApply(b, mustLoc(b, "America/New_York")) }

// BenchmarkApplyUTC is BenchmarkApply in UTC, the engine's default zone.
func BenchmarkApplyUTC(b *testing.B) { benchApply(b, time.UTC) }

func benchApply(b *testing.B, ny *time.Location) {
	d := def(Daily)
	d.GraceHours = 2
	d.Freezes = Freezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 7}
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, ny)
	var s State
	var err error
	for i := range 60 { // warm up: a 60-day streak
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		if s, _, err = Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: at, Loc: ny}, at); err != nil {
			b.Fatal(err)
		}
	}
	start := t0.Add(60 * 24 * time.Hour)
	warm := s
	const cycle = 8 * 365 // a year of activities, then start over from the warm state
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%cycle == 0 {
			s = warm
		}
		at := start.Add(time.Duration(i%cycle) * 3 * time.Hour) // 8 activities a day
		if s, _, err = Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: at, Loc: ny}, at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyLate measures a back-dated activity that repairs a period
// 30 days ago (a full replay of the retained window).
func BenchmarkApplyLate(b *testing.B) {
	ny := mustLoc(b, "America/New_York")
	d := def(Daily)
	d.Freezes = Freezes{Initial: 1, Max: 3}
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, ny)
	var s State
	var err error
	for i := range 120 {
		if i == 90 {
			continue // the gap a late activity fills
		}
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		if s, _, err = Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: at, Loc: ny}, at); err != nil {
			b.Fatal(err)
		}
	}
	now := t0.Add(120 * 24 * time.Hour)
	late := Activity{Metric: "lessons", Delta: amt(1), At: t0.Add(90 * 24 * time.Hour), Loc: ny}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err = Apply(d, s, late, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshal measures encoding and decoding a busy state.
func BenchmarkMarshal(b *testing.B) {
	_, s, _ := busyState(b)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf, _ = s.AppendBinary(buf[:0])
		var got State
		if err := got.UnmarshalBinary(buf); err != nil {
			b.Fatal(err)
		}
	}
}
