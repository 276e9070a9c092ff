package streak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDailyBasics(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	m := newSim(t, def(Daily), ny)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, ny)
	fx := m.on(t0)
	require.True(t, fx.Extended)
	require.Equal(t, []Transition{{0, 1}}, fx.Transitions)
	fx = m.on(t0.Add(time.Hour))
	require.False(t, fx.Extended)
	fx = m.on(t0.AddDate(0, 0, 1))
	require.True(t, fx.Extended)
	st := m.view(t0.AddDate(0, 0, 1))
	require.Equal(t, 2, st.Length)
	require.False(t, st.AtRisk)
	require.Equal(t, time.Date(2026, 3, 5, 0, 0, 0, 0, ny), st.Expires)
	st = m.view(time.Date(2026, 3, 4, 12, 0, 0, 0, ny))
	require.Equal(t, 2, st.Length)
	require.True(t, st.AtRisk)
	st = m.view(time.Date(2026, 3, 5, 0, 0, 0, 0, ny))
	require.Equal(t, 0, st.Length)
	fx = m.advance(time.Date(2026, 3, 5, 0, 0, 0, 0, ny))
	require.Equal(t, []Kind{Lost}, kindsOf(fx))
	require.Equal(t, 2, fx.Notifications[0].Length)
	fx = m.advance(time.Date(2026, 3, 6, 0, 0, 0, 0, ny))
	require.Empty(t, fx.Notifications)
}

func kindsOf(fx Effects) []Kind {
	var ks []Kind
	for _, n := range fx.Notifications {
		ks = append(ks, n.Kind)
	}
	return ks
}
