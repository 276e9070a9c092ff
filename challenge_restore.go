package gamify

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Import gives a user a participation of an export (gamify import): p as
// a read returned it, stored as given without paying anything or sending
// notifications (what it paid is carried by its own ledger lines). p is
// checked against the challenge: Challenge and User as called, the
// objectives' keys and targets in order with progress from 0 to the
// target, the window the challenge's kind gives (End for a fixed one, Days
// after WindowStart for a rolling one, none for a perpetual one), paid
// milestones and CompletedAt reached by the objectives complete. It returns
// how many participations it stored: 1, or 0 when the user holds the same
// one already (an import run again); another one is ErrConflict. An
// unknown or archived challenge or an unknown user is ErrNotFound.
func (a ChallengesAPI) Import(ctx context.Context, key, user string, p ChallengeProgress) (int, error) {
	if err := checkTimes("ChallengeProgress.", namedTime{"EnrolledAt", p.EnrolledAt}, namedTime{"WindowStart", p.WindowStart},
		namedTime{"WindowEnd", p.WindowEnd}, namedTime{"CompletedAt", p.CompletedAt}); err != nil {
		return 0, err
	}
	p.EnrolledAt, p.WindowStart, p.WindowEnd, p.CompletedAt = p.EnrolledAt.UTC(), p.WindowStart.UTC(), p.WindowEnd.UTC(), p.CompletedAt.UTC()
	p.AlreadyEnrolled = false
	v, err := a.e.exec(ctx, a.e.now(), importChallengeOp.cmd(importChallengeArgs{Challenge: key, User: user, Progress: p}))
	if err != nil {
		return 0, fmt.Errorf("import challenge %s for %s: %w", gamifytype.Quote(key), gamifytype.Quote(user), err)
	}
	return v.(int), nil
}

type importChallengeArgs struct {
	Challenge, User string
	Progress        ChallengeProgress
}

// The op keeps its logged name from before Import was so called.
var importChallengeOp = newOp("challenge.restore", func(t *txn, a importChallengeArgs) (int, error) {
	c, ok := t.w.cat.chals.byKey[a.Challenge]
	if !ok || c.Status == StatusArchived {
		return 0, fmt.Errorf("challenge %s: %w", gamifytype.Quote(a.Challenge), ErrNotFound)
	}
	u, err := t.importUser(a.User)
	if err != nil {
		return 0, err
	}
	uc, err := c.imported(u.p.ID, a.Progress)
	if err != nil {
		return 0, err
	}
	i, in := u.s.challenge(c.ref)
	if in {
		if !reflect.DeepEqual(c.progressView(u.p.ID, u.s.Chals[i]), c.progressView(u.p.ID, uc)) {
			return 0, fmt.Errorf("%w: %q holds another participation in challenge %s", ErrConflict, u.p.ID, gamifytype.Quote(c.Key))
		}
		return 0, nil
	}
	t.putParticipation(u, c, uc, false, i)
	return 1, nil
})

// importUser returns the user an import names: one not found is
// ErrNotFound (an import creates no user).
func (t *txn) importUser(id string) (*userRec, error) {
	u, err := t.user(id, false)
	if err == nil && u == nil {
		err = fmt.Errorf("user %s: %w", gamifytype.Quote(id), ErrNotFound)
	}
	return u, err
}

// imported checks p, a participation of user, and returns it as stored.
func (c *Challenge) imported(user string, p ChallengeProgress) (userChallenge, error) {
	const f = "ChallengeProgress"
	bad := func(field string, v any, why string) (userChallenge, error) {
		return userChallenge{}, gamifytype.Invalid(f+"."+field, v, why)
	}
	switch {
	case p.Challenge != c.Key:
		return bad("Challenge", p.Challenge, "must be the challenge imported")
	case p.User != user:
		return bad("User", p.User, "must be the user imported")
	case p.EnrolledAt.IsZero() || p.WindowStart.IsZero():
		return bad("EnrolledAt", p.EnrolledAt, "and WindowStart are required")
	case len(p.Objectives) != len(c.Objectives):
		return bad("Objectives", len(p.Objectives), fmt.Sprintf("must hold the challenge's %d objectives", len(c.Objectives)))
	}
	end := time.Time{}
	switch c.Window {
	case ChallengeFixed:
		end = c.End
	case ChallengeRolling:
		end = p.WindowStart.Add(time.Duration(c.Days) * 24 * time.Hour)
	}
	if !p.WindowEnd.Equal(end) {
		return bad("WindowEnd", p.WindowEnd, "is not the end the challenge's window gives")
	}
	uc := userChallenge{Ref: c.ref, Enrolled: p.EnrolledAt.UnixNano(), From: p.WindowStart.UnixNano(), Progress: make([]int64, len(c.Objectives))}
	if !end.IsZero() {
		uc.To = end.UnixNano()
	}
	for j, o := range p.Objectives {
		want := c.Objectives[j]
		field := fmt.Sprintf("Objectives[%d]", j)
		switch {
		case o.Key != want.Key || o.Target != want.Target:
			return bad(field+".Key", o.Key, fmt.Sprintf("must be objective %s with its target", gamifytype.Quote(want.Key)))
		case o.Progress.Sign() < 0 || want.Target.Less(o.Progress):
			return bad(field+".Progress", o.Progress, "must be from 0 to the target")
		}
		uc.Progress[j] = o.Progress.Micros()
	}
	done := c.done(uc.Progress)
	for k, m := range p.Milestones {
		field := fmt.Sprintf("Milestones[%d]", k)
		switch {
		case m < 0 || m >= len(c.Milestones) || (k > 0 && m <= p.Milestones[k-1]):
			return bad(field, m, "must be milestone indexes, ascending")
		case !c.reached(c.Milestones[m], done):
			return bad(field, m, "is a milestone the progress has not reached")
		}
		uc.Paid |= 1 << m
	}
	if !p.CompletedAt.IsZero() {
		if done != 1<<len(c.Objectives)-1 {
			return bad("CompletedAt", p.CompletedAt, "is set but an objective is not complete")
		}
		uc.Done = p.CompletedAt.UnixNano()
	}
	if p.Complete != bits.OnesCount32(done) || !slices.Equal(c.progressOf(uc.Progress, done), p.Objectives) {
		return bad("Complete", p.Complete, "and the objectives' Complete and Waiting must be what the progress gives")
	}
	return uc, nil
}

