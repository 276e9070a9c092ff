package streak

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// ErrCorrupt is returned by UnmarshalBinary for input that is not a State
// written by MarshalBinary (of a known version).
var ErrCorrupt = errors.New("streak: corrupt state")

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// Bounds a decoded State must respect, so that no corrupt input can make the
// replay loop or an allocation large: period indexes of years 1..9999.
const (
	minIndex = -800_000
	// Bounds of State.anchor: the years 1900 to 2200, like activities.
	minAnchor = -2208988800 * int64(time.Second)
	maxAnchor = 7258118400 * int64(time.Second)
	maxIndex  = 3_000_000
	maxCount  = 1 << 40
)

// MarshalBinary encodes s (a version byte, then varints). The zero State
// encodes to two bytes.
func (s State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the encoding of s to b.
func (s State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	if !s.seen {
		return append(b, 0), nil
	}
	flags := byte(1) // seen
	if s.provisional {
		flags = 3
	}
	b = append(b, flags, byte(s.freq), byte(s.ws))
	b = binary.AppendVarint(b, s.anchor)
	b = binary.AppendVarint(b, s.base)
	b = appendCursor(b, s.baseCur)
	b = appendCursor(b, s.cur)
	b = binary.AppendVarint(b, s.lastExt)
	b = binary.AppendVarint(b, s.shown)
	b = binary.AppendUvarint(b, uint64(s.nextPause))
	b = binary.AppendUvarint(b, uint64(len(s.met)))
	prev := s.base
	for _, sp := range s.met {
		b = binary.AppendUvarint(b, uint64(sp.from-prev))
		b = binary.AppendUvarint(b, uint64(sp.to-sp.from))
		prev = sp.to
	}
	b = binary.AppendUvarint(b, uint64(len(s.prog)))
	prev = s.base
	for _, pr := range s.prog {
		b = binary.AppendUvarint(b, uint64(pr.p-prev))
		prev = pr.p
		b = binary.AppendVarint(b, pr.maxAt)
		b = appendSums(b, pr.own)
		b = appendSums(b, pr.grace)
	}
	b = binary.AppendUvarint(b, uint64(len(s.pauses)))
	for _, p := range s.pauses {
		b = binary.AppendUvarint(b, uint64(p.id))
		b = binary.AppendVarint(b, p.from)
		b = binary.AppendUvarint(b, uint64(p.to-p.from))
	}
	b = binary.AppendUvarint(b, uint64(len(s.grants)))
	for _, g := range s.grants {
		b = binary.AppendVarint(b, g)
	}
	b = binary.AppendUvarint(b, uint64(len(s.restores)))
	for _, r := range s.restores {
		b = binary.AppendVarint(b, r.at)
		b = binary.AppendVarint(b, r.period)
		b = binary.AppendVarint(b, r.from)
		b = binary.AppendVarint(b, r.length)
		b = binary.AppendVarint(b, r.started)
	}
	return b, nil
}

func appendCursor(b []byte, c cursor) []byte {
	for _, v := range [...]int64{c.p, c.length, c.started, c.longest, c.freezes, c.earned, c.at} {
		b = binary.AppendVarint(b, v)
	}
	return b
}

func appendSums(b []byte, sums []gamifytype.Amount) []byte {
	b = binary.AppendUvarint(b, uint64(len(sums)))
	for _, v := range sums {
		b = binary.AppendVarint(b, v.Micros())
	}
	return b
}

// decoder reads varints and remembers the first error.
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
	if n <= 0 {
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
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length, bounded by limit and by the bytes left (each
// item takes at least one byte).
func (d *decoder) count(limit int) int {
	n := d.uvarint()
	if n > uint64(limit) || n > uint64(len(d.b)) {
		d.fail("list of %d items", n)
		return 0
	}
	return int(n)
}

// index reads a period index and checks its range.
func (d *decoder) index(v int64, what string) int64 {
	if v < minIndex || v > maxIndex {
		d.fail("%s %d out of range", what, v)
	}
	return v
}

// instant checks a unix-ns instant against the bound that keeps sums of two
// from overflowing.
func (d *decoder) instant(v int64) int64 {
	if v < -maxInstant || v > maxInstant {
		d.fail("instant %d out of range", v)
	}
	return v
}

func (d *decoder) cursor(base int64) cursor {
	var c cursor
	c.p = d.varint()
	c.length = d.varint()
	c.started = d.varint()
	c.longest = d.varint()
	c.freezes = d.varint()
	c.earned = d.varint()
	c.at = d.varint()
	if d.err == nil {
		d.index(c.p, "cursor period")
		d.index(c.started, "started")
		if c.p < base-1 || c.length < 0 || c.length > maxCount || c.longest < 0 || c.longest > maxCount ||
			c.freezes < 0 || c.freezes > 1<<20 || c.earned < 0 || c.earned > maxCount {
			d.fail("cursor out of range")
		}
		d.instant(c.at)
	}
	return c
}

func (d *decoder) sums() []gamifytype.Amount {
	n := d.count(MaxMetrics)
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]gamifytype.Amount, n)
	for i := range out {
		out[i] = gamifytype.AmountFromMicros(d.varint())
		if out[i].Sign() < 0 {
			d.fail("negative sum")
		}
	}
	return out
}

// UnmarshalBinary decodes data written by MarshalBinary into s. Corrupt input
// returns an error wrapping ErrCorrupt; it never panics.
func (s *State) UnmarshalBinary(data []byte) error {
	d := &decoder{b: data}
	if v := d.byte(); d.err == nil && v != stateVersion {
		return fmt.Errorf("%w: unknown version %d", ErrCorrupt, v)
	}
	var n State
	switch d.byte() {
	case 0:
		if d.err == nil && len(d.b) != 0 {
			d.fail("trailing bytes")
		}
		if d.err != nil {
			return d.err
		}
		*s = State{}
		return nil
	case 1:
		n.seen = true
	case 3:
		n.seen, n.provisional = true, true
	default:
		d.fail("bad flags")
	}
	n.freq = Frequency(d.byte())
	if n.freq < Daily || n.freq > Monthly {
		d.fail("bad frequency")
	}
	ws := d.byte()
	if ws > 6 {
		d.fail("bad week start")
	}
	n.ws = time.Weekday(ws)
	n.anchor = d.instant(d.varint())
	// The anchor is an activity's or a call's instant: a real time. Far-off values would
	// make earn arithmetic overflow (found by FuzzUnmarshalBinary).
	if n.anchor != 0 && (n.anchor < minAnchor || n.anchor > maxAnchor) {
		d.fail("anchor out of range")
	}
	n.base = d.index(d.varint(), "base")
	n.baseCur = d.cursor(n.base)
	n.cur = d.cursor(n.base)
	n.lastExt = d.instant(d.varint())
	n.shown = d.varint()
	if n.shown < 0 || n.shown > maxCount {
		d.fail("bad shown length")
	}
	np := d.uvarint()
	if np > 1<<32-1 {
		d.fail("bad pause id")
	}
	n.nextPause = uint32(np)

	if c := d.count(maxSpans); c > 0 {
		n.met = make([]span, c)
		prev := n.base - 1
		for i := range n.met {
			gap, l := d.uvarint(), d.uvarint()
			if gap > maxIndex || l > maxIndex || (i > 0 && gap < 2) {
				d.fail("bad span")
				break
			}
			from := prev + int64(gap)
			if i == 0 {
				from = n.base + int64(gap)
			}
			n.met[i] = span{from, from + int64(l)}
			prev = d.index(from+int64(l), "span")
		}
	}
	if c := d.count(maxProgress); c > 0 {
		n.prog = make([]progress, c)
		prev := n.base
		for i := range n.prog {
			gap := d.uvarint()
			if gap > maxIndex || (i > 0 && gap == 0) {
				d.fail("bad progress period")
				break
			}
			p := d.index(prev+int64(gap), "progress period")
			prev = p
			n.prog[i] = progress{p: p, maxAt: d.instant(d.varint()), own: d.sums(), grace: d.sums()}
		}
	}
	if c := d.count(maxPauses); c > 0 {
		n.pauses = make([]pauseRec, c)
		for i := range n.pauses {
			id := d.uvarint()
			from := d.varint()
			l := d.uvarint()
			if id > 1<<32-1 || l >= maxPauseLen || from < minIndex || from > maxIndex || (i > 0 && from <= n.pauses[i-1].from) {
				d.fail("bad pause")
				break
			}
			n.pauses[i] = pauseRec{id: uint32(id), from: from, to: from + int64(l)}
		}
	}
	if c := d.count(maxGrants); c > 0 {
		n.grants = make([]int64, c)
		for i := range n.grants {
			n.grants[i] = d.instant(d.varint())
			if i > 0 && n.grants[i] < n.grants[i-1] {
				d.fail("grants out of order")
			}
		}
	}
	if c := d.count(maxRestores); c > 0 {
		n.restores = make([]restoreRec, c)
		for i := range n.restores {
			r := restoreRec{at: d.instant(d.varint()), period: d.varint(), from: d.varint(), length: d.varint(), started: d.varint()}
			d.index(r.period, "restore period")
			d.index(r.from, "restore gap")
			d.index(r.started, "restore start")
			if r.from > r.period || r.length < 0 || r.length > maxCount {
				d.fail("bad restore")
			}
			n.restores[i] = r
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err == nil {
		// Periods must fall in the years activities may have (1900 to 2200):
		// beyond them instants overflow Unix nanoseconds (found by
		// FuzzUnmarshalBinary, which hung on a base in the year 953).
		def := Definition{Frequency: n.freq, WeekStart: WeekdayOf(n.ws)}
		for _, p := range []int64{n.base, n.baseCur.p + 1, n.cur.p + 1} {
			if y := def.start(p, time.UTC).Year(); y < 1900 || y > 2200 {
				d.fail("period %d out of the supported years", p)
				break
			}
		}
	}
	if d.err != nil {
		return d.err
	}
	*s = n
	return nil
}
