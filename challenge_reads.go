package gamify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
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

// Progress returns user's participation in the challenge with key, an
// archived one's too (the user's own record, which the claims its payouts
// made name, and which export carries): ErrNotFound for an unknown
// challenge, an unknown user, or a user who is not a participant.
func (a ChallengesAPI) Progress(ctx context.Context, key, user string) (ChallengeProgress, error) {
	if err := a.e.live(); err != nil {
		return ChallengeProgress{}, err
	}
	c, ok := a.e.cat.Load().chals.byKey[key]
	if !ok {
		return ChallengeProgress{}, fmt.Errorf("challenge %s: %w", gamifytype.Quote(key), ErrNotFound)
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

// participants reads the participations of c in one snapshot, in the
// order users were first seen (by uid), from the user after uid after on
// (0: all).
func (e *Engine) participants(c *Challenge, after uint64, fn func(uid uint64, p ChallengeProgress) bool) error {
	prefix := challengeMarkerPrefix(c.Key)
	from := binary.BigEndian.AppendUint64(slices.Clip(prefix), after+1)
	return e.db.View(func(tx *store.Tx) error {
		return tx.ScanFrom(store.Jobs, from, func(k, _ []byte) error {
			if !bytes.HasPrefix(k, prefix) {
				return store.ErrStop
			}
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
			if !fn(uid, c.progressView(string(id), s.Chals[i])) {
				return store.ErrStop
			}
			return nil
		})
	})
}

// ChallengeParticipantsQuery pages ChallengesAPI.Participants.
type ChallengeParticipantsQuery struct {
	// Limit is the page size, 1–100. Default: 100.
	Limit int
	// After is the Next of the previous page; empty for the first page.
	After string
}

// ChallengeParticipantsPage is a page of ChallengesAPI.Participants.
type ChallengeParticipantsPage struct {
	Participants []ChallengeProgress
	// Next continues the walk in ChallengeParticipantsQuery.After (an
	// opaque cursor); empty when the page is the last.
	Next string
}

// Participants pages the participants of the challenge with key, in the
// order the users were first seen by the engine. The cursor is a place in
// that order, so a walk lists every participant enrolled throughout it
// once, whatever enrolls meanwhile: a user seen before the cursor who
// enrolls later is not in the rest of the walk (a new walk lists them).
func (a ChallengesAPI) Participants(ctx context.Context, key string, q ChallengeParticipantsQuery) (ChallengeParticipantsPage, error) {
	var errs []error
	if q.Limit < 0 || q.Limit > 100 {
		errs = append(errs, gamifytype.Invalid("ChallengeParticipantsQuery.Limit", q.Limit, "must be between 1 and 100"))
	}
	var after uint64
	if q.After != "" {
		n, err := strconv.ParseUint(q.After, 10, 64)
		if err != nil || n == 0 || n == math.MaxUint64 {
			errs = append(errs, gamifytype.Invalid("ChallengeParticipantsQuery.After", q.After, "is not a Next of Participants"))
		}
		after = n
	}
	if err := errors.Join(errs...); err != nil {
		return ChallengeParticipantsPage{}, err
	}
	c, err := a.e.challenge(key)
	if err != nil {
		return ChallengeParticipantsPage{}, err
	}
	limit := cmp.Or(q.Limit, 100)
	page := ChallengeParticipantsPage{Participants: []ChallengeProgress{}}
	var last uint64
	err = a.e.participants(c, after, func(uid uint64, p ChallengeProgress) bool {
		if len(page.Participants) == limit {
			page.Next = strconv.FormatUint(last, 10) // one more: the page is not the last
			return false
		}
		page.Participants, last = append(page.Participants, p), uid
		return true
	})
	if err != nil {
		return ChallengeParticipantsPage{}, err
	}
	return page, nil
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
	err = a.e.participants(c, 0, func(_ uint64, p ChallengeProgress) bool {
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
// participants are read in one snapshot), then paged by opts' Limit and
// Skip; IncludeArchived is a ValidationError (a row is never archived).
func (a ChallengesAPI) Leaderboard(ctx context.Context, key string, opts ListOptions) ([]ChallengeRow, error) {
	limit, err := opts.validate("ListOptions")
	if err == nil && opts.IncludeArchived {
		err = gamifytype.Invalid("ListOptions.IncludeArchived", true, "lists no archived rows")
	}
	if err != nil {
		return nil, err
	}
	c, err := a.e.challenge(key)
	if err != nil {
		return nil, err
	}
	var all []ChallengeRow
	err = a.e.participants(c, 0, func(_ uint64, p ChallengeProgress) bool {
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
