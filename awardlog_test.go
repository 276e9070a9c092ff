package gamify

import (
	"reflect"
	"testing"

	"github.com/gamifykit/gamify/points"
)

// FuzzAwardRecord: corrupt bytes give an error, never a panic, and a record
// decoded from any input encodes back to an equal record.
func FuzzAwardRecord(f *testing.F) {
	full := awardRecord{User: 42, Ref: 3, Award: points.AwardRecord{Trigger: "per-5", Kind: 1, Base: AmountFromInt(10), Multiple: 2,
		Boosts:   []points.AppliedBoost{{Key: "weekend", Multiplier: AmountFromInt(2)}, {Level: "gold", Multiplier: MustParseAmount("0.5")}},
		Rounding: 1, Points: AmountFromInt(10), Capped: true, Total: AmountFromInt(99)}}
	f.Add(full.marshal(nil))
	f.Add((&awardRecord{User: 1, Ref: 1, Award: points.AwardRecord{Reason: "gift", Points: MustParseAmount("-0.000005")}}).marshal(nil))
	f.Add([]byte{awardVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r awardRecord
		if r.unmarshal(b) != nil {
			return
		}
		var again awardRecord
		if err := again.unmarshal(r.marshal(nil)); err != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, r, again)
		}
		if u, ok := awardUser(b); !ok || u != r.User {
			t.Fatalf("awardUser = %d, %v; record says %d", u, ok, r.User)
		}
	})
}

func TestAwardRecordRoundTrip(t *testing.T) {
	r := awardRecord{User: 7, Ref: 2, Award: points.AwardRecord{Trigger: "t", Kind: 2, Reason: "r", Base: MustParseAmount("0.000001"), Multiple: 3,
		Boosts: []points.AppliedBoost{{Key: "b", Level: "l", Multiplier: MustParseAmount("1.5")}}, Rounding: 2, Points: MustParseAmount("0.000004"), Capped: true, Total: MustParseAmount("0.000009")}}
	b := r.marshal(nil)
	var got awardRecord
	if err := got.unmarshal(b); err != nil || !reflect.DeepEqual(r, got) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, r, got)
	}
	for i := range b { // every truncation is an error
		if err := got.unmarshal(b[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
}
