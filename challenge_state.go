package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// Challenge state. A user's participations live in their state record
// (userState.Chals, sorted by challenge ref), so they change, commit, roll
// back, replay and are erased with the rest of the user's numbers. Each
// participation also has a marker in the Jobs keyspace,
// "challenge/<key>/p/<uid>", for the reads over a challenge's participants;
// the writer only writes markers, never reads them.
//
// Progress is capped at each objective's target and only ever grows, and an
// objective is complete once its target is reached and its Prerequisites
// are complete: a set of events gives the same completions in any arrival
// order, and what a milestone or the completion pays is recorded in
// the participation (Paid, Done) so that it is paid once.

// userChallenge is one participation.
type userChallenge struct {
	Ref      uint32
	Enrolled int64   // the enrollment's time (Unix ns): the command's, or the enrolling event's
	From, To int64   // events at From <= at < To count; To 0: no end
	Progress []int64 // per objective, micros, capped at its target; never written in place
	Paid     uint32  // bit i: Milestones[i] was paid
	Done     int64   // when the completion was paid (Unix ns), 0 before
}

func (s *userState) challenge(ref uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Chals, ref, func(c userChallenge, r uint32) int { return cmp.Compare(c.Ref, r) })
}

// appendChallenges appends the participations section of a state record:
// nothing for none, so records without challenges keep their old bytes.
func appendChallenges(b []byte, cs []userChallenge) []byte {
	if len(cs) == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		b = binary.AppendUvarint(b, uint64(c.Ref))
		b = binary.AppendVarint(b, c.Enrolled)
		b = binary.AppendVarint(b, c.From)
		b = binary.AppendVarint(b, c.To)
		b = binary.AppendUvarint(b, uint64(c.Paid))
		b = binary.AppendVarint(b, c.Done)
		b = binary.AppendUvarint(b, uint64(len(c.Progress)))
		for _, p := range c.Progress {
			b = binary.AppendVarint(b, p)
		}
	}
	return b
}

// decodeChallenges reads the participations section (the rest of r).
func decodeChallenges(r *decoder) ([]userChallenge, error) {
	n := r.uvarint()
	if n == 0 || n > uint64(len(r.b)) {
		return nil, errCorruptState
	}
	cs := make([]userChallenge, n)
	for i := range cs {
		c := &cs[i]
		c.Ref = uint32(r.uvarint())
		c.Enrolled, c.From, c.To = r.varint(), r.varint(), r.varint()
		c.Paid = uint32(r.uvarint())
		c.Done = r.varint()
		m := r.uvarint()
		if r.err || m == 0 || m > maxObjectives || (i > 0 && cs[i-1].Ref >= c.Ref) {
			return nil, errCorruptState
		}
		c.Progress = make([]int64, m)
		for j := range c.Progress {
			c.Progress[j] = r.varint()
		}
	}
	if r.err {
		return nil, errCorruptState
	}
	return cs, nil
}

func challengeMarker(key string, uid uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(defChallenge+key+"/p/"), uid)
}

func challengeMarkerPrefix(key string) []byte { return []byte(defChallenge + key + "/p/") }

// add returns what an event adds to objective o: 0 when it does not count.
func (o *ChallengeObjective) add(metric string, value Amount, attrs map[string]string) int64 {
	if o.Metric != metric {
		return 0
	}
	for k, v := range o.EventFilters {
		if got, ok := attrs[k]; !ok || got != v {
			return 0
		}
	}
	if o.Count == ChallengeCountEvents {
		return gamifytype.AmountScale
	}
	return max(value.Micros(), 0)
}

// done returns the complete objectives of progress, bit i for
// Objectives[i]; prerequisites come earlier, so one pass suffices.
func (c *Challenge) done(progress []int64) uint32 {
	var set uint32
	for i, o := range c.Objectives {
		if i >= len(progress) || progress[i] < o.Target.Micros() {
			continue
		}
		ok := true
		for _, p := range o.Prerequisites {
			if j := c.objective(p); j < 0 || set&(1<<j) == 0 {
				ok = false
				break
			}
		}
		if ok {
			set |= 1 << i
		}
	}
	return set
}

