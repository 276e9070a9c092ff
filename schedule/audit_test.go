package schedule

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Occurrence never wraps k×N around to an instant before the anchor: past a
// million years it is the zero Time, and Index, PeriodAt and Next stop at
// the last occurrence instead of looping or returning nonsense.
func TestEveryFarOccurrences(t *testing.T) {
	a := utc(2026, time.January, 31, 9, 0)
	for _, u := range []Unit{Day, Week, Month, Year} {
		e := Every{N: 1000, Unit: u, Anchor: a}
		for _, k := range []int{math.MaxInt / 1000, math.MaxInt/1000 + 1, math.MaxInt / 7, math.MaxInt} {
			require.True(t, e.Occurrence(k).IsZero(), "%v Occurrence(%d) = %v", u, k, e.Occurrence(k))
		}
		last := e.Occurrence(e.maxK())
		require.True(t, last.After(a.AddDate(999_000, 0, 0)), "%v last occurrence %v", u, last)
		far := time.Date(200_000_000, 1, 1, 0, 0, 0, 0, time.UTC)
		k, ok := e.Index(far)
		require.True(t, ok)
		require.Equal(t, e.maxK(), k, "%v", u)
		start, end, ok := e.PeriodAt(far)
		require.True(t, ok)
		require.Equal(t, last, start)
		require.True(t, end.IsZero())
		require.True(t, e.Next(far).IsZero())
		require.True(t, e.Next(last).IsZero())
		require.Equal(t, last, e.Next(last.Add(-time.Nanosecond)))
	}
}
