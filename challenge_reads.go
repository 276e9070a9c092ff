package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// ChallengeProgress is a user's participation in a challenge.
type ChallengeProgress struct {
	Challenge string
	User      string
	// EnrolledAt is when the user joined: the Enroll call's time, or the
	// time of the event that enrolled them.
	EnrolledAt time.Time
	// WindowStart and WindowEnd bound the events that count: from
	// WindowStart to before WindowEnd (zero, left out of JSON: no end).
	WindowStart time.Time
	WindowEnd   time.Time `json:",omitzero"`
	Objectives  []ObjectiveProgress
	Complete    int   // objectives complete
	Milestones  []int // indexes of the milestones paid, ascending
	// CompletedAt is when every objective was complete (the time of the
	// call that completed the last one); zero (left out of JSON) before.
	CompletedAt time.Time `json:",omitzero"`
	// AlreadyEnrolled is set by Enroll when the user was a participant.
	AlreadyEnrolled bool `json:",omitempty"`
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// progressView is the participation uc of user as a ChallengeProgress.
func (c *Challenge) progressView(user string, uc userChallenge) ChallengeProgress {
	done := c.done(uc.Progress)
	p := ChallengeProgress{Challenge: c.Key, User: user, EnrolledAt: unixTime(uc.Enrolled),
		WindowStart: unixTime(uc.From), WindowEnd: unixTime(uc.To),
		Objectives: c.progressOf(uc.Progress, done), Complete: bits.OnesCount32(done),
		Milestones: []int{}, CompletedAt: unixTime(uc.Done)}
	for k := range c.Milestones {
		if uc.Paid&(1<<k) != 0 {
			p.Milestones = append(p.Milestones, k)
		}
	}
	return p
}

// challenge returns the committed challenge with key. An archived one is
// ErrNotFound, as an archived board's or league's reads are: only Get and
// List (IncludeArchived) show it.
func (e *Engine) challenge(key string) (*Challenge, error) {
	if err := e.live(); err != nil {
		return nil, err
	}
	c, ok := e.cat.Load().chals.byKey[key]
	if !ok || c.Status == StatusArchived {
		return nil, fmt.Errorf("challenge %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	return c, nil
}

// Progress returns user's participation in the challenge with key:
// ErrNotFound for an unknown or archived challenge, an unknown user, or a
// user who is not a participant.
func (a ChallengesAPI) Progress(ctx context.Context, key, user string) (ChallengeProgress, error) {
	c, err := a.e.challenge(key)
	if err != nil {
		return ChallengeProgress{}, err
	}
	p, s, err := a.e.readUser(user, true)
	if err != nil {
		return ChallengeProgress{}, err
	}
	i, ok := s.challenge(c.ref)
	if !ok {
		return ChallengeProgress{}, fmt.Errorf("user %q in challenge %s: %w", user, gamifytype.Quote(key), ErrNotFound)
	}
	return c.progressView(p.ID, s.Chals[i]), nil
}

// User returns the challenges user takes part in (archived challenges
// left out), in the order the challenges were created, with progress. An
// unknown user is ErrNotFound.
func (a ChallengesAPI) User(ctx context.Context, user string) ([]ChallengeProgress, error) {
	p, s, err := a.e.readUser(user, true)
	if err != nil {
		return nil, err
	}
	cat := a.e.cat.Load()
	out := []ChallengeProgress{}
	for _, uc := range s.Chals {
		if c, ok := cat.chals.byRef[uc.Ref]; ok && c.Status != StatusArchived {
			out = append(out, c.progressView(p.ID, uc))
		}
	}
	return out, nil
}

// participants reads every participation of c in one snapshot, in the
// order users were first seen.
func (e *Engine) participants(c *Challenge, fn func(ChallengeProgress) bool) error {
	prefix := challengeMarkerPrefix(c.Key)
	stop := fmt.Errorf("stop")
	err := e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Jobs, prefix, func(k, _ []byte) error {
			if len(k) != len(prefix)+8 {
				return fmt.Errorf("%w: challenge %s: marker %x", ErrCorrupt, c.Key, k)
			}
			uid := binary.BigEndian.Uint64(k[len(prefix):])
			id := tx.Get(store.UserIDs, uidKey(uid))
			sv := tx.Get(store.State, uidKey(uid))
			var s userState
			if id == nil || sv == nil || s.unmarshal(sv) != nil {
				return fmt.Errorf("%w: challenge %s: participant uid %d has no state", ErrCorrupt, c.Key, uid)
			}
			i, ok := s.challenge(c.ref)
			if !ok {
				return fmt.Errorf("%w: challenge %s: participant uid %d has no participation", ErrCorrupt, c.Key, uid)
			}
			if !fn(c.progressView(string(id), s.Chals[i])) {
				return stop
			}
			return nil
		})
	})
	if err == stop {
		return nil
	}
	return err
}