// objective is the index of the objective with key, or -1.
func (c *Challenge) objective(key string) int {
	return slices.IndexFunc(c.Objectives, func(o ChallengeObjective) bool { return o.Key == key })
}

// reached reports whether milestone m is reached with the objectives done.
func (c *Challenge) reached(m ChallengeMilestone, done uint32) bool {
	if m.Objective != "" {
		j := c.objective(m.Objective)
		return j >= 0 && done&(1<<j) != 0
	}
	return bits.OnesCount32(done)*100 >= m.Share*len(c.Objectives)
}

// window is the window of a participation enrolled at at (the command's
// time for Enroll, the event's for an automatic enrollment).
func (c *Challenge) window(at time.Time, automatic bool) (from, to int64) {
	switch c.Window {
	case ChallengeFixed:
		from = c.Start.UnixNano()
		if !automatic {
			from = max(from, at.UnixNano())
		}
		return from, c.End.UnixNano()
	case ChallengeRolling:
		return at.UnixNano(), at.Add(time.Duration(c.Days) * 24 * time.Hour).UnixNano()
	}
	if automatic {
		return c.Created.UnixNano(), 0
	}
	return at.UnixNano(), 0
}

func inWindow(at, from, to int64) bool { return at >= from && (to == 0 || at < to) }

// ChallengeChange reports what an event did to one of the user's
// challenges.
type ChallengeChange struct {
	Challenge string
	Enrolled  bool // this event enrolled the user (automatic enrollment)
	// Objectives is the progress of every objective after the event.
	Objectives []ObjectiveProgress
	// Completed lists the objectives this event completed.
	Completed []string `json:",omitempty"`
	// Milestones lists the milestones this event reached, with what they paid.
	Milestones []ChallengeMilestoneReached `json:",omitempty"`
	// Completion is set when this event completed the challenge.
	Completion *ChallengeCompleted `json:",omitempty"`
}

// ObjectiveProgress is a participant's progress toward one objective.
type ObjectiveProgress struct {
	Key      string
	Progress Amount // counted so far, at most Target
	Target   Amount
	Complete bool
	// Waiting is true when Target is reached but one of the objective's
	// Prerequisites is not complete yet.
	Waiting bool `json:",omitempty"`
}

// ChallengePaid is what a milestone or a completion paid.
type ChallengePaid struct {
	Achievement string `json:",omitempty"` // the achievement completed (or already held)
	Reward      string `json:",omitempty"`
	Claim       uint64 `json:",omitempty"` // the reward claim's sequence (its id)
	Code        string `json:",omitempty"` // the claim's code, if any
	System      string `json:",omitempty"`
	Points      Amount
	// Skipped says what could not be paid, one line each (a reward out of
	// stock, a locked achievement); the rest was paid. A skipped part is
	// not paid later.
	Skipped []string `json:",omitempty"`
}

// ChallengeMilestoneReached is sent when a participant reaches a milestone
// of a challenge, once per participation.
type ChallengeMilestoneReached struct {
	User      string
	Challenge string
	Milestone int // its index in Challenge.Milestones
	Paid      ChallengePaid
	At        time.Time
}

// UserID implements Notification.
func (n ChallengeMilestoneReached) UserID() string { return n.User }

// ChallengeCompleted is sent when a participant completes every objective
// of a challenge, once per participation.
type ChallengeCompleted struct {
	User      string
	Challenge string
	Paid      ChallengePaid // the challenge's Completion
	At        time.Time
}

// UserID implements Notification.
func (n ChallengeCompleted) UserID() string { return n.User }

func init() {
	for _, n := range []Notification{ChallengeMilestoneReached{}, ChallengeCompleted{}} {
		t := reflect.TypeOf(n)
		noteTypes[t.Name()] = t
	}
}