// ImportClaim gives a user a reward claim that a payout of the challenge
// with key made, from an export (gamify import): c as Users().Claims read
// it, of which Reward, Payout and IdempotencyKey are used. Payout must be one of
// the challenge's ("challenge KEY milestone N", "challenge KEY completed")
// that the user's participation has paid, so Import the participation
// first; IdempotencyKey is required, the key of the import (gamify import uses
// the line's). The claim is made again as the payout made it: free, past
// PerUserLimit but counted toward it and the Inventory, with a new code and
// the reward's grants, at the call's time, without notifications; the
// payout's points and achievement are not paid again (an export carries
// them on lines of their own). A reward that cannot be claimed now fails as
// Claim does. It returns 1, or 0 when IdempotencyKey was used for it already (an
// import run again). An unknown or archived challenge or reward or an
// unknown user is ErrNotFound.
func (a ChallengesAPI) ImportClaim(ctx context.Context, key, user string, c Claim) (int, error) {
	var errs []error
	switch {
	case c.IdempotencyKey == "":
		errs = append(errs, gamifytype.Invalid("Claim.IdempotencyKey", c.IdempotencyKey, "is required: the import's idempotency key"))
	default:
		errs = append(errs, gamifytype.CheckText("Claim.IdempotencyKey", c.IdempotencyKey, gamifytype.MaxIDLen))
	}
	if c.Cost.Sign() != 0 {
		errs = append(errs, gamifytype.Invalid("Claim.Cost", c.Cost, "must be zero: a payout's claim is free"))
	}
	if err := errors.Join(append(errs, gamifytype.ValidateKey("Claim.Reward", c.Reward))...); err != nil {
		return 0, err
	}
	v, err := a.e.exec(ctx, a.e.now(), importClaimOp.cmd(importClaimArgs{Challenge: key, User: user, Reward: c.Reward,
		Payout: c.Payout, IdempotencyKey: c.IdempotencyKey, Seed: newCodeSeed()}))
	if err != nil {
		return 0, fmt.Errorf("import a claim of challenge %s for %s: %w", gamifytype.Quote(key), gamifytype.Quote(user), err)
	}
	return v.(int), nil
}

type importClaimArgs struct {
	Challenge, User, Reward, Payout, IdempotencyKey string
	Seed                                            string // the claim's generated code derives from it
}

// importClaimFingerprint sets an imported claim apart from Claim's in the
// claims' idempotency scope.
var importClaimFingerprint = fpSum(fpStr(nil, "challenge claim"))

var importClaimOp = newOp("challenge.import-claim", func(t *txn, a importClaimArgs) (int, error) {
	t.codeSeed = a.Seed
	c, ok := t.w.cat.chals.byKey[a.Challenge]
	r, rok := t.w.cat.rewards[a.Reward]
	switch {
	case !ok:
		return 0, fmt.Errorf("challenge %s: %w", gamifytype.Quote(a.Challenge), ErrNotFound)
	case !rok:
		return 0, fmt.Errorf("reward %s: %w", gamifytype.Quote(a.Reward), ErrNotFound)
	}
	u, err := t.importUser(a.User)
	if err != nil {
		return 0, err
	}
	idk := idemKey(u.p.UID, r.ref|1<<30, a.IdempotencyKey)
	rec, found, err := t.importedRecord(idk)
	switch {
	case err != nil:
		return 0, err
	case found && !rec.matches(importClaimFingerprint):
		return 0, idemConflict("Claim.IdempotencyKey", a.IdempotencyKey, "operation")
	case found:
		return 0, nil // imported already, even if archived since
	case c.Status == StatusArchived:
		return 0, fmt.Errorf("challenge %s: %w", gamifytype.Quote(a.Challenge), ErrNotFound)
	case r.Status == StatusArchived:
		return 0, fmt.Errorf("reward %s: %w", gamifytype.Quote(a.Reward), ErrNotFound)
	}
	i, in := u.s.challenge(c.ref)
	if !c.paid(a.Payout, u.s.Chals, i, in) {
		return 0, gamifytype.Invalid("Claim.Payout", a.Payout, "must be a payout of challenge "+c.Key+" that the user's participation has paid")
	}
	if err := t.rewardGrantable(u, r, true); err != nil {
		return 0, err
	}
	notes := len(t.notes)
	cl, err := t.grantReward(u, r, "", a.Payout)
	if err != nil {
		return 0, err
	}
	t.notes = t.notes[:notes]
	t.recordIdem(idk, cl.Seq, importClaimFingerprint)
	return 1, nil
})

// paid reports whether payout names a payout of c that the participation
// chals[i] (when in) has paid.
func (c *Challenge) paid(payout string, chals []userChallenge, i int, in bool) bool {
	if !in {
		return false
	}
	uc := chals[i]
	if payout == "challenge "+c.Key+" completed" {
		return uc.Done != 0
	}
	for k := range c.Milestones {
		if payout == fmt.Sprintf("challenge %s milestone %d", c.Key, k) {
			return uc.Paid&(1<<k) != 0
		}
	}
	return false
}
