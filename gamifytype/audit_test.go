package gamifytype

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// Subtracting MinAmount from a negative Amount fits, and is exact.
func TestSubCheckedMinAmount(t *testing.T) {
	d, ok := AmountFromMicros(-5).SubChecked(MinAmount)
	require.True(t, ok)
	require.Equal(t, AmountFromMicros(math.MaxInt64-4), d)
	require.Equal(t, AmountFromMicros(math.MaxInt64-4), AmountFromMicros(-5).Sub(MinAmount))
	_, ok = AmountFromMicros(0).SubChecked(MinAmount)
	require.False(t, ok)
	_, ok = MaxAmount.SubChecked(AmountFromMicros(-1))
	require.False(t, ok)
	_, ok = MinAmount.SubChecked(AmountFromMicros(1))
	require.False(t, ok)
}

// A product equal to MinAmount fits.
func TestMulIntReachesMinAmount(t *testing.T) {
	p, ok := MinAmount.MulInt(1)
	require.True(t, ok)
	require.Equal(t, MinAmount, p)
	p, ok = AmountFromMicros(math.MinInt64 / 2).MulInt(2)
	require.True(t, ok)
	require.Equal(t, MinAmount, p)
	p, ok = AmountFromMicros(math.MaxInt64/2 + 1).MulInt(-2)
	require.True(t, ok)
	require.Equal(t, MinAmount, p)
	_, ok = MinAmount.MulInt(-1)
	require.False(t, ok)
	_, ok = AmountFromMicros(math.MaxInt64/2 + 1).MulInt(2)
	require.False(t, ok)
}