// trackChallenges counts ev toward the user's challenges on its metric
// that were active at the event's time, whether it arrives on time or late,
// enrolling the user in automatic ones it counts toward.
func (t *txn) trackChallenges(u *userRec, m *Metric, ev *validEvent, res *EventResult) error {
	at := ev.at.UnixNano()
	chals := &t.w.cat.chals
	for _, c := range chals.byMetric[m.Key] {
		if c.offAt(ev.at) {
			continue // dated while the challenge was inactive
		}
		i, in := u.s.challenge(c.ref)
		var uc userChallenge
		if in {
			uc = u.s.Chals[i]
		} else {
			if c.Enrollment != ChallengeAutomatic {
				continue
			}
			uc = c.participation(ev.at, true)
			if !inWindow(at, uc.From, uc.To) || !c.counts(m.Key, ev) {
				continue
			}
		}
		progress := slices.Clone(uc.Progress)
		changed := false
		if inWindow(at, uc.From, uc.To) {
			for j := range c.Objectives {
				o := &c.Objectives[j]
				if add := o.add(m.Key, ev.value, ev.Attributes); add > 0 && progress[j] < o.Target.Micros() {
					progress[j] += min(add, o.Target.Micros()-progress[j])
					changed = true
				}
			}
		}
		if !changed && in {
			continue
		}
		ch := ChallengeChange{Challenge: c.Key, Enrolled: !in}
		before := c.done(uc.Progress)
		uc.Progress = progress
		if err := t.settleChallenge(u, c, &uc, before, &ch); err != nil {
			return err
		}
		t.putParticipation(u, c, uc, in, i)
		res.Challenges = append(res.Challenges, ch)
	}
	return nil
}

// counts reports whether ev adds to an objective of c.
func (c *Challenge) counts(metric string, ev *validEvent) bool {
	for j := range c.Objectives {
		if c.Objectives[j].add(metric, ev.value, ev.Attributes) > 0 {
			return true
		}
	}
	return false
}

// participation is a new participation enrolled at at.
func (c *Challenge) participation(at time.Time, automatic bool) userChallenge {
	from, to := c.window(at, automatic)
	return userChallenge{Ref: c.ref, Enrolled: at.UnixNano(), From: from, To: to, Progress: make([]int64, len(c.Objectives))}
}

// putParticipation stores uc as the user's participation in c: at index i
// when in, else inserted with its marker.
func (t *txn) putParticipation(u *userRec, c *Challenge, uc userChallenge, in bool, i int) {
	if in {
		u.s.Chals[i] = uc
		return
	}
	u.s.Chals = slices.Insert(u.s.Chals, i, uc)
	t.writes = append(t.writes, write{store.Jobs, challengeMarker(c.Key, u.p.UID), binary.AppendVarint(nil, uc.Enrolled)})
}

// settleChallenge reports the progress of uc (whose objectives done before
// this change were before) and pays the milestones and the completion it
// newly reaches, recording them in uc.
func (t *txn) settleChallenge(u *userRec, c *Challenge, uc *userChallenge, before uint32, ch *ChallengeChange) error {
	done := c.done(uc.Progress)
	ch.Objectives = c.progressOf(uc.Progress, done)
	for j, o := range c.Objectives {
		if done&^before&(1<<j) != 0 {
			ch.Completed = append(ch.Completed, o.Key)
		}
	}
	for k, ms := range c.Milestones {
		if uc.Paid&(1<<k) != 0 || !c.reached(ms, done) {
			continue
		}
		paid, err := t.pay(u, ms.Pay, fmt.Sprintf("challenge %s milestone %d", c.Key, k))
		if err != nil {
			return fmt.Errorf("milestone %d of challenge %s: %w", k, c.Key, err)
		}
		uc.Paid |= 1 << k
		n := ChallengeMilestoneReached{User: u.p.ID, Challenge: c.Key, Milestone: k, Paid: paid, At: t.now}
		ch.Milestones = append(ch.Milestones, n)
		t.notes = append(t.notes, n)
	}
	if uc.Done == 0 && done == 1<<len(c.Objectives)-1 {
		paid, err := t.pay(u, c.Completion, "challenge "+c.Key+" completed")
		if err != nil {
			return fmt.Errorf("completion of challenge %s: %w", c.Key, err)
		}
		uc.Done = t.now.UnixNano()
		n := ChallengeCompleted{User: u.p.ID, Challenge: c.Key, Paid: paid, At: t.now}
		ch.Completion = &n
		t.notes = append(t.notes, n)
	}
	return nil
}