// paged checks opts and returns the challenge with key and the page size.
func (a ChallengesAPI) paged(key string, opts ListOptions) (*Challenge, int, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, 0, err
	}
	c, err := a.e.challenge(key)
	return c, limit, err
}

// Participants pages the participants of the challenge with key, in the
// order the users were first seen by the engine.
func (a ChallengesAPI) Participants(ctx context.Context, key string, opts ListOptions) ([]ChallengeProgress, error) {
	c, limit, err := a.paged(key, opts)
	if err != nil {
		return nil, err
	}
	out := []ChallengeProgress{}
	skip := opts.Skip
	err = a.e.participants(c, func(p ChallengeProgress) bool {
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, p)
		return len(out) < limit
	})
	return out, err
}

// ChallengeStats are a challenge's participation figures.
type ChallengeStats struct {
	Challenge    string
	Participants int
	Completed    int                       // participants who completed every objective
	Objectives   []ChallengeObjectiveCount // per objective, in the challenge's order
	Milestones   []ChallengeMilestoneCount // per milestone, in the challenge's order
}

// ChallengeObjectiveCount is how many participants completed an objective.
type ChallengeObjectiveCount struct {
	Key       string // the objective's
	Completed int
}

// ChallengeMilestoneCount is how many participants a milestone was paid to.
type ChallengeMilestoneCount struct {
	Index int // the milestone's position in Challenge.Milestones
	Paid  int
}

// Stats counts the participants of the challenge with key, its
// completions and, per objective and milestone, how many reached it.
func (a ChallengesAPI) Stats(ctx context.Context, key string) (ChallengeStats, error) {
	c, err := a.e.challenge(key)
	if err != nil {
		return ChallengeStats{}, err
	}
	st := ChallengeStats{Challenge: c.Key, Objectives: make([]ChallengeObjectiveCount, len(c.Objectives)),
		Milestones: make([]ChallengeMilestoneCount, len(c.Milestones))}
	for j, o := range c.Objectives {
		st.Objectives[j].Key = o.Key
	}
	for k := range c.Milestones {
		st.Milestones[k].Index = k
	}
	err = a.e.participants(c, func(p ChallengeProgress) bool {
		st.Participants++
		if !p.CompletedAt.IsZero() {
			st.Completed++
		}
		for j, o := range p.Objectives {
			if o.Complete {
				st.Objectives[j].Completed++
			}
		}
		for _, k := range p.Milestones {
			st.Milestones[k].Paid++
		}
		return true
	})
	return st, err
}

// ChallengeRow is a participant's row on a challenge's cohort leaderboard,
// as a BoardRow is a board's.
type ChallengeRow struct {
	Rank int // from 1; participants equal in Complete, Share and CompletedAt share a rank
	ChallengeProgress
	// Share is the mean over the objectives of progress divided by target
	// (progress is capped at the target): 0 to 1.
	Share float64
}

// Leaderboard ranks the participants of the challenge with key: by
// objectives complete, then Share, then the earlier completion; ties by
// user id. It is ranked at each read over every participant (a challenge's
// participants are read in one snapshot), then paged by opts.
func (a ChallengesAPI) Leaderboard(ctx context.Context, key string, opts ListOptions) ([]ChallengeRow, error) {
	c, limit, err := a.paged(key, opts)
	if err != nil {
		return nil, err
	}
	var all []ChallengeRow
	err = a.e.participants(c, func(p ChallengeProgress) bool {
		all = append(all, ChallengeRow{ChallengeProgress: p, Share: share(p.Objectives)})
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(x, y ChallengeRow) int {
		if d := compareRows(x, y); d != 0 {
			return d
		}
		return cmp.Compare(x.User, y.User)
	})
	for i := range all {
		all[i].Rank = i + 1
		if i > 0 && compareRows(all[i-1], all[i]) == 0 {
			all[i].Rank = all[i-1].Rank
		}
	}
	return append([]ChallengeRow{}, page(all, opts.Skip, limit)...), nil
}

func compareRows(x, y ChallengeRow) int {
	if d := cmp.Compare(y.Complete, x.Complete); d != 0 {
		return d
	}
	if d := cmp.Compare(y.Share, x.Share); d != 0 {
		return d
	}
	// An earlier completion first; not completed (zero) after every completion.
	xa, ya := x.CompletedAt, y.CompletedAt
	switch {
	case xa.IsZero() && ya.IsZero():
		return 0
	case xa.IsZero():
		return 1
	case ya.IsZero():
		return -1
	}
	return xa.Compare(ya)
}

// share is the mean of the objectives' progress over their targets.
func share(os []ObjectiveProgress) float64 {
	if len(os) == 0 {
		return 0
	}
	var sum float64
	for _, o := range os {
		sum += o.Progress.Float64() / o.Target.Float64()
	}
	return sum / float64(len(os))
}
