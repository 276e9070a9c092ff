package gamifytype

import (
	"bytes"
	"math"
	"math/bits"
	"strconv"
)

// Amount is an exact decimal with 6 fractional digits: metric values, totals,
// points, costs, thresholds and scores. A million events of 0.1 total exactly
// 100000.
//
// Amount is a struct so that an untyped constant cannot become one by
// accident: Reward{Cost: 200} does not compile; write AmountFromInt(200) or
// MustParseAmount("200"). The zero value is 0. Amounts compare with == and
// order with Cmp; they marshal to JSON and text as decimal strings ("12.5").
type Amount struct {
	m int64 // millionths
}

// AmountScale is the number of millionths in 1.
const AmountScale = 1_000_000

// maxWhole is the largest whole number an Amount holds.
const maxWhole = math.MaxInt64 / AmountScale

// MaxAmount is the largest representable Amount (about 9.2 trillion).
var MaxAmount = Amount{math.MaxInt64}

// MinAmount is the smallest representable Amount.
var MinAmount = Amount{math.MinInt64}

// AmountFromInt returns n as an Amount. It panics if |n| exceeds about 9.2
// trillion, which is a programmer error for constants; use AmountFromIntChecked
// for data.
func AmountFromInt(n int64) Amount {
	a, ok := AmountFromIntChecked(n)
	if !ok {
		panic("gamify: AmountFromInt(" + strconv.FormatInt(n, 10) + ") overflows an Amount")
	}
	return a
}

// AmountFromIntChecked returns n as an Amount and false if it does not fit.
func AmountFromIntChecked(n int64) (Amount, bool) {
	if n > maxWhole || n < -maxWhole {
		return Amount{}, false
	}
	return Amount{n * AmountScale}, true
}

// AmountFromMicros returns the Amount of m millionths.
func AmountFromMicros(m int64) Amount { return Amount{m} }

// Micros returns a as a count of millionths.
func (a Amount) Micros() int64 { return a.m }

// AmountFromFloat returns v rounded to the nearest millionth. A float whose
// shortest decimal form has at most 6 fractional digits (0.1, 12.345) is
// taken exactly as that decimal. It fails for NaN, ±Inf and values too large.
func AmountFromFloat(v float64) (Amount, error) {
	if a, err := ParseFloat("Amount", v); err == nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return a, err
	}
	var buf [400]byte
	return parseDecimal("Amount", v, strconv.AppendFloat(buf[:0], v, 'f', 6, 64))
}

// ParseFloat converts v exactly. It fails for NaN, ±Inf, values with more than
// 6 fractional digits in their shortest decimal form, and values too large.
// field names the input in the error.
func ParseFloat(field string, v float64) (Amount, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Amount{}, Invalid(field, v, "must be a finite number")
	}
	if v == math.Trunc(v) && math.Abs(v) <= 9e12 { // whole numbers: the common case
		return Amount{int64(v) * AmountScale}, nil
	}
	// The shortest representation that round-trips is the decimal the caller
	// meant: 0.1 is "0.1", not 0.1000000000000000055...
	var buf [32]byte
	return parseDecimal(field, v, strconv.AppendFloat(buf[:0], v, 'f', -1, 64))
}

// ParseAmount parses a decimal string such as "12.5" or "-0.000001" (at most
// 6 fractional digits, no exponent).
func ParseAmount(s string) (Amount, error) { return ParseAmountField("Amount", s) }

// MustParseAmount is ParseAmount for constants: it panics on a malformed s.
func MustParseAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// ParseAmountField is ParseAmount with field naming the input in the error.
func ParseAmountField(field, s string) (Amount, error) {
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
					return Amount{}, Invalid(field, shown, "must have at most 6 fractional digits")
				}
				frac = frac*10 + uint64(c-'0')
				continue
			}
			if whole > (math.MaxUint64-9)/10 {
				return Amount{}, Invalid(field, shown, "is too large")
			}
			whole = whole*10 + uint64(c-'0')
		default:
			return Amount{}, Invalid(field, shown, "must be a decimal number")
		}
	}
	if digits == 0 {
		return Amount{}, Invalid(field, shown, "must be a decimal number")
	}
	for ; fracDigits < 6; fracDigits++ {
		frac *= 10
	}
	hi, lo := bits.Mul64(whole, AmountScale)
	lo, carry := bits.Add64(lo, frac, 0)
	if hi != 0 || carry != 0 || lo > math.MaxInt64+uint64(boolInt(neg)) {
		return Amount{}, Invalid(field, shown, "is too large")
	}
	if neg {
		return Amount{-int64(lo)}, nil
	}
	return Amount{int64(lo)}, nil
}

