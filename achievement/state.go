package achievement

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Completion is one achievement completed by a user.
type Completion struct {
	Key string
	At  time.Time
	// Backdated is set for completions made by Backdate (activation or a
	// lowered threshold); the engine sends no notification for them.
	Backdated bool
}

// State is one user's achievement state: completions and the running sums
// of filtered metric achievements not yet completed. It is a value: the
// transitions return a new State and never modify the one passed in. The
// zero State is a user with nothing.
type State struct {
	done []doneRec // sorted by key
	sums []sumRec  // sorted by key; never holds a completed key or a zero sum
}

type doneRec struct {
	key       string
	at        int64 // unix nanoseconds
	backdated bool
}

type sumRec struct {
	key string
	sum gamifytype.Amount
}

func (r doneRec) completion() Completion {
	return Completion{Key: r.key, At: time.Unix(0, r.at).UTC(), Backdated: r.backdated}
}

// Completed returns the completion of key, if the user has it.
func (s State) Completed(key string) (Completion, bool) {
	i, ok := slices.BinarySearchFunc(s.done, key, func(r doneRec, k string) int { return strings.Compare(r.key, k) })
	if !ok {
		return Completion{}, false
	}
	return s.done[i].completion(), true
}

func (s State) has(key string) bool {
	_, ok := slices.BinarySearchFunc(s.done, key, func(r doneRec, k string) int { return strings.Compare(r.key, k) })
	return ok
}

// Completions returns every completion, sorted by key.
func (s State) Completions() []Completion {
	out := make([]Completion, len(s.done))
	for i, r := range s.done {
		out[i] = r.completion()
	}
	return out
}

// Sum returns the running sum of matching events for the filtered metric
// achievement key (zero once it is completed).
func (s State) Sum(key string) gamifytype.Amount {
	i, ok := slices.BinarySearchFunc(s.sums, key, func(r sumRec, k string) int { return strings.Compare(r.key, k) })
	if !ok {
		return gamifytype.Amount{}
	}
	return s.sums[i].sum
}

// complete returns s with key completed at now, its sum dropped. The slices
// are copied, so states handed out earlier are unaffected.
func (s State) complete(key string, now time.Time, backdated bool) State {
	i, _ := slices.BinarySearchFunc(s.done, key, func(r doneRec, k string) int { return strings.Compare(r.key, k) })
	done := make([]doneRec, 0, len(s.done)+1)
	done = append(done, s.done[:i]...)
	done = append(done, doneRec{key: key, at: now.UnixNano(), backdated: backdated})
	s.done = append(done, s.done[i:]...)
	return s.withSum(key, gamifytype.Amount{})
}

// withSum returns s with the sum of key set (removed when zero).
func (s State) withSum(key string, v gamifytype.Amount) State {
	i, ok := slices.BinarySearchFunc(s.sums, key, func(r sumRec, k string) int { return strings.Compare(r.key, k) })
	switch {
	case ok && v.IsZero():
		s.sums = slices.Concat(s.sums[:i], s.sums[i+1:])
		if len(s.sums) == 0 {
			s.sums = nil
		}
	case ok:
		s.sums = slices.Clone(s.sums)
		s.sums[i].sum = v
	case !v.IsZero():
		s.sums = slices.Insert(slices.Clone(s.sums), i, sumRec{key, v})
	}
	return s
}

// ErrCorrupt is returned by UnmarshalBinary for input that is not a State
// written by MarshalBinary (of a known version).
var ErrCorrupt = errors.New("achievement: corrupt state")

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// MarshalBinary encodes s: a version byte, then the completions (key, unix
// nanoseconds, flags) and the sums (key, amount), each list sorted by key.
// The zero State encodes to three bytes. The encoding is canonical: equal
// states encode equally.
func (s State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the encoding of s to b.
func (s State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, uint64(len(s.done)))
	for _, r := range s.done {
		b = appendKey(b, r.key)
		b = binary.AppendVarint(b, r.at)
		var flags byte
		if r.backdated {
			flags = 1
		}
		b = append(b, flags)
	}
	b = binary.AppendUvarint(b, uint64(len(s.sums)))
	for _, r := range s.sums {
		b = appendKey(b, r.key)
		b = binary.AppendVarint(b, r.sum.Micros())
	}
	return b, nil
}

func appendKey(b []byte, k string) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	return append(b, k...)
}

// decoder reads from b and remembers the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	// A last byte of 0 is a non-minimal encoding: refused, so that accepted
	// input is canonical (found by FuzzUnmarshalBinary).
	if n <= 0 || (n > 1 && d.b[n-1] == 0) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	// A last byte of 0 is a non-minimal encoding: refused, so that accepted
	// input is canonical (found by FuzzUnmarshalBinary).
	if n <= 0 || (n > 1 && d.b[n-1] == 0) {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length; each item takes at least two bytes, which
// bounds the allocation by the input size.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)/2) {
		d.fail("list of %d items", n)
		return 0
	}
	return int(n)
}

// key reads a key that must follow prev in order.
func (d *decoder) key(prev string) string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail("truncated key")
		return ""
	}
	k := string(d.b[:n])
	d.b = d.b[n:]
	if gamifytype.ValidateKey("", k) != nil {
		d.fail("bad key %q", k)
	} else if k <= prev {
		d.fail("key %q out of order", k)
	}
	return k
}

// UnmarshalBinary decodes data written by MarshalBinary into s. Corrupt input
// returns an error wrapping ErrCorrupt and leaves s unchanged; it never
// panics.
func (s *State) UnmarshalBinary(data []byte) error {
	d := &decoder{b: data}
	if v := d.byte(); d.err == nil && v != stateVersion {
		return fmt.Errorf("%w: unknown version %d", ErrCorrupt, v)
	}
	var n State
	if c := d.count(); c > 0 {
		n.done = make([]doneRec, c)
		prev := ""
		for i := range n.done {
			r := &n.done[i]
			r.key = d.key(prev)
			r.at = d.varint()
			switch d.byte() {
			case 0:
			case 1:
				r.backdated = true
			default:
				d.fail("bad flags")
			}
			if d.err != nil {
				break
			}
			prev = r.key
		}
	}
	if c := d.count(); c > 0 && d.err == nil {
		n.sums = make([]sumRec, c)
		prev := ""
		for i := range n.sums {
			r := &n.sums[i]
			r.key = d.key(prev)
			r.sum = gamifytype.AmountFromMicros(d.varint())
			if d.err != nil {
				break
			}
			if r.sum.IsZero() {
				d.fail("zero sum")
			} else if n.has(r.key) {
				d.fail("sum of completed %q", r.key)
			}
			prev = r.key
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	*s = n
	return nil
}
