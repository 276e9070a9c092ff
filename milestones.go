package gamify

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/streak"
)

// StreakMilestone is a length of a streak's runs (e.g. 7, 30, 100, 365)
// that pays, once per run: it completes a manual achievement, claims a
// reward for the user at no cost, and/or awards points. Milestones are part
// of their streak's definition (Streak.Milestones): they are created,
// patched and archived with it and pay only while it is active.
//
// A milestone follows the runs of the streak history, not the current
// length: a run pays the milestones it newly reaches, whatever the order
// its activities arrive in. A late event that repairs a gap pays what the
// repaired run now reaches; a late event that joins two runs pays only the
// lengths neither run had reached, and takes back the points of a milestone
// both had been paid, or that a run cut short by a moved freeze no longer
// reaches (docs/behaviour.md, "Streak milestones").
type StreakMilestone struct {
	Length int // the run length that pays, 1 to 2^20; each length once per streak
	// Achievement is a manual achievement completed at the milestone
	// (already held: nothing more happens).
	Achievement string
	// Reward is claimed for the user at no cost and past its PerUserLimit
	// (the claim counts toward the limit of later claims); its Inventory,
	// codes, status and expiry apply.
	Reward string
	// Points are awarded in System (boosts do not apply, as for manual
	// awards); both or neither are set.
	System string
	Points Amount
}

// maxMilestones bounds a streak's milestones.
const maxMilestones = 32

// validateMilestones reports every bad field of a streak's milestones.
func validateMilestones(ms []StreakMilestone) error {
	var errs []error
	if len(ms) > maxMilestones {
		return gamifytype.Invalid("Streak.Milestones", len(ms), fmt.Sprintf("must hold at most %d milestones", maxMilestones))
	}
	seen := map[int]bool{}
	for i, m := range ms {
		f := fmt.Sprintf("Streak.Milestones[%d]", i)
		switch {
		case m.Length < 1 || m.Length > 1<<20:
			errs = append(errs, gamifytype.Invalid(f+".Length", m.Length, "must be 1 to 2^20"))
		case seen[m.Length]:
			errs = append(errs, gamifytype.Invalid(f+".Length", m.Length, "is another milestone's length"))
		}
		seen[m.Length] = true
		errs = append(errs, validatePayout(f, ChallengePayout{Achievement: m.Achievement, Reward: m.Reward, System: m.System, Points: m.Points}))
		if m.Achievement == "" && m.Reward == "" && m.System == "" {
			errs = append(errs, gamifytype.Invalid(f, m.Length, "must pay an achievement, a reward or points"))
		}
	}
	return errors.Join(errs...)
}

// checkMilestoneRefs verifies the references of the milestones of s that
// old does not hold already (an achievement locked since does not block
// edits of other fields): a manual achievement and a reward not archived,
// an active points system.
func (c *catalog) checkMilestoneRefs(old, s *Streak) error {
	var errs []error
	for i, m := range s.Milestones {
		if old != nil && slices.Contains(old.Milestones, m) {
			continue
		}
		f := fmt.Sprintf("Streak.Milestones[%d]", i)
		if m.Achievement != "" {
			if a, ok := c.achievements[m.Achievement]; !ok || a.Status == StatusArchived || a.Kind != AchievementManual {
				errs = append(errs, gamifytype.Invalid(f+".Achievement", m.Achievement, "is not a manual achievement"))
			}
		}
		if m.Reward != "" {
			if r, ok := c.rewards[m.Reward]; !ok || r.Status == StatusArchived {
				errs = append(errs, gamifytype.Invalid(f+".Reward", m.Reward, "is not a reward"))
			}
		}
		if m.System != "" {
			if p, ok := c.points.systems[m.System]; !ok || p.Status != StatusActive {
				errs = append(errs, gamifytype.Invalid(f+".System", m.System, "is not an active points system"))
			}
		}
	}
	return errors.Join(errs...)
}

