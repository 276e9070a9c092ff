package gamifytype

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseFloat(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int64 // millionths
	}{
		{0, 0}, {1, 1_000_000}, {0.1, 100_000}, {-2.5, -2_500_000}, {0.000001, 1}, {123456.654321, 123456_654321},
		{9_000_000_000_000, 9_000_000_000_000 * AmountScale},
	} {
		got, err := ParseFloat("V", c.in)
		require.NoError(t, err, "ParseFloat(%v)", c.in)
		require.Equal(t, AmountFromMicros(c.want), got, "ParseFloat(%v) = %v, want %v", c.in, got, c.want)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.0000001, 1e13, 1.5e300} {
		_, err := ParseFloat("Event.Value", bad)
		var ve *ValidationError
		require.True(t, errors.As(err, &ve), "ParseFloat(%v) = %v, want a ValidationError", bad, err)
		require.Equal(t, "Event.Value", ve.Field)
		require.ErrorIs(t, err, ErrInvalid)
	}
}

func TestAmountFromFloatRounds(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0.1, "0.1"}, {0.1 + 0.2, "0.3"}, {2.0000004, "2"}, {2.0000006, "2.000001"}, {-1.23456789, "-1.234568"},
		{1e-9, "0"}, {12345.5, "12345.5"},
	} {
		got, err := AmountFromFloat(c.in)
		require.NoError(t, err, "AmountFromFloat(%v)", c.in)
		require.Equal(t, c.want, got.String(), "AmountFromFloat(%v)", c.in)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), 1e13, -1e300} {
		_, err := AmountFromFloat(bad)
		require.ErrorIs(t, err, ErrInvalid, "AmountFromFloat(%v)", bad)
	}
}

func TestMillionTenthsTotalExactly(t *testing.T) {
	tenth := MustParseAmount("0.1")
	var sum Amount
	for range 1_000_000 {
		var ok bool
		sum, ok = sum.AddChecked(tenth)
		require.True(t, ok)
	}
	require.Equal(t, "100000", sum.String())
	require.Equal(t, AmountFromInt(100000), sum)
}

func TestAmountArithmetic(t *testing.T) {
	_, ok := MaxAmount.AddChecked(AmountFromMicros(1))
	require.False(t, ok)
	_, ok = MinAmount.AddChecked(AmountFromMicros(-1))
	require.False(t, ok)
	_, ok = AmountFromInt(0).SubChecked(MinAmount)
	require.False(t, ok)
	s, ok := AmountFromMicros(5).AddChecked(AmountFromMicros(-7))
	require.True(t, ok)
	require.Equal(t, AmountFromMicros(-2), s)

	require.Equal(t, MaxAmount, MaxAmount.Add(AmountFromInt(1)), "Add saturates")
	require.Equal(t, MinAmount, MinAmount.Sub(AmountFromInt(1)), "Sub saturates")
	require.Equal(t, "7.5", MustParseAmount("10").Sub(MustParseAmount("2.5")).String())
	p, ok := MustParseAmount("1.5").MulInt(-3)
	require.True(t, ok)
	require.Equal(t, "-4.5", p.String())
	_, ok = MaxAmount.MulInt(2)
	require.False(t, ok)

	require.Equal(t, -1, AmountFromInt(1).Cmp(AmountFromInt(2)))
	require.Equal(t, 0, AmountFromInt(2).Cmp(MustParseAmount("2.000")))
	require.Equal(t, 1, AmountFromInt(3).Cmp(AmountFromInt(2)))
	require.True(t, AmountFromInt(-1).Less(Amount{}))
	require.Equal(t, -1, MustParseAmount("-0.5").Sign())
	require.True(t, Amount{}.IsZero())
	require.Equal(t, MustParseAmount("0.5"), MustParseAmount("-0.5").Abs())
	require.Equal(t, MaxAmount, MinAmount.Neg())
	require.Equal(t, int64(-3), MustParseAmount("-2.5").Floor())
	require.Equal(t, int64(2), MustParseAmount("2.5").Floor())
	require.Equal(t, 2.5, MustParseAmount("2.5").Float64())
	require.Panics(t, func() { AmountFromInt(math.MaxInt64 / 100) })
	_, ok = AmountFromIntChecked(-math.MaxInt64 / 100)
	require.False(t, ok)
}

func TestAmountString(t *testing.T) {
	for _, c := range []struct {
		in   Amount
		want string
	}{{Amount{}, "0"}, {AmountFromMicros(1), "0.000001"}, {AmountFromMicros(-500_000), "-0.5"},
		{AmountFromMicros(12_340_000), "12.34"}, {MinAmount, "-9223372036854.775808"}} {
		require.Equal(t, c.want, c.in.String())
	}
}