// AddChecked returns a+b and false if the sum overflows.
func (a Amount) AddChecked(b Amount) (Amount, bool) {
	s := a.m + b.m
	if (b.m > 0 && s < a.m) || (b.m < 0 && s > a.m) {
		return Amount{}, false
	}
	return Amount{s}, true
}

// SubChecked returns a−b and false if the difference overflows.
func (a Amount) SubChecked(b Amount) (Amount, bool) {
	d := a.m - b.m
	if (b.m > 0 && d > a.m) || (b.m < 0 && d < a.m) {
		return Amount{}, false
	}
	return Amount{d}, true
}

// Add returns a+b, saturating at MaxAmount and MinAmount.
func (a Amount) Add(b Amount) Amount {
	if s, ok := a.AddChecked(b); ok {
		return s
	}
	if b.m > 0 {
		return MaxAmount
	}
	return MinAmount
}

// Sub returns a−b, saturating at MaxAmount and MinAmount.
func (a Amount) Sub(b Amount) Amount {
	if s, ok := a.SubChecked(b); ok {
		return s
	}
	if b.m < 0 {
		return MaxAmount
	}
	return MinAmount
}

// MulInt returns a×n and false if the product overflows.
func (a Amount) MulInt(n int64) (Amount, bool) {
	hi, lo := bits.Mul64(uint64(absInt(a.m)), uint64(absInt(n)))
	neg := (a.m < 0) != (n < 0) && a.m != 0 && n != 0
	if hi != 0 || lo > math.MaxInt64+uint64(boolInt(neg)) {
		return Amount{}, false
	}
	if neg {
		return Amount{-int64(lo)}, true // lo = 2^63 negates to MinInt64
	}
	return Amount{int64(lo)}, true
}

func absInt(n int64) int64 {
	if n < 0 {
		return -n // MinInt64 wraps to itself; as uint64 that is its magnitude
	}
	return n
}

// Neg returns −a (saturating at MaxAmount for MinAmount).
func (a Amount) Neg() Amount {
	if a.m == math.MinInt64 {
		return MaxAmount
	}
	return Amount{-a.m}
}

// Abs returns |a| (saturating at MaxAmount for MinAmount).
func (a Amount) Abs() Amount {
	if a.m < 0 {
		return a.Neg()
	}
	return a
}

// Sign returns -1, 0 or +1.
func (a Amount) Sign() int {
	switch {
	case a.m < 0:
		return -1
	case a.m > 0:
		return 1
	}
	return 0
}

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.m == 0 }

// Cmp returns -1 if a < b, 0 if a == b and +1 if a > b (the shape
// slices.SortFunc and cmp take).
func (a Amount) Cmp(b Amount) int {
	switch {
	case a.m < b.m:
		return -1
	case a.m > b.m:
		return 1
	}
	return 0
}

// Less reports whether a < b.
func (a Amount) Less(b Amount) bool { return a.m < b.m }

// Float64 returns a as a float64 (for display and ratios; totals stay exact).
func (a Amount) Float64() float64 { return float64(a.m) / AmountScale }

// Floor returns the largest whole number ≤ a.
func (a Amount) Floor() int64 {
	q := a.m / AmountScale
	if a.m%AmountScale < 0 {
		q--
	}
	return q
}

// String formats a as a decimal without trailing zeros: "100000", "-0.5".
func (a Amount) String() string { return string(a.appendText(nil)) }

func (a Amount) appendText(b []byte) []byte {
	u := uint64(a.m)
	if a.m < 0 {
		b = append(b, '-')
		u = uint64(-a.m) // MinInt64 wraps to itself, which as uint64 is the right magnitude
	}
	whole, frac := u/AmountScale, u%AmountScale
	b = strconv.AppendUint(b, whole, 10)
	if frac == 0 {
		return b
	}
	// The six digits in place (after a leading 1, dropped), trailing zeros cut.
	n := len(b) + 1
	b = strconv.AppendUint(append(b, '.'), frac+AmountScale, 10)
	b = append(b[:n], b[n+1:]...)
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// MarshalText formats a as String does.
func (a Amount) MarshalText() ([]byte, error) { return a.appendText(nil), nil }

// AppendText appends a to b as String formats it (encoding.TextAppender).
func (a Amount) AppendText(b []byte) ([]byte, error) { return a.appendText(b), nil }

// UnmarshalText parses a decimal as ParseAmount does.
func (a *Amount) UnmarshalText(b []byte) error {
	v, err := parseDecimal("Amount", string(b), b)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalJSON writes a as a JSON string holding its decimal ("12.5"), so that
// no JSON reader rounds it through a float.
func (a Amount) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 24), '"')
	return append(a.appendText(b), '"'), nil
}

// UnmarshalJSON accepts a decimal string ("12.5") or a plain JSON number
// (12.5, meaning 12.5); exponents and more than 6 fractional digits are
// refused. null leaves a unchanged.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return a.UnmarshalText(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