// progressOf reports progress per objective.
func (c *Challenge) progressOf(progress []int64, done uint32) []ObjectiveProgress {
	out := make([]ObjectiveProgress, len(c.Objectives))
	for j, o := range c.Objectives {
		p := AmountFromMicros(progress[j])
		out[j] = ObjectiveProgress{Key: o.Key, Progress: p, Target: o.Target, Complete: done&(1<<j) != 0}
		out[j].Waiting = !out[j].Complete && !p.Less(o.Target)
	}
	return out
}

// pay pays p to u, as a streak milestone pays (milestones.go): a part that
// cannot be paid (a reward out of stock, a locked achievement) is skipped
// and reported, so that an event is never refused for it; an error is a
// failure of the command (an overflow). reason goes to the award log.
func (t *txn) pay(u *userRec, p ChallengePayout, reason string) (ChallengePaid, error) {
	var out ChallengePaid
	cat := t.w.cat
	skip := func(what string, err error) { out.Skipped = append(out.Skipped, what+": "+err.Error()) }
	if p.Achievement != "" {
		st, res, err := completeAchievement(cat, u, p.Achievement, t.now)
		if err != nil {
			skip("achievement "+p.Achievement, err)
		} else {
			out.Achievement = p.Achievement
			u.s.Ach = st
			t.completed(u, res.Completions, t.achResults)
		}
	}
	if p.Reward != "" {
		r, ok := cat.rewards[p.Reward]
		if !ok || r.Status == StatusArchived {
			skip("reward "+p.Reward, ErrNotFound)
		} else if err := t.rewardGrantable(u, r, true); err != nil {
			skip("reward "+p.Reward, err)
		} else {
			c, err := t.grantReward(u, r, "", reason)
			if err != nil {
				return out, err
			}
			out.Reward, out.Claim, out.Code = p.Reward, c.Seq, c.Code
		}
	}
	if p.System != "" {
		if added, err := t.awardPoints(u, p.System, p.Points, reason); errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
			skip("points "+p.System, err)
		} else if err != nil {
			return out, err
		} else {
			out.System, out.Points = p.System, added
		}
	}
	return out, nil
}

// ---- Enrollment ----

type enrollArgs struct {
	Challenge string
	User      string
}

var challengeEnrollOp = newOp("challenge.enroll", func(t *txn, a enrollArgs) (ChallengeProgress, error) {
	c, ok := t.w.cat.chals.byKey[a.Challenge]
	if !ok || c.Status == StatusArchived {
		return ChallengeProgress{}, fmt.Errorf("challenge %s: %w", gamifytype.Quote(a.Challenge), ErrNotFound)
	}
	u, err := t.user(a.User, true)
	if err != nil {
		return ChallengeProgress{}, err
	}
	if i, in := u.s.challenge(c.ref); in {
		p := c.progressView(u.p.ID, u.s.Chals[i])
		p.AlreadyEnrolled = true
		return p, nil
	}
	if c.Status != StatusActive {
		return ChallengeProgress{}, fmt.Errorf("%w: challenge %s is %s", ErrConflict, gamifytype.Quote(c.Key), c.Status)
	}
	if c.Window == ChallengeFixed && !t.now.Before(c.End) {
		return ChallengeProgress{}, fmt.Errorf("%w: challenge %s ended at %s", ErrConflict, gamifytype.Quote(c.Key), c.End.Format(time.RFC3339))
	}
	i, _ := u.s.challenge(c.ref)
	uc := c.participation(t.now, false)
	t.putParticipation(u, c, uc, false, i)
	return c.progressView(u.p.ID, uc), nil
})

