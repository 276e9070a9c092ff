package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gamifykit/gamify/gamifytype"
)

// Kind says what an entry changes. Unmarshal accepts any Kind, so that a
// kind added later still decodes.
type Kind uint8

const (
	// MetricDelta changes a metric total; Ref is the metric's internal id.
	MetricDelta Kind = 1
	// PointsAward adds points; Ref is the points system's internal id and
	// Delta the points added.
	PointsAward Kind = 2
	// PointsSpend spends points; Ref is the points system's internal id and
	// Delta the points spent.
	PointsSpend Kind = 3
)

// Entry is one change to one of a user's numbers.
type Entry struct {
	Seq     uint64            // global, strictly increasing
	At      int64             // event time, Unix nanoseconds UTC
	User    uint64            // internal user id
	Kind    Kind              //
	Ref     uint32            // internal id of the metric/system the delta applies to
	Delta   gamifytype.Amount //
	Cause   string            // e.g. the trigger key of an award; empty for raw events
	IdemKey string            // the caller's idempotency key, if any
}

// Key returns the storage key of an entry: its sequence, big-endian, so that
// the ledger is an append at the end of one key range.
func Key(seq uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq) }

const version = 2

// Marshal appends the value encoding of e (everything except the key) to b.
func (e *Entry) Marshal(b []byte) []byte {
	if b == nil {
		b = make([]byte, 0, 40+len(e.Cause)+len(e.IdemKey))
	}
	b = append(b, version, byte(e.Kind))
	b = binary.AppendUvarint(b, e.User)
	b = binary.AppendVarint(b, e.At)
	b = binary.AppendUvarint(b, uint64(e.Ref))
	b = binary.AppendVarint(b, e.Delta.Micros())
	b = binary.AppendUvarint(b, uint64(len(e.Cause)))
	b = append(b, e.Cause...)
	b = binary.AppendUvarint(b, uint64(len(e.IdemKey)))
	b = append(b, e.IdemKey...)
	return b
}

// ErrCorrupt is returned when a stored entry cannot be decoded.
var ErrCorrupt = errors.New("ledger: corrupt entry")

// Unmarshal decodes an entry from its key and value.
func Unmarshal(key, val []byte) (Entry, error) {
	var e Entry
	if len(key) != 8 {
		return e, fmt.Errorf("%w: key of %d bytes", ErrCorrupt, len(key))
	}
	e.Seq = binary.BigEndian.Uint64(key)
	if len(val) < 2 || val[0] != version {
		return e, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	e.Kind = Kind(val[1])
	r := reader{b: val[2:]}
	e.User = r.uvarint()
	e.At = r.varint()
	ref := r.uvarint()
	e.Ref = uint32(ref)
	e.Delta = gamifytype.AmountFromMicros(r.varint())
	e.Cause = r.str()
	e.IdemKey = r.str()
	if r.err || len(r.b) != 0 || ref > math.MaxUint32 {
		return e, fmt.Errorf("%w: seq %d", ErrCorrupt, e.Seq)
	}
	return e, nil
}

type reader struct {
	b   []byte
	err bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err || n > uint64(len(r.b)) {
		r.err, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
