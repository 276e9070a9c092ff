package gamify

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/streak"
)

// RewardGrants are what a reward gives besides its code, in the claim's own
// command: all of them or, when one cannot be given, none and no claim
// (see Claim). Any reward type may carry them; a RewardBundle gives only
// them.
type RewardGrants struct {
	// Freezes adds freezes to the user's streaks. A grant that would take
	// the user past the streak's Freezes.Max refuses the whole claim
	// (ErrConflict): a user at the maximum is not sold a freeze they cannot
	// hold.
	Freezes []FreezeGrant `json:",omitempty"`
	// Boosts gives the user a per-user boost of another points system from
	// the claim for Duration.
	Boosts []BoostGrant `json:",omitempty"`
	// Points awards points in another points system (boosts do not apply,
	// as for manual awards).
	Points []PointsGrant `json:",omitempty"`
	// Achievements completes manual achievements; one the user holds
	// already changes nothing.
	Achievements []string `json:",omitempty"`
}

// FreezeGrant adds Count (1–100) freezes to the user's Streak.
type FreezeGrant struct {
	Streak string
	Count  int
}

// BoostGrant is a per-user boost of Multiplier ((0, 100), not 1) in System
// for Duration (positive; JSON in nanoseconds as for Reward.Duration).
type BoostGrant struct {
	System     string
	Multiplier Amount
	Duration   time.Duration
}

// PointsGrant awards Amount (positive) in System.
type PointsGrant struct {
	System string
	Amount Amount
}

// RewardBundle rewards give only their Grants: no code.
const RewardBundle RewardType = "bundle"

// RewardUnlimited as Reward.PerUserLimit lets a user claim a reward any
// number of times.
const RewardUnlimited = -1

// maxRewardGrants bounds the grants of a reward.
const maxRewardGrants = 16

func (g *RewardGrants) empty() bool {
	return len(g.Freezes) == 0 && len(g.Boosts) == 0 && len(g.Points) == 0 && len(g.Achievements) == 0
}

func (g RewardGrants) clone() RewardGrants {
	return RewardGrants{Freezes: slices.Clone(g.Freezes), Boosts: slices.Clone(g.Boosts), Points: slices.Clone(g.Points), Achievements: slices.Clone(g.Achievements)}
}

// validate reports every bad field of a reward's grants.
func (g *RewardGrants) validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if n := len(g.Freezes) + len(g.Boosts) + len(g.Points) + len(g.Achievements); n > maxRewardGrants {
		return gamifytype.Invalid("Reward.Grants", n, fmt.Sprintf("must hold at most %d grants", maxRewardGrants))
	}
	// key checks a key and that seen does not hold it yet.
	key := func(seen map[string]bool, field, k string) {
		add(gamifytype.ValidateKey(field, k))
		if seen[k] {
			add(gamifytype.Invalid(field, k, "is granted twice"))
		}
		seen[k] = true
	}
	streaks := map[string]bool{}
	for i, f := range g.Freezes {
		field := fmt.Sprintf("Reward.Grants.Freezes[%d]", i)
		key(streaks, field+".Streak", f.Streak)
		if f.Count < 1 || f.Count > 100 {
			add(gamifytype.Invalid(field+".Count", f.Count, "must be 1 to 100"))
		}
	}
	for i, b := range g.Boosts {
		field := fmt.Sprintf("Reward.Grants.Boosts[%d]", i)
		add(gamifytype.ValidateKey(field+".System", b.System))
		if b.Multiplier.Sign() <= 0 || !b.Multiplier.Less(AmountFromInt(100)) || b.Multiplier == AmountFromInt(1) {
			add(gamifytype.Invalid(field+".Multiplier", b.Multiplier, "must be in (0, 100) and not 1"))
		}
		add(checkBoostDuration(field+".Duration", b.Duration))
	}
	systems := map[string]bool{}
	for i, p := range g.Points {
		field := fmt.Sprintf("Reward.Grants.Points[%d]", i)
		key(systems, field+".System", p.System)
		if p.Amount.Sign() <= 0 {
			add(gamifytype.Invalid(field+".Amount", p.Amount, "must be positive"))
		}
	}
	achs := map[string]bool{}
	for i, a := range g.Achievements {
		key(achs, fmt.Sprintf("Reward.Grants.Achievements[%d]", i), a)
	}
	return errors.Join(errs...)
}