// Enroll makes user a participant of the challenge with key (creating the
// user on first sight). Enrolling again changes nothing and returns the
// participation with AlreadyEnrolled. Events count from the enrollment on
// (from Start for a fixed window enrolled before it). An unknown or
// archived challenge is ErrNotFound; an inactive one, or a fixed window
// past its End, is ErrConflict.
func (a ChallengesAPI) Enroll(ctx context.Context, key, user string) (ChallengeProgress, error) {
	if err := a.e.live(); err != nil {
		return ChallengeProgress{}, err
	}
	if err := validateUserID("User", user); err != nil {
		return ChallengeProgress{}, err
	}
	if gamifytype.ValidateKey("", key) != nil {
		return ChallengeProgress{}, fmt.Errorf("enroll in challenge %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	v, err := a.e.exec(ctx, a.e.now(), challengeEnrollOp.cmd(enrollArgs{Challenge: key, User: user}))
	if err != nil {
		return ChallengeProgress{}, fmt.Errorf("enroll %q in challenge %s: %w", user, gamifytype.Quote(key), err)
	}
	return v.(ChallengeProgress), nil
}

// eraseChallenges removes the markers of a user being erased (their
// participations go with their state record).
func (t *txn) eraseChallenges(u *userRec) {
	for _, uc := range u.s.Chals {
		if c, ok := t.w.cat.chals.byRef[uc.Ref]; ok {
			t.writes = append(t.writes, write{store.Jobs, challengeMarker(c.Key, u.p.UID), nil})
		}
	}
}

// checkChallenges reports a participation without its marker or the other
// way round, one of a challenge that does not exist, and progress beyond an
// objective's target or a milestone or completion recorded as paid that
// the progress does not reach.
func checkChallenges(tx *store.Tx, cat *catalog, report func(string, ...any)) error {
	if cat.chals.lastRef == 0 {
		return nil // no challenge was ever defined: no participation to check
	}
	type part struct {
		ref uint32
		uid uint64
	}
	markers := map[part]bool{}
	for _, c := range cat.chals.byKey {
		prefix := challengeMarkerPrefix(c.Key)
		if err := tx.Scan(store.Jobs, prefix, func(k, _ []byte) error {
			if len(k) != len(prefix)+8 {
				report("challenge %s: marker %x", c.Key, k)
				return nil
			}
			markers[part{c.ref, binary.BigEndian.Uint64(k[len(prefix):])}] = true
			return nil
		}); err != nil {
			return err
		}
	}
	err := tx.Scan(store.State, nil, func(k, v []byte) error {
		var s userState
		if len(k) != 8 || s.unmarshal(v) != nil {
			return nil // reported by the state checks
		}
		uid := binary.BigEndian.Uint64(k)
		for _, uc := range s.Chals {
			c, ok := cat.chals.byRef[uc.Ref]
			if !ok {
				report("uid %d: participation in challenge ref %d, which does not exist", uid, uc.Ref)
				continue
			}
			if !markers[part{uc.Ref, uid}] {
				report("challenge %s: uid %d takes part without a marker", c.Key, uid)
			}
			delete(markers, part{uc.Ref, uid})
			if len(uc.Progress) != len(c.Objectives) {
				report("challenge %s: uid %d has progress for %d objectives, not %d", c.Key, uid, len(uc.Progress), len(c.Objectives))
				continue
			}
			for j, o := range c.Objectives {
				if uc.Progress[j] < 0 || uc.Progress[j] > o.Target.Micros() {
					report("challenge %s: uid %d: objective %s progress %s is beyond 0 to its target", c.Key, uid, o.Key, AmountFromMicros(uc.Progress[j]))
				}
			}
			done := c.done(uc.Progress)
			for k, m := range c.Milestones {
				if uc.Paid&(1<<k) != 0 && !c.reached(m, done) {
					report("challenge %s: uid %d: milestone %d paid but not reached", c.Key, uid, k)
				}
			}
			if uc.Done != 0 && done != 1<<len(c.Objectives)-1 {
				report("challenge %s: uid %d: completion paid with objectives incomplete", c.Key, uid)
			}
		}
		return nil
	})
	for p := range markers {
		report("challenge ref %d: marker of uid %d, who does not take part", p.ref, p.uid)
	}
	return err
}
