package gamify

import (
	"encoding/binary"
	"errors"

	"github.com/gamifykit/gamify/points"
)

// The award log's records (Awards keyspace, keyed by ledger sequence) are
// binary: one is written per award on the write path.

const awardVersion = 2

var errCorruptAward = errors.New("gamify: corrupt award record")

func (r *awardRecord) marshal(b []byte) []byte {
	b = append(b, awardVersion)
	b = binary.AppendUvarint(b, r.User)
	b = binary.AppendUvarint(b, uint64(r.Ref))
	b = binary.AppendVarint(b, r.At)
	b = appendString(b, r.Award.Trigger)
	b = append(b, byte(r.Award.Kind), byte(r.Award.Rounding))
	b = appendString(b, r.Award.Reason)
	b = binary.AppendVarint(b, r.Award.Base.Micros())
	b = binary.AppendVarint(b, r.Award.Multiple)
	b = binary.AppendVarint(b, r.Award.Points.Micros())
	b = binary.AppendVarint(b, r.Award.Total.Micros())
	var flags byte
	if r.Award.Capped {
		flags |= 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(r.Award.Boosts)))
	for _, x := range r.Award.Boosts {
		b = appendString(b, x.Key)
		b = appendString(b, x.Level)
		b = binary.AppendVarint(b, x.Multiplier.Micros())
	}
	return b
}

func (r *awardRecord) unmarshal(v []byte) error {
	if len(v) < 1 || v[0] != awardVersion {
		return errCorruptAward
	}
	d := decoder{b: v[1:]}
	r.User = d.uvarint()
	r.Ref = uint32(d.uvarint())
	r.At = d.varint()
	r.Award.Trigger = d.str()
	if len(d.b) < 2 {
		return errCorruptAward
	}
	r.Award.Kind, r.Award.Rounding = points.Kind(d.b[0]), points.Rounding(d.b[1])
	d.b = d.b[2:]
	r.Award.Reason = d.str()
	r.Award.Base = AmountFromMicros(d.varint())
	r.Award.Multiple = d.varint()
	r.Award.Points = AmountFromMicros(d.varint())
	r.Award.Total = AmountFromMicros(d.varint())
	if d.err || len(d.b) < 1 || d.b[0] > 1 {
		return errCorruptAward
	}
	r.Award.Capped = d.b[0] == 1
	d.b = d.b[1:]
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return errCorruptAward
	}
	r.Award.Boosts = nil
	for range n {
		r.Award.Boosts = append(r.Award.Boosts, points.AppliedBoost{Key: d.str(), Level: d.str(), Multiplier: AmountFromMicros(d.varint())})
	}
	if d.err || len(d.b) != 0 {
		return errCorruptAward
	}
	return nil
}

// awardUser returns the user of an award record without decoding the rest.
func awardUser(v []byte) (uint64, bool) {
	if len(v) < 2 || v[0] != awardVersion {
		return 0, false
	}
	u, n := binary.Uvarint(v[1:])
	return u, n > 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// str reads a length-prefixed string.
func (d *decoder) str() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
