package gamifytype

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Amount is an exact decimal with 6 fractional digits, stored as an integer
// count of millionths. Metric values, totals and scores use it so that a
// million events of 0.1 total exactly 100000.
type Amount int64

// AmountScale is the number of Amount units in 1.
const AmountScale = 1_000_000

// MaxAmount is the largest representable Amount (about 9.2 trillion).
const MaxAmount = Amount(math.MaxInt64)

// AmountFromInt returns n as an Amount. It panics if n does not fit, which is a
// programmer error for constants.
func AmountFromInt(n int64) Amount {
	hi, lo := bits.Mul64(uint64(abs(n)), AmountScale)
	if hi != 0 || lo > math.MaxInt64 {
		panic("gamifytype: AmountFromInt overflow")
	}
	if n < 0 {
		return -Amount(lo)
	}
	return Amount(lo)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// ParseAmount converts v to an Amount. It fails for NaN, ±Inf, values with more
// than 6 fractional digits in their shortest decimal form, and values too large
// to represent. field names the input in the error.
func ParseAmount(field string, v float64) (Amount, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, Invalid(field, v, "must be a finite number")
	}
	if v == math.Trunc(v) && math.Abs(v) <= 9e12 { // whole numbers: the common case
		return Amount(int64(v)) * AmountScale, nil
	}
	// The shortest representation that round-trips is the decimal the caller
	// meant: 0.1 is "0.1", not 0.1000000000000000055...
	var buf [32]byte
	return parseDecimal(field, v, strconv.AppendFloat(buf[:0], v, 'f', -1, 64))
}

// ParseAmountString parses a decimal string such as "12.5" or "-0.000001".
func ParseAmountString(field, s string) (Amount, error) {
	return parseDecimal(field, s, s)
}

// parseDecimal parses [+-]digits[.digits] with at most 6 fractional digits.
func parseDecimal[T string | []byte](field string, shown any, s T) (Amount, error) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var whole, frac uint64
	digits, fracDigits, seenDot := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9':
			digits++
			if seenDot {
				if fracDigits++; fracDigits > 6 {
					return 0, Invalid(field, shown, "must have at most 6 fractional digits")
				}
				frac = frac*10 + uint64(c-'0')
				continue
			}
			if whole > (math.MaxUint64-9)/10 {
				return 0, Invalid(field, shown, "is too large")
			}
			whole = whole*10 + uint64(c-'0')
		default:
			return 0, Invalid(field, shown, "must be a decimal number")
		}
	}
	if digits == 0 {
		return 0, Invalid(field, shown, "must be a decimal number")
	}
	for ; fracDigits < 6; fracDigits++ {
		frac *= 10
	}
	hi, lo := bits.Mul64(whole, AmountScale)
	lo, carry := bits.Add64(lo, frac, 0)
	if hi != 0 || carry != 0 || lo > math.MaxInt64 {
		return 0, Invalid(field, shown, "is too large")
	}
	if neg {
		return -Amount(lo), nil
	}
	return Amount(lo), nil
}

// Add returns a+b and false if the sum overflows.
func (a Amount) Add(b Amount) (Amount, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// Float64 returns a as a float64 (for display; totals are kept exact).
func (a Amount) Float64() float64 { return float64(a) / AmountScale }

// String formats a as a decimal without trailing zeros: "100000", "-0.5".
func (a Amount) String() string {
	u := uint64(a)
	sign := ""
	if a < 0 {
		sign = "-"
		u = uint64(-a) // MinInt64 wraps to itself, which as uint64 is the right magnitude
	}
	whole, frac := u/AmountScale, u%AmountScale
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	fs := strconv.FormatUint(frac+AmountScale, 10)[1:]
	return sign + strconv.FormatUint(whole, 10) + "." + strings.TrimRight(fs, "0")
}
