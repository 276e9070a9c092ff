package streak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReachMultiplesAndCrossed(t *testing.T) {
	for _, c := range []struct {
		r       Reach
		n       int
		want    int
		crossed bool // Crossed(n)
	}{
		{Reach{Length: 7}, 7, 1, true},
		{Reach{Before: []int{6}, Length: 7}, 7, 1, true},
		{Reach{Before: []int{7}, Length: 8}, 7, 0, false},
		{Reach{Before: []int{7, 1}, Length: 9}, 7, 0, false}, // a repair joining a paid run
		{Reach{Before: []int{5, 3}, Length: 9}, 7, 1, true},
		{Reach{Before: []int{7, 7}, Length: 15}, 7, 0, false},
		{Reach{Before: []int{7, 7}, Length: 21}, 7, 1, false},
		{Reach{Before: []int{9}, Length: 4}, 3, 0, false}, // never negative
		{Reach{Length: 5}, 0, 0, true},
	} {
		require.Equal(t, c.want, c.r.Multiples(c.n), "%+v.Multiples(%d)", c.r, c.n)
		require.Equal(t, c.crossed, c.r.Crossed(c.n), "%+v.Crossed(%d)", c.r, c.n)
	}
}

func TestReachRepaid(t *testing.T) {
	for _, c := range []struct {
		r    Reach
		l    int
		want []int
	}{
		{Reach{Length: 7}, 7, nil},
		{Reach{Before: []int{7}, Length: 8}, 7, nil},
		{Reach{Before: []int{7, 1}, Length: 9}, 7, nil},
		{Reach{Before: []int{7, 7}, Length: 15}, 7, []int{1}},
		{Reach{Before: []int{3, 7, 8}, Length: 19}, 7, []int{2}}, // the oldest run that reached 7 keeps its pay
		{Reach{Before: []int{7, 7, 7}, Length: 23}, 7, []int{1, 2}},
		{Reach{Before: []int{7, 7}, Length: 15}, 14, nil}, // 14 is newly reached (Crossed)
	} {
		require.Equal(t, c.want, c.r.Repaid(c.l), "%+v.Repaid(%d)", c.r, c.l)
	}
}

// paid sums the multiples of n that the calls of m newly reached.
func (m *sim) paid(n int) int {
	k := 0
	for _, fx := range m.fx {
		for _, r := range fx.Reached {
			k += r.Multiples(n)
		}
	}
	return k
}

// The repro at the package level: a late activity that repairs a
// lost run reports the joined run with what it had reached, so nothing is
// paid twice; one that joins two runs owes the difference.
func TestReachedOnRepairAndJoin(t *testing.T) {
	utc := time.UTC
	day := func(n int) time.Time { return time.Date(2026, 3, n, 12, 0, 0, 0, utc) }
	m := newSim(t, def(Daily), utc)
	for d := 1; d <= 7; d++ {
		m.on(day(d))
	}
	require.Equal(t, 1, m.paid(7))
	m.advance(day(9))
	fx := m.act(day(8), day(9))
	require.Equal(t, []Reach{{Start: Date{2026, 3, 1}, Before: []int{7}, Starts: []Date{{2026, 3, 1}}, Length: 8}}, fx.Reached)
	require.Equal(t, 1, m.paid(7), "the repair reaches 8: no new multiple of 7")
	require.Equal(t, 8, m.paid(1), "each length once")

	for d := 10; d <= 15; d++ { // day 9 missed: a new run 10..15
		m.on(day(d))
	}
	m.advance(day(16))
	fx = m.act(day(9), day(16)) // joins 1..8 and 10..15: 15 long
	require.Equal(t, []Reach{{Start: Date{2026, 3, 1}, Before: []int{8, 6}, Starts: []Date{{2026, 3, 1}, {2026, 3, 10}}, Length: 15}}, fx.Reached)
	require.Equal(t, 2, m.paid(7))
	require.Equal(t, 15, m.paid(1))
	for _, n := range fx.Notifications {
		require.NotEqual(t, Lost, n.Kind, "a late activity reports no loss")
	}
}

