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
// window, enrollment, objective, milestone and payout (fuzz_test.go has the
// rules every API target follows).
func FuzzChallengeDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("week", "Week", uint8(1), int64(0), int64(7*24), 0, uint8(2), "xp", uint8(0), "color", "red", int64(5_000_000), "", 50, "", "coins", int64(1_000_000))
	f.Add("roll", "Roll", uint8(2), int64(0), int64(0), 7, uint8(1), "xp", uint8(2), "", "", int64(3_000_000), "o", 0, "o", "", int64(0))
	f.Add("bad", "", uint8(9), int64(-5), int64(-9), -1, uint8(9), "nope", uint8(9), "nope", "", int64(-1), "x", 101, "x", "nope", int64(-3))
	f.Fuzz(func(t *testing.T, key, name string, window uint8, startH, endH int64, days int, enroll uint8, metric string, count uint8,
		fk, fv string, target int64, after string, share int, objective, system string, points int64) {
		pick := func(n uint8, names ...string) string {
			if int(n) < len(names) {
				return names[n]
			}
			return fmt.Sprint("x", n)
		}
		c := Challenge{Key: key, Name: name, Window: ChallengeWindow(pick(window, "", "fixed", "rolling", "perpetual")), Days: days,
			Enrollment: ChallengeEnrollment(pick(enroll, "", "explicit", "automatic")),
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
			c.Objectives[0].EventFilters = map[string]string{fk: fv}
		}
		if after != "" {
			c.Objectives = append(c.Objectives, ChallengeObjective{Key: "p", Metric: metric, Target: AmountFromMicros(target), Prerequisites: []string{after}})
		}
		if !fe.call(t, "Challenges().Create", func() error { _, err := fe.Challenges().Create(fe.ctx, c); return err }) {
			return
		}
		_, err := fe.Challenges().Get(fe.ctx, key)
		mustCall(t, "Get of a created challenge", err)
		fe.call(t, "Challenges().Enroll", func() error { _, err := fe.Challenges().Enroll(fe.ctx, key, "ana"); return err })
		fe.call(t, "Track", func() error {
			_, err := fe.Track(fe.ctx, Event{Metric: "xp", User: "ana", Value: 3, Attributes: c.Objectives[0].EventFilters})
			return err
		})
		mustCall(t, "Challenges().Delete", fe.Challenges().Delete(fe.ctx, key))
	})
}

// FuzzChallengeRecord: a state record's participations section (and the
// sections after it) decodes, re-encodes to what decodes the same, or
// is an error, never a panic.
func FuzzChallengeRecord(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	_, err := fe.Challenges().Create(fe.ctx, Challenge{Key: "c", Name: "C", Window: ChallengePerpetual, Enrollment: ChallengeAutomatic,
		Objectives: []ChallengeObjective{{Key: "a", Metric: "xp", Target: AmountFromInt(5)}, {Key: "b", Metric: "xp", Target: AmountFromInt(9), Prerequisites: []string{"a"}}},
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
	// The trailing sections after the participations: milestone and streak trigger records.
	f.Add((&userState{Events: 1, Paid: []milestonePaid{{Streak: 1, Start: 100, Length: 3, System: 2, Points: AmountFromInt(5)}},
		TrigPaid: []triggerPaid{{Streak: 1, Start: 100, Trigger: 4, System: 2, EveryN: 3, Multiples: 2, Points: AmountFromInt(60)}},
		Seen:     []profileSeen{{"attributes.plan", 7}}}).marshal(nil))
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
		if !reflect.DeepEqual(s.Paid, again.Paid) || !reflect.DeepEqual(s.TrigPaid, again.TrigPaid) || !reflect.DeepEqual(s.Seen, again.Seen) {
			t.Fatalf("round trip changed the trailing sections:\n%+v %+v %+v\n%+v %+v %+v", s.Paid, s.TrigPaid, s.Seen, again.Paid, again.TrigPaid, again.Seen)
		}
	})
}

// FuzzChallengeImport: Import of any participation (times, progress,
// milestones, completion) stores one that reads back as given and passes
// Check, or is a typed error that changes nothing.
func FuzzChallengeImport(f *testing.F) {
	fe := newFuzzEngine(f, func(fe *fuzzEngine) error {
		if err := fuzzSetup(fe); err != nil {
			return err
		}
		_, err := fe.Challenges().Create(fe.ctx, Challenge{Key: "fz", Name: "Fz", Window: ChallengeRolling, Days: 3,
			Objectives: []ChallengeObjective{{Key: "a", Metric: "xp", Target: AmountFromInt(5)},
				{Key: "b", Metric: "xp", Count: ChallengeCountEvents, Target: AmountFromInt(2), Prerequisites: []string{"a"}}},
			Milestones: []ChallengeMilestone{{Share: 50, Pay: ChallengePayout{System: "coins", Points: AmountFromInt(1)}}}})
		return err
	})
	f.Add(int64(0), int64(72), int64(5_000_000), int64(1_000_000), 0, true, int64(-1), false)
	f.Add(int64(-5), int64(72), int64(5_000_000), int64(2_000_000), 0, true, int64(3), true)
	f.Add(int64(1), int64(71), int64(6_000_000), int64(-1), 3, false, int64(0), false)
	f.Fuzz(func(t *testing.T, startH, lenH, a, b int64, milestone int, paid bool, doneH int64, waiting bool) {
		start := fuzzNow.Add(time.Duration(startH%1e6) * time.Hour)
		pa, pb := AmountFromMicros(a), AmountFromMicros(b)
		p := ChallengeProgress{Challenge: "fz", User: "ana", EnrolledAt: start, WindowStart: start,
			WindowEnd: start.Add(time.Duration(lenH%1e6) * time.Hour), Milestones: []int{},
			Objectives: []ObjectiveProgress{{Key: "a", Progress: pa, Target: AmountFromInt(5), Complete: a >= 5_000_000},
				{Key: "b", Progress: pb, Target: AmountFromInt(2), Complete: a >= 5_000_000 && b >= 2_000_000, Waiting: waiting}}}
		for _, o := range p.Objectives {
			if o.Complete {
				p.Complete++
			}
		}
		if paid {
			p.Milestones = []int{milestone}
		}
		if doneH >= 0 {
			p.CompletedAt = start.Add(time.Duration(doneH%1e6) * time.Hour)
		}
		_, err := fe.Users().Identify(fe.ctx, UserInput{ID: "ana"})
		mustCall(t, "Identify", err)
		if fe.call(t, "Challenges().Import", func() error { _, err := fe.Challenges().Import(fe.ctx, "fz", "ana", p); return err }) {
			got, err := fe.Challenges().Progress(fe.ctx, "fz", "ana")
			mustCall(t, "Progress of a restored participation", err)
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("restored %+v, read %+v", p, got)
			}
			mustCall(t, "Check", fe.Check(fe.ctx))
		}
		mustCall(t, "Erase", fe.Users().Erase(fe.ctx, "ana"))
	})
}
