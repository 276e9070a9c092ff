package gamifytype

import "time"

// Interval is the span of instants [From, To). A zero To means open-ended:
// the interval has not ended. A zero From reaches back to the start of
// time.
type Interval struct {
	From, To time.Time
}

// Contains reports whether t falls inside iv.
func (iv Interval) Contains(t time.Time) bool {
	return !t.Before(iv.From) && (iv.To.IsZero() || t.Before(iv.To))
}

// InAny reports whether t falls inside one of ivs.
func InAny(ivs []Interval, t time.Time) bool {
	for _, iv := range ivs {
		if iv.Contains(t) {
			return true
		}
	}
	return false
}
