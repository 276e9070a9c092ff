package gamify

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gamifykit/gamify/store"
)

// FuzzChallengeDefinition: Create, Enroll and Delete of challenges with any
// window, enrolment, objective, milestone and payout (fuzz_test.go has the
// rules every API target follows).
func FuzzChallengeDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("week", "Week", uint8(1), int64(0), int64(7*24), 0, uint8(2), "xp", uint8(0), "color", "red", int64(5_000_000), "", 50, "", "coins", int64(1_000_000))
	f.Add("roll", "Roll", uint8(2), int64(0), int64(0), 7, uint8(1), "xp", uint8(2), "", "", int64(3_000_000), "o", 0, "o", "", int64(0))
	f.Add("bad", "", uint8(9), int64(-5), int64(-9), -1, uint8(9), "nope", uint8(9), "nope", "", int64(-1), "x", 101, "x", "nope", int64(-3))
	f.Fuzz(func(t *testing.T, key, name string, window uint8, startH, endH int64, days int, enrol uint8, metric string, count uint8,
		fk, fv string, target int64, after string, share int, objective, system string, points int64) {
		pick := func(n uint8, names ...string) string {
			if int(n) < len(names) {
				return names[n]
			}
			return fmt.Sprint("x", n)
		}
		c := Challenge{Key: key, Name: name, Window: ChallengeWindow(pick(window, "", "fixed", "rolling", "perpetual")), Days: days,
			Enrolment: ChallengeEnrolment(pick(enrol, "", "explicit", "automatic")),
			Objectives: []ChallengeObjective{{Key: "o", Metric: metric, Count: ChallengeCount(pick(count, "", "value", "events")),
				Target: AmountFromMicros(target)}},
			Milestones: []ChallengeMilestone{{Share: share, Objective: objective, Pay: ChallengePayout{System: system, Points: AmountFromMicros(points)}}},
		}
		if startH != 0 {
			c.Start = fuzzNow.Add(time.Duration(startH%1e6) * time.Hour)
		}
		if endH != 0 {
			c.End = fuzzNow.Add(time.Duration(endH%1e6) * time.Hour)
		}
		if fk != "" {
			c.Objectives[0].Filters = map[string]string{fk: fv}
		}
		if after != "" {
			c.Objectives = append(c.Objectives, ChallengeObjective{Key: "p", Metric: metric, Target: AmountFromMicros(target), After: []string{after}})
		}
		if !fe.call(t, "Challenges().Create", func() error { _, err := fe.Challenges().Create(fe.ctx, c); return err }) {
			return
		}
		_, err := fe.Challenges().Get(fe.ctx, key)
		mustCall(t, "Get of a created challenge", err)
		fe.call(t, "Challenges().Enroll", func() error { _, err := fe.Challenges().Enroll(fe.ctx, key, "ana"); return err })
		fe.call(t, "Track", func() error {
			_, err := fe.Track(fe.ctx, Event{Metric: "xp", User: "ana", Value: 3, Attributes: c.Objectives[0].Filters})
			return err
		})
		mustCall(t, "Challenges().Delete", fe.Challenges().Delete(fe.ctx, key))
	})
}

// FuzzChallengeRecord: a state record's participations section decodes,
// re-encodes to what decodes the same, or is an error, never a panic.
func FuzzChallengeRecord(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	_, err := fe.Challenges().Create(fe.ctx, Challenge{Key: "c", Name: "C", Window: ChallengePerpetual, Enrolment: ChallengeAutomatic,
		Objectives: []ChallengeObjective{{Key: "a", Metric: "xp", Target: AmountFromInt(5)}, {Key: "b", Metric: "xp", Target: AmountFromInt(9), After: []string{"a"}}},
		Milestones: []ChallengeMilestone{{Share: 50, Pay: ChallengePayout{System: "coins", Points: AmountFromInt(1)}}}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := fe.Track(fe.ctx, Event{Metric: "xp", User: "ana", Value: 6}); err != nil {
		f.Fatal(err)
	}
	_ = fe.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.State, nil, func(_, v []byte) error { f.Add(bytes.Clone(v)); return nil })
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s userState
		if s.unmarshal(b) != nil {
			return
		}
		var again userState
		if err := again.unmarshal(s.marshal(nil)); err != nil {
			t.Fatalf("re-decoding an encoded record: %v", err)
		}
		if !reflect.DeepEqual(s.Chals, again.Chals) {
			t.Fatalf("round trip changed the participations:\n%+v\n%+v", s.Chals, again.Chals)
		}
	})
}
