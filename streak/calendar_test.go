package streak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// step is one call in a timeline: an activity at `at` received at `now`
// (now zero = on time), then the expected length and Extended flag.
type step struct {
	at, now  time.Time
	length   int
	extended bool
}

func runSteps(t *testing.T, m *sim, steps []step) {
	t.Helper()
	for i, st := range steps {
		now := st.now
		if now.IsZero() {
			now = st.at
		}
		fx := m.act(st.at, now)
		require.Equal(t, st.extended, fx.Extended, "step %d: Apply(%v).Extended", i, st.at)
		require.Equal(t, st.length, m.view(now).Length, "step %d: View(%v).Length after Apply(%v)", i, now, st.at)
	}
}

func TestCalendarTimelines(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	london := mustLoc(t, "Europe/London")
	lh := mustLoc(t, "Australia/Lord_Howe")
	apia := mustLoc(t, "Pacific/Apia")
	kolkata := mustLoc(t, "Asia/Kolkata")
	weeklySun := def(Weekly)
	weeklySun.WeekStart = Sunday
	tests := []struct {
		name  string
		d     Definition
		loc   *time.Location
		steps []step
		// afterwards: the status at `check`
		check       time.Time
		wantLen     int
		wantExpires time.Time
	}{
		{"NY spring forward (23h day)", def(Daily), ny, []step{
			{at: time.Date(2026, 3, 7, 22, 0, 0, 0, ny), length: 1, extended: true},
			{at: time.Date(2026, 3, 8, 1, 30, 0, 0, ny), length: 2, extended: true},
			{at: time.Date(2026, 3, 8, 3, 30, 0, 0, ny), length: 2},
			{at: time.Date(2026, 3, 9, 0, 0, 0, 0, ny), length: 3, extended: true},
		}, time.Date(2026, 3, 9, 23, 59, 59, 0, ny), 3, time.Date(2026, 3, 11, 0, 0, 0, 0, ny)},
		{"NY fall back (25h day, 01:30 twice)", def(Daily), ny, []step{
			{at: time.Date(2026, 10, 31, 12, 0, 0, 0, ny), length: 1, extended: true},
			{at: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), length: 2, extended: true}, // 01:30 EDT
			{at: time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), length: 2},                 // 01:30 EST
			{at: time.Date(2026, 11, 2, 0, 0, 0, 0, ny), length: 3, extended: true},
		}, time.Date(2026, 11, 3, 12, 0, 0, 0, ny), 3, time.Date(2026, 11, 4, 0, 0, 0, 0, ny)},
		{"Europe/London spring forward", def(Daily), london, []step{
			{at: time.Date(2026, 3, 28, 23, 30, 0, 0, london), length: 1, extended: true},
			{at: time.Date(2026, 3, 29, 0, 30, 0, 0, london), length: 2, extended: true},
			{at: time.Date(2026, 3, 29, 23, 59, 59, 0, london), length: 2},
			{at: time.Date(2026, 3, 30, 0, 0, 0, 0, london), length: 3, extended: true},
		}, time.Date(2026, 3, 31, 12, 0, 0, 0, london), 3, time.Date(2026, 4, 1, 0, 0, 0, 0, london)},
		{"Australia/Lord_Howe 30-minute DST", def(Daily), lh, []step{
			{at: time.Date(2026, 10, 3, 23, 59, 0, 0, lh), length: 1, extended: true},
			{at: time.Date(2026, 10, 4, 2, 45, 0, 0, lh), length: 2, extended: true}, // after the 02:00→02:30 jump
			{at: time.Date(2026, 10, 5, 0, 0, 0, 0, lh), length: 3, extended: true},
		}, time.Date(2026, 10, 5, 12, 0, 0, 0, lh), 3, time.Date(2026, 10, 7, 0, 0, 0, 0, lh)},
		{"Australia/Lord_Howe 30-minute fall back", def(Daily), lh, []step{
			{at: time.Date(2027, 4, 3, 23, 0, 0, 0, lh), length: 1, extended: true},
			{at: time.Date(2027, 4, 4, 1, 45, 0, 0, lh), length: 2, extended: true}, // 01:30-02:00 happens twice
			{at: time.Date(2027, 4, 5, 0, 0, 0, 0, lh), length: 3, extended: true},
		}, time.Date(2027, 4, 5, 12, 0, 0, 0, lh), 3, time.Date(2027, 4, 7, 0, 0, 0, 0, lh)},
		{"Pacific/Apia skipping 2011-12-30", def(Daily), apia, []step{
			{at: time.Date(2011, 12, 28, 12, 0, 0, 0, apia), length: 1, extended: true},
			{at: time.Date(2011, 12, 29, 23, 59, 59, 0, apia), length: 2, extended: true},
			{at: time.Date(2011, 12, 31, 0, 0, 0, 0, apia), length: 3, extended: true},
		}, time.Date(2012, 1, 1, 12, 0, 0, 0, apia), 3, time.Date(2012, 1, 2, 0, 0, 0, 0, apia)},
		{"Asia/Kolkata +05:30 midnight", def(Daily), kolkata, []step{
			{at: time.Date(2026, 1, 1, 18, 29, 59, 999e6, time.UTC), length: 1, extended: true}, // 23:59:59.999 IST
			{at: time.Date(2026, 1, 1, 18, 30, 0, 0, time.UTC), length: 2, extended: true},      // 00:00 IST
		}, time.Date(2026, 1, 2, 18, 29, 0, 0, time.UTC), 2, time.Date(2026, 1, 4, 0, 0, 0, 0, kolkata)},
		{"23:59:59.999 then 00:00:00 local", def(Daily), ny, []step{
			{at: time.Date(2026, 6, 1, 23, 59, 59, 999e6, ny), length: 1, extended: true},
			{at: time.Date(2026, 6, 2, 0, 0, 0, 0, ny), length: 2, extended: true},
		}, time.Date(2026, 6, 3, 0, 0, 0, 0, ny), 2, time.Date(2026, 6, 4, 0, 0, 0, 0, ny)},
		{"29 February, daily", def(Daily), ny, []step{
			{at: time.Date(2028, 2, 28, 12, 0, 0, 0, ny), length: 1, extended: true},
			{at: time.Date(2028, 2, 29, 12, 0, 0, 0, ny), length: 2, extended: true},
			{at: time.Date(2028, 3, 1, 12, 0, 0, 0, ny), length: 3, extended: true},
		}, time.Date(2028, 3, 1, 12, 0, 0, 0, ny), 3, time.Date(2028, 3, 3, 0, 0, 0, 0, ny)},
		{"29 February, monthly", def(Monthly), ny, []step{
			{at: time.Date(2028, 1, 31, 23, 59, 59, 999e6, ny), length: 1, extended: true},
			{at: time.Date(2028, 2, 29, 23, 0, 0, 0, ny), length: 2, extended: true},
			{at: time.Date(2028, 3, 1, 0, 0, 0, 0, ny), length: 3, extended: true},
		}, time.Date(2028, 3, 31, 23, 59, 59, 0, ny), 3, time.Date(2028, 5, 1, 0, 0, 0, 0, ny)},
		{"monthly over 31, 28, 31, 30-day months", def(Monthly), ny, []step{
			{at: time.Date(2026, 1, 31, 23, 59, 59, 999e6, ny), length: 1, extended: true},
			{at: time.Date(2026, 2, 28, 23, 59, 0, 0, ny), length: 2, extended: true},
			{at: time.Date(2026, 3, 31, 12, 0, 0, 0, ny), length: 3, extended: true},
			{at: time.Date(2026, 4, 30, 23, 59, 0, 0, ny), length: 4, extended: true},
		}, time.Date(2026, 5, 31, 23, 59, 59, 999e6, ny), 4, time.Date(2026, 6, 1, 0, 0, 0, 0, ny)},
		{"weekly over new year, Monday start", def(Weekly), ny, []step{
			{at: time.Date(2025, 12, 22, 9, 0, 0, 0, ny), length: 1, extended: true},
			{at: time.Date(2025, 12, 31, 23, 0, 0, 0, ny), length: 2, extended: true},
			{at: time.Date(2026, 1, 1, 1, 0, 0, 0, ny), length: 2},                 // same week (29 Dec – 4 Jan)
			{at: time.Date(2026, 1, 3, 12, 0, 0, 0, ny), length: 2},                // Saturday: same week
			{at: time.Date(2026, 1, 4, 12, 0, 0, 0, ny), length: 2},                // Sunday: same week
			{at: time.Date(2026, 1, 5, 0, 0, 0, 0, ny), length: 3, extended: true}, // Monday
		}, time.Date(2026, 1, 6, 0, 0, 0, 0, ny), 3, time.Date(2026, 1, 19, 0, 0, 0, 0, ny)},
		{"weekly over new year, Sunday start", weeklySun, ny, []step{
			{at: time.Date(2025, 12, 21, 9, 0, 0, 0, ny), length: 1, extended: true},
			{at: time.Date(2025, 12, 31, 23, 0, 0, 0, ny), length: 2, extended: true},
			{at: time.Date(2026, 1, 1, 1, 0, 0, 0, ny), length: 2},                  // same week (28 Dec – 3 Jan)
			{at: time.Date(2026, 1, 3, 12, 0, 0, 0, ny), length: 2},                 // Saturday: same week
			{at: time.Date(2026, 1, 4, 12, 0, 0, 0, ny), length: 3, extended: true}, // Sunday: next week
		}, time.Date(2026, 1, 5, 0, 0, 0, 0, ny), 3, time.Date(2026, 1, 18, 0, 0, 0, 0, ny)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newSim(t, tc.d, tc.loc)
			runSteps(t, m, tc.steps)
			st := m.view(tc.check)
			require.Equal(t, tc.wantLen, st.Length, "View(%v).Length", tc.check)
			require.True(t, tc.wantExpires.Equal(st.Expires), "View(%v).Expires = %v, want %v", tc.check, st.Expires, tc.wantExpires)
			m.advance(tc.check)
			require.Zero(t, m.count(Lost), "no period may be lost")
			// The streak ends exactly at Expires.
			require.Equal(t, tc.wantLen, m.view(tc.wantExpires.Add(-time.Nanosecond)).Length, "View(Expires-1ns)")
			require.Zero(t, m.view(tc.wantExpires).Length, "View(Expires)")
			fx := m.advance(tc.wantExpires)
			require.Equal(t, []Kind{Lost}, kindsOf(fx), "Advance(%v)", tc.wantExpires)
			require.Equal(t, tc.wantLen, fx.Notifications[0].Length)
			require.Empty(t, m.advance(tc.wantExpires.Add(time.Hour)).Notifications, "loss reported once")
		})
	}
}

