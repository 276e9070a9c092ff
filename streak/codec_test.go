package streak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/gamifytype"
)

// busyState builds a state using every kind of fact: met spans, progress
// (own and grace), a pause, grants, a restore, freezes and a loss.
func busyState(t testing.TB) (Definition, State, time.Time) {
	ny := mustLoc(t, "America/New_York")
	d := Definition{Key: "s", Frequency: Daily, GraceHours: 3, Freezes: Freezes{Initial: 1, Max: 2, EarnAmount: 1, EarnEveryDays: 5},
		Metrics: []MetricRule{{Metric: "lessons", Min: amt(2)}, {Metric: "xp", Min: amt(10)}}, Mode: ModeAny}
	require.NoError(t, d.Validate())
	var s State
	var err error
	day := func(n, h int) time.Time { return time.Date(2026, 6, n, h, 0, 0, 0, ny) }
	apply := func(metric string, n int64, at, now time.Time) {
		s, _, err = Apply(d, s, Activity{Metric: metric, Delta: amt(n), At: at, Loc: ny}, now)
		require.NoError(t, err)
	}
	for n := 1; n <= 6; n++ {
		apply("lessons", 2, day(n, 10), day(n, 10))
	}
	apply("xp", 3, day(8, 1), day(8, 1)) // partial progress, also in 7 June's grace window
	s, _, err = GrantFreeze(d, s, day(9, 9), ny)
	require.NoError(t, err)
	apply("lessons", 2, day(12, 9), day(12, 9))
	s, _, err = Restore(d, s, day(12, 10), ny)
	require.NoError(t, err)
	s, _, err = AddPause(d, s, day(12, 11), ny, Date{2026, 6, 20}, Date{2026, 6, 22})
	require.NoError(t, err)
	return d, s, day(13, 12)
}

func TestBinaryRoundTrip(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d, s, now := busyState(t)
	require.NotEmpty(t, s.restores)
	require.NotEmpty(t, s.grants)
	require.NotEmpty(t, s.prog)
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	t.Logf("encoded state: %d bytes", len(b))
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, s, got)
	requireSameState(t, d, s, got, now, ny)

	// A user seen with no activity yet keeps a provisional anchor.
	seen, _ := Advance(d, State{}, now, ny)
	require.True(t, seen.provisional)
	b, err = seen.MarshalBinary()
	require.NoError(t, err)
	got = State{}
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, seen, got)

	var zero State
	b, err = zero.MarshalBinary()
	require.NoError(t, err)
	require.Len(t, b, 2)
	got = s
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, State{}, got)
}

func TestUnmarshalCorrupt(t *testing.T) {
	_, s, _ := busyState(t)
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	for i := range len(b) {
		var got State
		require.ErrorIs(t, got.UnmarshalBinary(b[:i]), ErrCorrupt, "UnmarshalBinary(prefix %d)", i)
	}
	var got State
	require.ErrorIs(t, got.UnmarshalBinary(append(b[:len(b):len(b)], 0)), ErrCorrupt, "trailing byte")
	bad := append([]byte{}, b...)
	bad[0] = 2
	require.ErrorIs(t, got.UnmarshalBinary(bad), ErrCorrupt, "unknown version")
	require.ErrorIs(t, got.UnmarshalBinary(nil), ErrCorrupt)
}

func FuzzUnmarshalBinary(f *testing.F) {
	_, s, _ := busyState(f)
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s State
		if s.UnmarshalBinary(data) != nil {
			return
		}
		// A decoded state re-encodes to something that decodes to it.
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		var again State
		require.NoError(t, again.UnmarshalBinary(b))
		require.Equal(t, s, again)
		// And the transitions run on it without panicking.
		if !s.seen {
			return
		}
		d := def(s.freq)
		d.GraceHours = 2
		d.Freezes = Freezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 2}
		now := d.start(s.base+int64(s.freq.retain())+3, time.UTC)
		View(d, s, now, time.UTC)
		s2, _, err := Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: now.Add(-50 * 24 * time.Hour), Loc: time.UTC}, now)
		if err != nil {
			// A decoded base may place now outside the supported years.
			require.ErrorIs(t, err, gamifytype.ErrInvalid)
			return
		}
		History(d, s2, now, time.UTC, 10)
		NextDue(d, s2, time.UTC)
	})
}