// checkGrantRefs verifies the references of the grants of r that old does
// not hold already: streaks not archived, active points systems, manual
// achievements not archived.
func (c *catalog) checkGrantRefs(old, r *Reward) error {
	var errs []error
	var og RewardGrants
	if old != nil {
		og = old.Grants
	}
	for i, f := range r.Grants.Freezes {
		if s, ok := c.streaks[f.Streak]; !slices.ContainsFunc(og.Freezes, func(o FreezeGrant) bool { return o.Streak == f.Streak }) && (!ok || s.Status == StatusArchived) {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Reward.Grants.Freezes[%d].Streak", i), f.Streak, "is not a streak"))
		}
	}
	system := func(field, key string, had bool) {
		if s, ok := c.points.systems[key]; !had && (!ok || s.Status != StatusActive) {
			errs = append(errs, gamifytype.Invalid(field, key, "is not an active points system"))
		}
	}
	for i, b := range r.Grants.Boosts {
		system(fmt.Sprintf("Reward.Grants.Boosts[%d].System", i), b.System, slices.ContainsFunc(og.Boosts, func(o BoostGrant) bool { return o.System == b.System }))
	}
	for i, p := range r.Grants.Points {
		system(fmt.Sprintf("Reward.Grants.Points[%d].System", i), p.System, slices.ContainsFunc(og.Points, func(o PointsGrant) bool { return o.System == p.System }))
	}
	for i, k := range r.Grants.Achievements {
		if a, ok := c.achievements[k]; !slices.Contains(og.Achievements, k) && (!ok || a.Status == StatusArchived || a.Kind != AchievementManual) {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Reward.Grants.Achievements[%d]", i), k, "is not a manual achievement"))
		}
	}
	return errors.Join(errs...)
}

// bundleGrantable checks, changing nothing, that every grant of r can be
// given to u now.
func (t *txn) bundleGrantable(u *userRec, r *Reward) error {
	cat := t.w.cat
	g := &r.Grants
	for _, f := range g.Freezes {
		s, err := cat.usableStreak(f.Streak)
		if err != nil {
			return err
		}
		st, _, err := t.grantFreezes(u, s, f.Count)
		if err != nil {
			return err
		}
		d := s.personalized(&u.p)
		if held := streak.View(d, st, t.now, t.w.userLocation(&u.p)).Freezes; held > s.Freezes.Max {
			return fmt.Errorf("%w: %q would hold %d freezes of streak %s, more than its Max of %d", ErrConflict, u.p.ID, held, s.Key, s.Freezes.Max)
		}
	}
	active := func(system string) error {
		sys, ok := cat.points.systems[system]
		switch {
		case !ok || sys.Status == StatusArchived:
			return fmt.Errorf("points system %s: %w", system, ErrNotFound)
		case cat.points.rules[system] == nil:
			return fmt.Errorf("points system %s is %s: %w", system, sys.Status, ErrConflict)
		}
		return nil
	}
	for _, b := range g.Boosts {
		if err := active(b.System); err != nil {
			return err
		}
	}
	for _, p := range g.Points {
		if err := active(p.System); err != nil {
			return err
		}
	}
	for _, k := range g.Achievements {
		if _, _, err := completeAchievement(cat, u, k, t.now); err != nil {
			return fmt.Errorf("achievement %s: %w", k, err)
		}
	}
	return nil
}

// grantFreezes returns u's state of s after n freeze grants, changing
// nothing.
func (t *txn) grantFreezes(u *userRec, s *Streak, n int) (streak.State, streak.Effects, error) {
	var st streak.State
	if j, ok := u.s.streak(s.ref); ok {
		st = u.s.Streaks[j].St
	}
	d, loc := s.personalized(&u.p), t.w.userLocation(&u.p)
	var all streak.Effects
	for range n {
		var fx streak.Effects
		var err error
		if st, fx, err = streak.GrantFreeze(d, st, t.now, loc); err != nil {
			return st, all, err
		}
		all.Notifications = append(all.Notifications, fx.Notifications...)
		all.Transitions = append(all.Transitions, fx.Transitions...)
		all.Reached = append(all.Reached, fx.Reached...)
	}
	return st, all, nil
}

// grantBundle gives u the grants of r, which bundleGrantable passed.
func (t *txn) grantBundle(u *userRec, r *Reward, c *Claim) error {
	g := &r.Grants
	if g.empty() {
		return nil
	}
	cat := t.w.cat
	for _, f := range g.Freezes {
		s, err := cat.usableStreak(f.Streak)
		if err != nil {
			return err
		}
		st, fx, err := t.grantFreezes(u, s, f.Count)
		if err != nil {
			return err
		}
		if err := t.setStreak(u, s, st, &fx, t.w.userLocation(&u.p), streak.RetainedPeriods(s.def.Frequency)+1); err != nil {
			return err
		}
	}
	for i, b := range g.Boosts {
		t.addClaimBoost(Boost{Key: fmt.Sprintf("claim-%s-%d-%d", r.Key, t.seq+1, i), System: b.System, Name: r.Name,
			User: u.p.ID, Start: t.now, End: t.now.Add(b.Duration), Multiplier: b.Multiplier})
	}
	for _, p := range g.Points {
		if _, err := t.awardPoints(u, p.System, p.Amount, "reward "+r.Key); err != nil {
			return err
		}
	}
	for _, k := range g.Achievements {
		st, res, err := completeAchievement(cat, u, k, t.now)
		if err != nil {
			return fmt.Errorf("achievement %s: %w", k, err)
		}
		u.s.Ach = st
		t.completed(u, res.Completions, nil)
	}
	c.Grants = g.clone()
	return nil
}
