package streak

import (
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// Personalize reports its errors in metric order, not in the random order of
// the map, so the same bad input always gives the same message.
func TestPersonalizeErrorsInStableOrder(t *testing.T) {
	d := def(Daily)
	d.Personalizable = true
	min := map[string]gamifytype.Amount{}
	for _, k := range []string{"e", "a", "d", "b", "c", "f", "g", "h"} {
		min[k] = amt(1)
	}
	_, first := d.Personalize(Personalization{Enabled: true, Min: min})
	require.Error(t, first)
	require.Contains(t, first.Error(), "Min[a]")
	for range 50 {
		_, err := d.Personalize(Personalization{Enabled: true, Min: min})
		require.Equal(t, first.Error(), err.Error())
	}
}