// MilestoneReached reports a streak milestone that a run of a user's
// streak reached, with what it paid.
type MilestoneReached struct {
	Streak string
	Length int
	// RunStart is the first day of the run's first period when it reached
	// the milestone (a later late event may extend the run backwards).
	RunStart    Date
	Achievement string // the achievement completed (or already held)
	Reward      string
	Claim       uint64 // the reward claim's sequence (its id)
	Code        string // the claim's code, if any
	System      string
	Points      Amount // negative when Reversed
	// Reversed reports a milestone taken back: a late event joined the run
	// to an older one that had been paid the same milestone, or cut it
	// shorter than the milestone (it moved a freeze to an earlier gap), so
	// the points this run was paid (Points, negative) are taken back from System, and
	// its reward claim (Claim, Reward; Code left out) is named as the extra
	// one. The achievement and the claim stay (a claim's code or goods
	// cannot be recalled); the older run's payment is the one the run keeps.
	Reversed bool `json:",omitempty"`
	// Skipped says what could not be paid, one line each (e.g. the reward
	// out of stock, the achievement locked); the rest was paid. A skipped
	// part is not paid later.
	Skipped []string `json:",omitempty"`
}

// StreakMilestoneReached is sent when a run of a user's streak reaches a
// milestone.
type StreakMilestoneReached struct {
	User string
	MilestoneReached
	At time.Time
}

// UserID implements Notification.
func (n StreakMilestoneReached) UserID() string { return n.User }

// StreakMilestoneReversed is sent when a late event joins a run to an older
// one that had been paid the same milestone, or cuts a paid run shorter
// than the milestone (a freeze moved to an earlier gap): the points this run was paid
// are taken back (Points, negative) and its reward claim (Claim, Reward)
// is the extra one, which stays made; a game that can revoke what it
// handed out (a coupon, goods not yet sent) acts on it. It is a record for
// the game, not a message for the user: it goes to control-group and
// opted-out users too.
type StreakMilestoneReversed struct {
	User string
	MilestoneReached
	At time.Time
}

// UserID implements Notification.
func (n StreakMilestoneReversed) UserID() string { return n.User }

// payMilestones pays the milestones of s that the changed runs newly reach
// (Reach.Crossed: once per run, a joined run never twice) and takes back
// the points of a milestone two joined runs were both paid (Reach.Repaid)
// or that a run cut short no longer reaches (cutPaid).
// A part that cannot be paid (a reward out of stock, a locked achievement)
// is skipped and reported, so that an event is never refused for it; an
// error is a failure of the command (an overflow).
func (t *txn) payMilestones(u *userRec, s *Streak, reached []streak.Reach, forgive bool) error {
	for _, r := range reached {
		if len(r.Starts) > 1 || len(r.Starts) == 1 && r.Starts[0] != r.Start { // a join, or a run extended backwards
			if err := t.joinPaid(u, s, r); err != nil {
				return err
			}
		}
		if err := t.cutPaid(u, s, r, forgive); err != nil {
			return err
		}
		for _, m := range s.Milestones {
			if !r.Crossed(m.Length) {
				continue
			}
			mr := MilestoneReached{Streak: s.Key, Length: m.Length, RunStart: Date(r.Start)}
			if err := t.payMilestone(u, m, &mr); err != nil {
				return fmt.Errorf("milestone %d of streak %s: %w", m.Length, s.Key, err)
			}
			if mr.Points.Sign() > 0 || mr.Claim != 0 {
				p := milestonePaid{Streak: s.ref, Start: dateKey(r.Start), Length: uint32(m.Length), Claim: mr.Claim, At: t.attributedAt().UnixNano()}
				if mr.Points.Sign() > 0 {
					p.System, p.Points = t.w.cat.points.systems[mr.System].ref, mr.Points
				}
				if mr.Claim != 0 {
					p.Reward = t.w.cat.rewards[mr.Reward].ref
				}
				u.s.Paid = putPaid(u.s.Paid, p)
			}
			t.reachedMilestone(u, mr)
		}
	}
	u.s.Paid = prunePaid(u.s.Paid, t.now)
	return nil
}

