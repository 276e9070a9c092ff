package points

import (
	"math"
	"math/big"
	"math/bits"

	"github.com/gamifykit/gamify/gamifytype"
)

// multiply returns base (> 0) × every multiplier, rounded to a whole point
// with mode, and false on overflow. The product is exact: 2 × 1.5 × 3 is 9,
// and only the final rounding loses anything. The common case fits in 128
// bits; larger products (many stacked boosts) fall back to big integers.
func multiply(base Amount, ms []AppliedBoost, mode Rounding) (Amount, bool) {
	if q, ok := multiply128(base, ms, mode); ok {
		return q, true
	}
	return multiplyBig(base, ms, mode)
}

// u128 is an unsigned 128-bit integer.
type u128 struct{ hi, lo uint64 }

func (x u128) mul(m uint64) (u128, bool) {
	h1, l1 := bits.Mul64(x.lo, m)
	h2, l2 := bits.Mul64(x.hi, m)
	hi, c := bits.Add64(h1, l2, 0)
	return u128{hi, l1}, h2 == 0 && c == 0
}

func (x u128) add(y u128) (u128, bool) {
	lo, c := bits.Add64(x.lo, y.lo, 0)
	hi, c2 := bits.Add64(x.hi, y.hi, c)
	return u128{hi, lo}, c2 == 0
}

// div returns ⌊x/d⌋.
func (x u128) div(d uint64) u128 {
	qhi, r := x.hi/d, x.hi%d
	qlo, _ := bits.Div64(r, x.lo, d)
	return u128{qhi, qlo}
}

// multiply128 works on the millionths of base and the multipliers.
func multiply128(base Amount, ms []AppliedBoost, mode Rounding) (Amount, bool) {
	x, den := u128{0, uint64(base.Micros())}, u128{0, gamifytype.AmountScale} // den: to whole points
	var ok bool
	for _, m := range ms {
		if x, ok = x.mul(uint64(m.Multiplier.Micros())); !ok {
			return Amount{}, false
		}
		if den, ok = den.mul(gamifytype.AmountScale); !ok {
			return Amount{}, false
		}
	}
	// ⌈x/den⌉ = ⌊(x+den−1)/den⌋ and round-half-up is ⌊(x+den/2)/den⌋; den is
	// a power of 10^6, and ⌊⌊x/a⌋/b⌋ = ⌊x/(ab)⌋, so dividing by 10^6 once per
	// factor divides by den.
	switch mode {
	case RoundUp:
		x, ok = x.add(u128{den.hi - b2u(den.lo == 0), den.lo - 1})
	case RoundNearest:
		x, ok = x.add(den.div(2))
	}
	if !ok {
		return Amount{}, false
	}
	for range len(ms) + 1 {
		x = x.div(gamifytype.AmountScale)
	}
	// x is now a count of whole points.
	if x.hi != 0 || x.lo > math.MaxInt64 {
		return Amount{}, false
	}
	return gamifytype.AmountFromIntChecked(int64(x.lo))
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// multiplyBig is multiply with big integers, for products beyond 128 bits.
func multiplyBig(base Amount, ms []AppliedBoost, mode Rounding) (Amount, bool) {
	num := big.NewInt(base.Micros())
	den := big.NewInt(gamifytype.AmountScale)
	scale := big.NewInt(gamifytype.AmountScale)
	for _, m := range ms {
		num.Mul(num, big.NewInt(m.Multiplier.Micros()))
		den.Mul(den, scale)
	}
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int)) // num > 0: truncation is down
	switch mode {
	case RoundUp:
		if rem.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
	case RoundNearest:
		if rem.Lsh(rem, 1).Cmp(den) >= 0 {
			q.Add(q, big.NewInt(1))
		}
	}
	q.Mul(q, scale)
	if !q.IsInt64() {
		return Amount{}, false
	}
	return gamifytype.AmountFromMicros(q.Int64()), true
}
