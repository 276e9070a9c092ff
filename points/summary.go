package points

import (
	"iter"
	"slices"

	"github.com/gamifykit/gamify/gamifytype"
)

// Bucket is one range of a Histogram: totals in (From, To], except the first
// bucket, which is [0, 0] and also counts negative totals.
type Bucket struct {
	From, To Amount
	Users    int
}

// Histogram counts totals in 11 ranges: [0, 0], then ten equal ranges
// (From, To] up to the top total rounded up to a power of ten whole points
// (at least 10, so each range is at least one point). Negative totals are
// counted in the first range. The engine filters the totals (e.g. by user
// attributes) before calling it.
func Histogram(totals []Amount) []Bucket {
	var top Amount
	for _, t := range totals {
		top = maxAmount(top, t)
	}
	// step is a tenth of the power of ten, in millionths of a point; 10^12
	// points is the largest step whose ten multiples (nearly) fit in an
	// Amount.
	const maxStep = 1_000_000_000_000 * gamifytype.AmountScale
	step := int64(gamifytype.AmountScale)
	for step < maxStep && step*10 < top.Micros() {
		step *= 10
	}
	out := make([]Bucket, 11)
	for i := 1; i <= 10; i++ {
		out[i].From = gamifytype.AmountFromMicros(step * int64(i-1))
		if i == 10 && step == maxStep {
			out[i].To = gamifytype.MaxAmount // 10^13 points does not fit
		} else {
			out[i].To = gamifytype.AmountFromMicros(step * int64(i))
		}
	}
	for _, t := range totals {
		if t.Sign() <= 0 {
			out[0].Users++
			continue
		}
		i := (t.Micros()-1)/step + 1 // ceil(t/step) for t > 0
		out[min(i, 10)].Users++
	}
	return out
}

// LevelCount is the number of users at a level ("" is below every level).
type LevelCount struct {
	Level string
	Users int
}

// UsersPerLevel counts users per level, in ascending threshold order after
// the "" entry for users below every level. A user pinned to a level of
// levels counts at the pinned level; others (a pin to a level no longer in
// levels included) at the level of their total, so the counts follow level
// definitions edited since the states were written.
func UsersPerLevel(levels []Level, states iter.Seq[State]) []LevelCount {
	sorted := slices.Clone(levels)
	slices.SortFunc(sorted, func(a, b Level) int { return a.Threshold.Cmp(b.Threshold) })
	out := make([]LevelCount, len(sorted)+1)
	index := make(map[string]int, len(sorted))
	for i, l := range sorted {
		out[i+1].Level = l.Key
		index[l.Key] = i + 1
	}
	for s := range states {
		key := s.pin
		if _, ok := index[key]; !ok {
			key = ""
			if l, ok := LevelFor(levels, s.total); ok {
				key = l.Key
			}
		}
		out[index[key]].Users++ // "" is not in index: 0
	}
	return out
}

// maxAmount returns the larger of a and b.
func maxAmount(a, b Amount) Amount {
	if a.Less(b) {
		return b
	}
	return a
}