// TestTimeZoneChange: a user flying New York → Tokyo → New York keeps one
// period per local date: nothing lost, nothing counted twice.
func TestTimeZoneChange(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tokyo := mustLoc(t, "Asia/Tokyo")
	d := def(Daily)
	var s State
	apply := func(at time.Time, loc *time.Location) Effects {
		var fx Effects
		var err error
		s, fx, err = Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: at, Loc: loc}, at)
		require.NoError(t, err)
		return fx
	}
	require.True(t, apply(time.Date(2026, 5, 1, 20, 0, 0, 0, ny), ny).Extended) // 1 May NY
	// Lands in Tokyo: 2 May there, still 1 May in New York.
	fx := apply(time.Date(2026, 5, 2, 10, 0, 0, 0, tokyo), tokyo)
	require.True(t, fx.Extended)
	require.Equal(t, 2, View(d, s, time.Date(2026, 5, 2, 10, 0, 0, 0, tokyo), tokyo).Length)
	// 3 May in Tokyo, then back in New York the same local date: one period.
	require.True(t, apply(time.Date(2026, 5, 3, 8, 0, 0, 0, tokyo), tokyo).Extended)
	fx = apply(time.Date(2026, 5, 3, 20, 0, 0, 0, ny), ny)
	require.False(t, fx.Extended, "3 May is already met")
	st := View(d, s, time.Date(2026, 5, 3, 21, 0, 0, 0, ny), ny)
	require.Equal(t, 3, st.Length)
	require.True(t, st.Met)
	// 4 May in New York keeps it going; no loss was ever reported.
	require.True(t, apply(time.Date(2026, 5, 4, 9, 0, 0, 0, ny), ny).Extended)
	s, fx = Advance(d, s, time.Date(2026, 5, 5, 12, 0, 0, 0, ny), ny)
	require.Empty(t, fx.Notifications)
	st = View(d, s, time.Date(2026, 5, 5, 12, 0, 0, 0, ny), ny)
	require.Equal(t, 4, st.Length)
	require.Equal(t, 4, st.Longest)
	h := History(d, s, time.Date(2026, 5, 5, 12, 0, 0, 0, ny), ny, 5)
	require.Equal(t, []int{1, 2, 3, 4, 4}, lengths(h))
}

func lengths(h []Period) []int {
	out := make([]int, len(h))
	for i, p := range h {
		out[i] = p.Length
	}
	return out
}
