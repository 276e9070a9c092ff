package gamify

import (
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
// lengths neither run had reached (docs/behaviour.md, "Streak milestones").
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
	Points      Amount
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

// payMilestones pays the milestones of s that the changed runs newly reach
// (Reach.Crossed: once per run, a joined run never twice). A part that
// cannot be paid (a reward out of stock, a locked achievement) is skipped
// and reported, so that an event is never refused for it; an error is a
// failure of the command (an overflow).
func (t *txn) payMilestones(u *userRec, s *Streak, reached []streak.Reach) error {
	for _, r := range reached {
		for _, m := range s.Milestones {
			if !r.Crossed(m.Length) {
				continue
			}
			mr := MilestoneReached{Streak: s.Key, Length: m.Length, RunStart: Date(r.Start)}
			if err := t.payMilestone(u, m, &mr); err != nil {
				return fmt.Errorf("milestone %d of streak %s: %w", m.Length, s.Key, err)
			}
			if t.milestones != nil {
				*t.milestones = append(*t.milestones, mr)
			}
			t.notes = append(t.notes, StreakMilestoneReached{User: u.p.ID, MilestoneReached: mr, At: t.now})
		}
	}
	return nil
}

func (t *txn) payMilestone(u *userRec, m StreakMilestone, mr *MilestoneReached) error {
	p, err := t.pay(u, ChallengePayout{Achievement: m.Achievement, Reward: m.Reward, System: m.System, Points: m.Points},
		fmt.Sprintf("milestone %s %d", mr.Streak, m.Length))
	mr.Achievement, mr.Reward, mr.Claim, mr.Code, mr.System, mr.Points, mr.Skipped = p.Achievement, p.Reward, p.Claim, p.Code, p.System, p.Points, p.Skipped
	return err
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
// inactive one ErrConflict, both with nothing changed.
func (t *txn) awardPoints(u *userRec, system string, amount Amount, reason string) error {
	sys, ok := t.w.cat.points.systems[system]
	if !ok || sys.Status == StatusArchived {
		return fmt.Errorf("points system %s: %w", system, ErrNotFound)
	}
	r := t.w.cat.points.rules[system]
	if r == nil {
		return fmt.Errorf("points system %s is %s: %w", system, sys.Status, ErrConflict)
	}
	i, had := u.s.pointsOf(sys.ref)
	var st points.State
	if had {
		st = u.s.Points[i].St
	}
	ns, fx, err := points.Award(*r, st, amount, reason)
	if err != nil {
		return err
	}
	if !had {
		u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
	}
	u.s.Points[i].St = ns
	return t.recordPoints(u, sys, fx, "")
}
