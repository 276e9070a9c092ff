package streak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Off intervals: periods overlapping one (grace included) and unmet are
// paused for the user; met ones still count; open intervals cover the future.
func TestOffIntervalsPauseUnmetPeriods(t *testing.T) {
	loc := time.UTC
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, loc) }
	d := def(Daily)
	d.GraceHours = 2
	m := newSim(t, d, loc)
	m.on(day(1, 10))
	m.on(day(2, 10))
	m.on(day(3, 10))
	// Off from 3 March 23:00 (3 March met before), open at first, then
	// closed at 6 March 01:00: 4, 5 and 6 March (it starts inside the
	// interval) are paused.
	m.d.Off = []Interval{{From: day(3, 23)}}
	v := m.view(day(5, 12))
	require.Equal(t, 3, v.Length)
	require.True(t, v.Paused, "open-ended: the current period is off")
	require.False(t, v.AtRisk)
	require.Empty(t, m.advance(day(5, 12)).Notifications, "no loss while off")

	m.d.Off[0].To = day(6, 1)
	require.True(t, m.d.OffAt(day(5, 0)))
	require.False(t, m.d.OffAt(day(6, 1)), "To is excluded")
	m.on(day(7, 10))
	require.Equal(t, 4, m.view(day(7, 12)).Length, "7 March extends the run from before")
	for _, p := range History(m.d, m.s, day(7, 12), loc, 5) {
		switch p.First.Day {
		case 4, 5, 6:
			require.True(t, p.UsedPause, "%s", p.First)
			require.False(t, p.Missed)
		case 3, 7:
			require.True(t, p.Met, "%s", p.First)
		}
	}
	require.Zero(t, m.count(Lost))

	// Without the interval the same facts lose the run.
	o := newSim(t, d, loc)
	for _, at := range []time.Time{day(1, 10), day(2, 10), day(3, 10), day(7, 10)} {
		o.on(at)
	}
	require.Equal(t, 1, o.view(day(7, 12)).Length)
	require.Equal(t, 1, o.count(Lost))

	// An interval that only touches a period's grace window pauses it too.
	m.d.Off = []Interval{{From: day(8, 1), To: day(8, 3)}} // 7 March's grace: until 8 March 02:00
	require.True(t, m.d.off(m.d.periodAt(day(7, 12), loc), loc))
	require.False(t, m.d.off(m.d.periodAt(day(6, 12), loc), loc))
}
