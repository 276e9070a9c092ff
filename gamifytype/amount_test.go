package gamifytype

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAmount(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want Amount
	}{
		{0, 0}, {1, 1_000_000}, {0.1, 100_000}, {-2.5, -2_500_000}, {0.000001, 1}, {123456.654321, 123456_654321},
		{9_000_000_000_000, 9_000_000_000_000 * AmountScale},
	} {
		got, err := ParseAmount("V", c.in)
		require.NoError(t, err, "ParseAmount(%v)", c.in)
		require.Equal(t, c.want, got, "ParseAmount(%v) = %v, want %v", c.in, got, c.want)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.0000001, 1e13, 1.5e300} {
		_, err := ParseAmount("Event.Value", bad)
		var ve *ValidationError
		require.True(t, errors.As(err, &ve), "ParseAmount(%v) = %v, want a ValidationError", bad, err)
		require.Equal(t, "Event.Value", ve.Field)
		require.ErrorIs(t, err, ErrInvalid)
	}
}

func TestMillionTenthsTotalExactly(t *testing.T) {
	tenth, err := ParseAmount("V", 0.1)
	require.NoError(t, err)
	var sum Amount
	for range 1_000_000 {
		var ok bool
		sum, ok = sum.Add(tenth)
		require.True(t, ok)
	}
	require.Equal(t, "100000", sum.String())
}

func TestAmountAddOverflow(t *testing.T) {
	_, ok := MaxAmount.Add(1)
	require.False(t, ok)
	_, ok = (-MaxAmount - 1).Add(-1)
	require.False(t, ok)
	s, ok := Amount(5).Add(-7)
	require.True(t, ok)
	require.Equal(t, Amount(-2), s)
}

func TestAmountString(t *testing.T) {
	for _, c := range []struct {
		in   Amount
		want string
	}{{0, "0"}, {1, "0.000001"}, {-500_000, "-0.5"}, {12_340_000, "12.34"}, {-MaxAmount - 1, "-9223372036854.775808"}} {
		require.Equal(t, c.want, c.in.String())
	}
}

func FuzzParseAmountString(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-0.000001", "1e5", "abc", "99999999999999", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmountString("V", s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		// A parsed amount prints back to a string that parses to itself.
		b, err := ParseAmountString("V", a.String())
		require.NoError(t, err)
		require.Equal(t, a, b)
	})
}

func TestValidateKey(t *testing.T) {
	require.NoError(t, ValidateKey("K", "daily_steps-2"))
	for _, bad := range []string{"", "a b", "é", string(make([]byte, 65))} {
		require.ErrorIs(t, ValidateKey("K", bad), ErrInvalid, "ValidateKey(%q)", bad)
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, v := range []float64{0, 0.1, -2.5, 1e12, 123.456789, 1e-7} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		a, err := ParseAmount("V", v)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		// An accepted value is exactly the decimal the float stands for: its
		// shortest decimal form parses to the same Amount.
		want, err := ParseAmountString("V", strconv.FormatFloat(v, 'f', -1, 64))
		require.NoError(t, err)
		require.Equal(t, want, a, "ParseAmount(%v)", v)
	})
}
