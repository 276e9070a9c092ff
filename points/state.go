package points

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"

	"github.com/gamifykit/gamify/gamifytype"
)

// ErrCorrupt is returned by UnmarshalBinary for input that is not a State
// written by AppendBinary (of a known version).
var ErrCorrupt = errors.New("points: corrupt state")

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// State is one user's balance and trigger progress in one system. The zero
// State is a user who never earned anything. States are values: transitions
// never modify the State they are given.
type State struct {
	total, spent Amount
	level        string // level key as of the last transition; "" below every level
	pin          string // pinned level key; "" when not pinned
	recs         []rec  // per-trigger progress, sorted by key
}

// rec is a trigger's progress. Metric: sum is the running sum of matching
// deltas and n the high-water count of Threshold multiples awarded.
// Achievement and user_creation: n is 1 once fired. Time: n is the count of
// fires passed. Streak triggers keep no rec (OnStreak).
type rec struct {
	key string
	sum Amount
	n   int64
}

// Total returns the lifetime sum of awards (may be negative).
func (s State) Total() Amount { return s.total }

// Spent returns the sum of spends.
func (s State) Spent() Amount { return s.spent }

// Available returns Total − Spent.
func (s State) Available() Amount { return wrapSub(s.total, s.spent) }

// wrapAdd and wrapSub return a+b and a−b computed on the millionths in
// two's complement: unlike Amount.Add and Amount.Sub they wrap around on
// overflow instead of saturating. They are used only where the operands
// cannot overflow: totals and spent stay within ±MaxAmount/2 (transitions
// keep them there and UnmarshalBinary refuses a State past them); a
// definition's MaxPoints or Threshold goes through the saturating Sub.
func wrapAdd(a, b Amount) Amount { return gamifytype.AmountFromMicros(a.Micros() + b.Micros()) }

func wrapSub(a, b Amount) Amount { return gamifytype.AmountFromMicros(a.Micros() - b.Micros()) }

// LevelKey returns the user's level key ("" below every level) as of the last
// transition, and whether it is pinned.
func (s State) LevelKey() (key string, pinned bool) {
	if s.pin != "" {
		return s.pin, true
	}
	return s.level, false
}

func (s *State) find(key string) (int, bool) {
	return slices.BinarySearchFunc(s.recs, key, func(r rec, k string) int { return strings.Compare(r.key, k) })
}

// get returns the progress of trigger key (zero if none).
func (s *State) get(key string) rec {
	if i, ok := s.find(key); ok {
		return s.recs[i]
	}
	return rec{key: key}
}

// put stores r; s.recs must already be a private copy.
func (s *State) put(r rec) {
	i, ok := s.find(r.key)
	if ok {
		s.recs[i] = r
		return
	}
	s.recs = slices.Insert(s.recs, i, r)
}

// MarshalBinary encodes s.
func (s State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the encoding of s to b: a version byte, then varints
// and length-prefixed keys.
func (s State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	b = binary.AppendVarint(b, s.total.Micros())
	b = binary.AppendVarint(b, s.spent.Micros())
	b = appendString(b, s.level)
	b = appendString(b, s.pin)
	b = binary.AppendUvarint(b, uint64(len(s.recs)))
	for _, r := range s.recs {
		b = appendString(b, r.key)
		b = binary.AppendVarint(b, r.sum.Micros())
		b = binary.AppendVarint(b, r.n)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// UnmarshalBinary decodes data written by AppendBinary. Input that is not a
// valid State (a total or spent past ±MaxAmount/2, which no transition
// writes, included) fails with an error wrapping ErrCorrupt; it never panics.
func (s *State) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	if d.byte() != stateVersion {
		return ErrCorrupt
	}
	var n State
	n.total = gamifytype.AmountFromMicros(d.varint())
	n.spent = gamifytype.AmountFromMicros(d.varint())
	n.level = d.key(true)
	n.pin = d.key(true)
	count := d.uvarint()
	if d.bad || count > uint64(len(d.b)) {
		return ErrCorrupt
	}
	n.recs = make([]rec, 0, count)
	for range count {
		r := rec{key: d.key(false), sum: gamifytype.AmountFromMicros(d.varint()), n: d.varint()}
		if d.bad || r.n < 0 || (len(n.recs) > 0 && n.recs[len(n.recs)-1].key >= r.key) {
			return ErrCorrupt
		}
		n.recs = append(n.recs, r)
	}
	if d.bad || len(d.b) != 0 || n.spent.Sign() < 0 || maxTotal.Less(n.spent) || maxTotal.Less(n.total.Abs()) {
		return ErrCorrupt
	}
	*s = n
	return nil
}

type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// An encoding whose last byte is 0 (beyond the first) is overlong: it is
// rejected so that each State has exactly one encoding.
func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

// key reads a definition key (empty allowed only when optional).
func (d *decoder) key(optional bool) string {
	l := d.uvarint()
	if d.bad || l > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	k := string(d.b[:l])
	d.b = d.b[l:]
	if (k != "" || !optional) && gamifytype.ValidateKey("", k) != nil {
		d.bad = true
	}
	return k
}