func (t *txn) reachedMilestone(u *userRec, mr MilestoneReached) {
	if t.milestones != nil {
		*t.milestones = append(*t.milestones, mr)
	}
	if mr.Reversed {
		t.notes = append(t.notes, StreakMilestoneReversed{User: u.p.ID, MilestoneReached: mr, At: t.now})
	} else {
		t.notes = append(t.notes, StreakMilestoneReached{User: u.p.ID, MilestoneReached: mr, At: t.now})
	}
}

// joinPaid moves what the runs r joins were paid to the run they form (its
// start), and takes back the points of each milestone paid to a joined run
// other than the oldest that reached it: the run is owed each once.
func (t *txn) joinPaid(u *userRec, s *Streak, r streak.Reach) error {
	start := dateKey(r.Start)
	var moved []milestonePaid
	for i, ps := range r.Starts {
		k := dateKey(ps)
		lo, hi := paidRange(u.s.Paid, s.ref, k)
		if lo == hi {
			continue
		}
		for _, p := range u.s.Paid[lo:hi] {
			if slices.Contains(r.Repaid(int(p.Length)), i) {
				if err := t.takeBack(u, s, r, p); err != nil {
					return err
				}
				continue
			}
			p.Start = start
			moved = append(moved, p)
		}
		u.s.Paid = slices.Delete(slices.Clone(u.s.Paid), lo, hi)
	}
	for _, p := range moved {
		if _, held := findPaid(u.s.Paid, p); held {
			// Two records for one length (a part shorter than what it was
			// paid, after a freeze moved): the run keeps one.
			if err := t.takeBack(u, s, r, p); err != nil {
				return err
			}
			continue
		}
		u.s.Paid = putPaid(u.s.Paid, p)
	}
	return nil
}

// cutPaid takes back the points of each milestone paid to the run r now
// describes that is longer than the run: a late activity moved a freeze to
// an earlier gap and cut the run short, and what it was paid goes with the
// length it lost, as if the activity had arrived on time (the part cut off
// is a run of its own, paid what it reaches). If forgive (a restore moved
// the run's latest periods into the run it gave back) the records are only
// dropped: a restore takes nothing back.
func (t *txn) cutPaid(u *userRec, s *Streak, r streak.Reach, forgive bool) error {
	lo, hi := paidRange(u.s.Paid, s.ref, dateKey(r.Start))
	var cut []milestonePaid
	for _, p := range u.s.Paid[lo:hi] {
		if int(p.Length) > r.Length {
			cut = append(cut, p)
		}
	}
	if len(cut) == 0 {
		return nil
	}
	u.s.Paid = slices.DeleteFunc(slices.Clone(u.s.Paid), func(p milestonePaid) bool {
		return p.Streak == s.ref && p.Start == dateKey(r.Start) && int(p.Length) > r.Length
	})
	for _, p := range cut {
		if forgive {
			continue
		}
		if err := t.takeBack(u, s, r, p); err != nil {
			return err
		}
	}
	return nil
}

// takeBack takes the points p records back from the user and names the
// reward claim it records (a claim stays: what it handed out cannot be
// recalled, but the game can act on it), reported as a Reversed milestone
// and a StreakMilestoneReversed note. The system's status is judged at the
// paying event's time, as the payment was: one inactive now gives back what
// it paid while active; one archived since is skipped and reported
// (nothing is taken back later).
func (t *txn) takeBack(u *userRec, s *Streak, r streak.Reach, p milestonePaid) error {
	mr := MilestoneReached{Streak: s.Key, Length: int(p.Length), RunStart: Date(r.Start), Reversed: true, Claim: p.Claim}
	if p.Claim != 0 {
		for k, rw := range t.w.cat.rewards {
			if rw.ref == p.Reward {
				mr.Reward = k
				break
			}
		}
	}
	if p.Points.Sign() > 0 {
		sys := t.w.cat.points.systemByRef[p.System]
		switch {
		case sys == nil:
			mr.Skipped = []string{fmt.Sprintf("points: system %d: %v", p.System, ErrNotFound)}
		default:
			// Taken back where it was paid: the boards' run of the event that paid it.
			at := t.eventAt
			t.eventAt = time.Unix(0, p.At).UTC()
			_, err := t.awardPoints(u, sys.Key, p.Points.Neg(), fmt.Sprintf("milestone %s %d taken back", s.Key, p.Length))
			t.eventAt = at
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
				mr.Skipped = []string{"points " + sys.Key + ": " + err.Error()}
			} else if err != nil {
				return fmt.Errorf("milestone %d of streak %s: %w", p.Length, s.Key, err)
			} else {
				mr.System, mr.Points = sys.Key, p.Points.Neg()
			}
		}
	}
	t.reachedMilestone(u, mr)
	return nil
}