// Lost is for time passing ending a streak the user had: a late activity
// that rewrites the past reports no loss, and a loss the same call repairs
// is dropped.
func TestLostOnlyForRealLosses(t *testing.T) {
	utc := time.UTC
	day := func(n int) time.Time { return time.Date(2026, 3, n, 12, 0, 0, 0, utc) }
	m := newSim(t, def(Daily), utc)
	m.act(day(7), day(10)) // a new user syncs days 7, 8, 9 on day 10
	m.act(day(8), day(10))
	fx := m.act(day(9), day(10))
	require.Equal(t, []Kind{Repaired}, m.kinds())
	require.Equal(t, 3, fx.Notifications[0].Length)
	require.Equal(t, 0, fx.Notifications[0].From)

	m.advance(day(12)) // day 10 and 11 missed: a real loss
	require.Equal(t, []Kind{Repaired, Lost}, m.kinds())

	m2 := newSim(t, def(Daily), utc)
	for d := 1; d <= 5; d++ {
		m2.on(day(d))
	}
	fx = m2.act(day(6), day(7)) // the loss at the end of day 6 is repaired by the same call
	require.Len(t, fx.Notifications, 1)
	require.Equal(t, Repaired, fx.Notifications[0].Kind)
	require.Equal(t, 5, fx.Notifications[0].From, "the length the user saw before the call")
	require.Equal(t, []Transition{{From: 5, To: 6}}, fx.Transitions, "one net transition per call")
}

// A recorder handed back to the pool comes out again zeroed, whatever the
// released one held and however its size differs.
func TestRecorderFromThePoolIsZeroed(t *testing.T) {
	for _, n := range []int64{40, 3, 40, 0, 7} {
		r := newRecorder(100, 100+n-1)
		if len(r.out) != int(n) || len(r.length) != int(n) || len(r.started) != int(n) || len(r.lost) != int(n) || len(r.freezes) != int(n) || len(r.earns) != 0 {
			t.Fatalf("n=%d: sizes %d %d %d %d %d %d", n, len(r.out), len(r.length), len(r.started), len(r.lost), len(r.freezes), len(r.earns))
		}
		for i := range r.out {
			if r.out[i] != oPending || r.length[i] != 0 || r.started[i] != 0 || r.lost[i] != 0 || r.freezes[i] != 0 {
				t.Fatalf("n=%d: period %d not zeroed", n, i)
			}
			r.out[i], r.length[i], r.started[i], r.lost[i], r.freezes[i] = oMet, 1, 2, 3, 4
		}
		r.earns = append(r.earns, earnRec{1, 2, 3})
		r.release()
	}
}

// TestReachedReportsAMovedStart: a run whose start moved is reported even
// when its length did not change, so that what it was paid, recorded by its
// start, follows it; a run cut short is reported with its shorter length.
func TestReachedReportsAMovedStart(t *testing.T) {
	d := def(Daily)
	run := func(start, end, length int64) runLen { return runLen{start, end, length} }
	for _, c := range []struct {
		name          string
		before, after []runLen
		want          []Reach
	}{
		{"unchanged", []runLen{run(10, 13, 3)}, []runLen{run(10, 13, 3)}, nil},
		{"start moved, same length", []runLen{run(10, 13, 3)}, []runLen{run(8, 13, 3)},
			[]Reach{{Start: d.firstDate(8), Before: []int{3}, Starts: []Date{d.firstDate(10)}, Length: 3}}},
		{"cut short", []runLen{run(10, 13, 3)}, []runLen{run(10, 11, 2), run(13, 13, 1)},
			[]Reach{{Start: d.firstDate(10), Before: []int{3}, Starts: []Date{d.firstDate(10)}, Length: 2}, {Start: d.firstDate(13), Length: 1}}},
	} {
		require.Equal(t, c.want, d.reached(c.before, c.after), c.name)
	}
}