// AppendText appends what String returns after what b holds, without
// allocating, for every number of fractional digits and both signs.
func TestAmountAppendText(t *testing.T) {
	ref := func(m int64) string { // the decimal by fmt, trailing zeros cut
		s := fmt.Sprintf("%d.%06d", m/AmountScale, max(m%AmountScale, -(m%AmountScale)))
		if m < 0 && m > -AmountScale {
			s = "-" + s
		}
		return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	ms := []int64{0, 1, -1, 10, 100_000, 1_000_001, -12_340_000, 999_999, -500_000, 3_000_000, math.MaxInt64, math.MinInt64 + 1}
	for d := int64(1); d < AmountScale; d *= 10 {
		ms = append(ms, d, -d, 7*d+AmountScale, -(7*d + 2*AmountScale))
	}
	buf := make([]byte, 0, 64)
	for _, m := range ms {
		a := AmountFromMicros(m)
		got, err := a.AppendText(append(buf[:0], "x="...))
		require.NoError(t, err)
		require.Equal(t, "x="+ref(m), string(got), "AppendText(%d micros)", m)
		require.Equal(t, ref(m), a.String())
	}
	got, _ := MinAmount.AppendText(nil)
	require.Equal(t, "-9223372036854.775808", string(got))
	require.Zero(t, testing.AllocsPerRun(100, func() { buf, _ = AmountFromMicros(-12_345_600).AppendText(buf[:0]) }))
}

func TestAmountJSON(t *testing.T) {
	type doc struct {
		Cost  Amount  `json:"cost"`
		Price *Amount `json:"price,omitempty"`
	}
	b, err := json.Marshal(doc{Cost: MustParseAmount("150")})
	require.NoError(t, err)
	require.JSONEq(t, `{"cost":"150"}`, string(b))
	b, err = json.Marshal(MustParseAmount("-0.000001"))
	require.NoError(t, err)
	require.Equal(t, `"-0.000001"`, string(b))

	for in, want := range map[string]string{`{"cost":"12.5"}`: "12.5", `{"cost":200}`: "200", `{"cost":-0.25}`: "-0.25", `{"cost":null}`: "0"} {
		var d doc
		require.NoError(t, json.Unmarshal([]byte(in), &d), in)
		require.Equal(t, want, d.Cost.String(), in)
	}
	for _, bad := range []string{`{"cost":1e3}`, `{"cost":"0.0000001"}`, `{"cost":"abc"}`, `{"cost":true}`, `{"cost":"99999999999999"}`} {
		var d doc
		err := json.Unmarshal([]byte(bad), &d)
		require.Error(t, err, bad)
	}
	// Round trip of the extremes.
	for _, a := range []Amount{MaxAmount, MinAmount, AmountFromMicros(1), {}} {
		b, err := json.Marshal(a)
		require.NoError(t, err)
		var back Amount
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, a, back)
	}
	txt, err := MustParseAmount("3.25").MarshalText()
	require.NoError(t, err)
	var back Amount
	require.NoError(t, back.UnmarshalText(txt))
	require.Equal(t, MustParseAmount("3.25"), back)
}

func FuzzParseAmountField(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-0.000001", "1e5", "abc", "99999999999999", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmountField("V", s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		// A parsed amount prints back to a string that parses to itself, and
		// survives a JSON round trip.
		b, err := ParseAmountField("V", a.String())
		require.NoError(t, err)
		require.Equal(t, a, b)
		js, err := json.Marshal(a)
		require.NoError(t, err)
		var c Amount
		require.NoError(t, json.Unmarshal(js, &c))
		require.Equal(t, a, c)
	})
}

func TestValidateKey(t *testing.T) {
	require.NoError(t, ValidateKey("K", "daily_steps-2"))
	for _, bad := range []string{"", "a b", "é", string(make([]byte, 65))} {
		require.ErrorIs(t, ValidateKey("K", bad), ErrInvalid, "ValidateKey(%q)", bad)
	}
}

func FuzzParseFloat(f *testing.F) {
	for _, v := range []float64{0, 0.1, -2.5, 1e12, 123.456789, 1e-7} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		a, err := ParseFloat("V", v)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		// An accepted value is exactly the decimal the float stands for: its
		// shortest decimal form parses to the same Amount.
		want, err := ParseAmountField("V", strconv.FormatFloat(v, 'f', -1, 64))
		require.NoError(t, err)
		require.Equal(t, want, a, "ParseFloat(%v)", v)
	})
}