func (t *txn) payMilestone(u *userRec, m StreakMilestone, mr *MilestoneReached) error {
	p, err := t.pay(u, ChallengePayout{Achievement: m.Achievement, Reward: m.Reward, System: m.System, Points: m.Points},
		fmt.Sprintf("milestone %s %d", mr.Streak, m.Length))
	mr.Achievement, mr.Reward, mr.Claim, mr.Code, mr.System, mr.Points, mr.Skipped = p.Achievement, p.Reward, p.Claim, p.Code, p.System, p.Points, p.Skipped
	return err
}

// milestonePaid records the points and the claim a milestone paid a run of
// a user's streak, for as long as a late event could still join the run to an
// older one paid the same milestone (which then takes these back).
type milestonePaid struct {
	Streak uint32 // the streak's ref
	Start  int32  // the run's first day (dateKey)
	Length uint32
	System uint32 // the points system's ref; 0 with Points for none
	Points Amount
	Reward uint32 // the reward's ref; 0 with Claim for none
	Claim  uint64 // the claim's sequence
	At     int64  // Unix ns the award was attributed to (the paying event's time)
}

// dateKey orders dates as integers.
func dateKey(d streak.Date) int32 { return int32(d.Year*512 + int(d.Month)*32 + d.Day) }

func comparePaid(a milestonePaid, b milestonePaid) int {
	if c := cmp.Compare(a.Streak, b.Streak); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	return cmp.Compare(a.Length, b.Length)
}

func findPaid(ps []milestonePaid, p milestonePaid) (int, bool) {
	return slices.BinarySearchFunc(ps, p, comparePaid)
}

// paidRange returns the span of ps recording the run of streak ref that
// starts on day start.
func paidRange(ps []milestonePaid, ref uint32, start int32) (lo, hi int) {
	lo, _ = findPaid(ps, milestonePaid{Streak: ref, Start: start})
	hi, _ = findPaid(ps, milestonePaid{Streak: ref, Start: start + 1})
	return lo, hi
}

// putPaid returns ps with p in place (a copy: records are shared with the
// committed version of the user).
func putPaid(ps []milestonePaid, p milestonePaid) []milestonePaid {
	i, ok := findPaid(ps, p)
	ps = slices.Clone(ps)
	if ok {
		ps[i] = p
		return ps
	}
	return slices.Insert(ps, i, p)
}

// paidHorizon is how long a run's record is kept after its first day: a
// late event joins a run to an older one by filling a gap before the run,
// at most streak.MaxLateDays back (plus a month's period and its grace).
const paidHorizon = streak.MaxLateDays + 40

// prunePaid drops the records of runs that began too long ago to be
// joined to an older run.
func prunePaid(ps []milestonePaid, now time.Time) []milestonePaid {
	return pruneRuns(ps, now, func(p milestonePaid) int32 { return p.Start })
}

// pruneRuns drops the records (of milestones, of streak triggers) of runs
// whose first day, start(p), is more than paidHorizon days before now; ps
// is the committed slice, copied before it changes.
func pruneRuns[P any](ps []P, now time.Time, start func(P) int32) []P {
	if len(ps) == 0 {
		return ps
	}
	oldest := dateKey(streak.DateOf(now.AddDate(0, 0, -paidHorizon)))
	old := func(p P) bool { return start(p) < oldest }
	if !slices.ContainsFunc(ps, old) {
		return ps
	}
	ps = slices.DeleteFunc(slices.Clone(ps), old)
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// appendPaid writes the milestone records section (userState.appendTrailing).
func appendPaid(b []byte, ps []milestonePaid) []byte {
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(p.Streak))
		b = binary.AppendVarint(b, int64(p.Start))
		b = binary.AppendUvarint(b, uint64(p.Length))
		b = binary.AppendUvarint(b, uint64(p.System))
		b = binary.AppendVarint(b, p.Points.Micros())
		b = binary.AppendUvarint(b, uint64(p.Reward))
		b = binary.AppendUvarint(b, p.Claim)
		b = binary.AppendVarint(b, p.At)
	}
	return b
}

func decodePaid(r *decoder) ([]milestonePaid, error) {
	n := r.uvarint()
	if n == 0 && len(r.b) > 0 {
		return nil, nil // none: a later section follows
	}
	if n == 0 || n > uint64(len(r.b)) {
		return nil, errCorruptState
	}
	ps := make([]milestonePaid, n)
	for i := range ps {
		ps[i] = milestonePaid{Streak: uint32(r.uvarint()), Start: int32(r.varint()), Length: uint32(r.uvarint()),
			System: uint32(r.uvarint()), Points: AmountFromMicros(r.varint()), Reward: uint32(r.uvarint()), Claim: r.uvarint(), At: r.varint()}
		if i > 0 && comparePaid(ps[i-1], ps[i]) >= 0 {
			return nil, errCorruptState // out of order or repeated
		}
	}
	return ps, nil
}

// completeAchievement completes the manual achievement key for u as
// achievement.Complete does (a held one changes nothing).
func completeAchievement(cat *catalog, u *userRec, key string, now time.Time) (achievement.State, achievement.Result, error) {
	if d, ok := cat.achievements[key]; !ok || d.Status == StatusArchived {
		return u.s.Ach, achievement.Result{}, ErrNotFound
	}
	return achievement.Complete(cat.achCat, u.s.Ach, key, u.p.Attributes, now)
}

// awardPoints awards amount in system to u with a reason, as
// PointsAPI.Award does: an unknown or archived system is ErrNotFound, an
// inactive one ErrConflict, both with nothing changed. Inactive is judged
// at the time the award is attributed to (a milestone or payout of a late
// event dated while the system was active pays).
//
// A negative amount takes points back (points.TakeBack). It returns what
// was added (the cap may cut an award).
func (t *txn) awardPoints(u *userRec, system string, amount Amount, reason string) (Amount, error) {
	award := points.Award
	if amount.Sign() < 0 {
		award, amount = points.TakeBack, amount.Neg()
	}
	return t.givePoints(u, system, func(r points.Rules, st points.State) (points.State, points.Effects, error) {
		return award(r, st, amount, reason)
	})
}

// givePoints runs the transition f (an award or a take-back, no trigger
// fired) on u's points in system, judged as awardPoints says, and records
// it. It returns what was added.
func (t *txn) givePoints(u *userRec, system string, f func(points.Rules, points.State) (points.State, points.Effects, error)) (Amount, error) {
	sys, ok := t.w.cat.points.systems[system]
	if !ok || sys.Status == StatusArchived {
		return Amount{}, fmt.Errorf("points system %s: %w", system, ErrNotFound)
	}
	r := t.w.cat.points.rules[system]
	if r == nil && !gamifytype.InAny(sys.Inactive, t.attributedAt()) {
		r = t.w.cat.points.held[system] // active at the award's time
	}
	if r == nil {
		return Amount{}, fmt.Errorf("points system %s is %s: %w", system, sys.Status, ErrConflict)
	}
	i, had := u.s.pointsOf(sys.ref)
	var st points.State
	if had {
		st = u.s.Points[i].St
	}
	ns, fx, err := f(*r, st)
	if err != nil {
		return Amount{}, err
	}
	if !had {
		u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
	}
	u.s.Points[i].St = ns
	return fx.Added, t.recordPoints(u, sys, fx, "")
}
