package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gamifykit/gamify"
)

// Challenges are a gamify extension (Trophy has none, and Bricqs documents
// no challenge routes): under Trophy's /v1, in its JSON style.
func (h *handler) routeChallenges() {
	h.handle("GET /v1/users/{id}/challenges", anyKey, h.userChallenges)
	h.handle("GET /v1/users/{id}/challenges/{key}", anyKey, h.userChallenge)
	h.handle("POST /v1/users/{id}/challenges/{key}/enroll", anyKey, h.enrollChallenge)
	// Shared reads, like a leaderboard's rankings: ranking rows and
	// counts. The participants' progress lists other users: not for a
	// user-scoped key.
	h.handle("GET /v1/challenges/{key}/participants", anyKey, h.challengeParticipants)
	h.handle("GET /v1/challenges/{key}/leaderboard", anyKey, h.challengeLeaderboard)
	h.handle("GET /v1/challenges/{key}/stats", anyKey, h.challengeStats)
}

// challengeProgressOut is a user's participation in a challenge.
type challengeProgressOut struct {
	ChallengeKey string    `json:"challengeKey"`
	UserID       string    `json:"userId"`
	EnrolledAt   time.Time `json:"enrolledAt"`
	WindowStart  time.Time `json:"windowStart"`
	// WindowEnd is null for a window without end (perpetual).
	WindowEnd          *time.Time     `json:"windowEnd"`
	Objectives         []objectiveOut `json:"objectives"`
	ObjectivesComplete int            `json:"objectivesComplete"`
	Milestones         []int          `json:"milestones"`
	Completed          bool           `json:"completed"`
	CompletedAt        *time.Time     `json:"completedAt"`
}

type objectiveOut struct {
	Key      string      `json:"key"`
	Progress json.Number `json:"progress"`
	Target   json.Number `json:"target"`
	Complete bool        `json:"complete"`
	Waiting  bool        `json:"waiting"`
}

// challengeRankingOut is a participant's row on the challenge's cohort
// leaderboard: what a leaderboard's ranking row shows, open to every key.
type challengeRankingOut struct {
	UserID             string      `json:"userId"`
	UserName           *string     `json:"userName"`
	Rank               int         `json:"rank"`
	Share              json.Number `json:"share"`
	ObjectivesComplete int         `json:"objectivesComplete"`
	Completed          bool        `json:"completed"`
}

type challengeStatsOut struct {
	ChallengeKey string             `json:"challengeKey"`
	Participants int                `json:"participants"`
	Completed    int                `json:"completed"`
	Objectives   []objectiveStatOut `json:"objectives"`
	Milestones   []milestoneStatOut `json:"milestones"`
}

type objectiveStatOut struct {
	Key       string `json:"key"`
	Completed int    `json:"completed"`
}

type milestoneStatOut struct {
	Index int `json:"index"`
	Paid  int `json:"paid"`
}

func challengeProgressJSON(p gamify.ChallengeProgress) challengeProgressOut {
	out := challengeProgressOut{ChallengeKey: p.Challenge, UserID: p.User, EnrolledAt: p.EnrolledAt.UTC(), WindowStart: p.WindowStart.UTC(),
		WindowEnd: instant(p.WindowEnd), Objectives: make([]objectiveOut, 0, len(p.Objectives)), ObjectivesComplete: p.Complete,
		Milestones: append([]int{}, p.Milestones...), Completed: !p.CompletedAt.IsZero(), CompletedAt: instant(p.CompletedAt)}
	for _, o := range p.Objectives {
		out.Objectives = append(out.Objectives, objectiveOut{Key: o.Key, Progress: num(o.Progress), Target: num(o.Target),
			Complete: o.Complete, Waiting: o.Waiting})
	}
	return out
}

func progressListJSON(ps []gamify.ChallengeProgress) []challengeProgressOut {
	out := make([]challengeProgressOut, 0, len(ps))
	for _, p := range ps {
		out = append(out, challengeProgressJSON(p))
	}
	return out
}

func (h *handler) userChallenges(c *call) (int, any, error) {
	ps, err := c.eng.Challenges().User(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, progressListJSON(ps), nil
}

func (h *handler) userChallenge(c *call) (int, any, error) {
	p, err := c.eng.Challenges().Progress(c.ctx(), c.r.PathValue("key"), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, challengeProgressJSON(p), nil
}

// enrollChallenge answers 201 for a new participation, 200 with the
// existing one when the user was already enrolled.
func (h *handler) enrollChallenge(c *call) (int, any, error) {
	p, err := c.eng.Challenges().Enroll(c.ctx(), c.r.PathValue("key"), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	if p.AlreadyEnrolled {
		return http.StatusOK, challengeProgressJSON(p), nil
	}
	return http.StatusCreated, challengeProgressJSON(p), nil
}

// listOptions reads offset (0 up) and limit (1–100, default 10).
func (c *call) listOptions() (gamify.ListOptions, error) {
	var o gamify.ListOptions
	var err error
	if o.Skip, err = c.queryInt("offset", 0, 0, 1<<30); err != nil {
		return o, err
	}
	o.Limit, err = c.queryInt("limit", 10, 1, 100)
	return o, err
}

// challengeParticipantsOut is a page of a challenge's participants; next, null on
// the last page, is the after of the next one.
type challengeParticipantsOut struct {
	Participants []challengeProgressOut `json:"participants"`
	Next         *string                `json:"next"`
}

func (h *handler) challengeParticipants(c *call) (int, any, error) {
	if c.key.User != "" {
		return 0, nil, otherUser()
	}
	q := gamify.ChallengeParticipantsQuery{After: c.r.URL.Query().Get("after")}
	var err error
	if q.Limit, err = c.queryInt("limit", 10, 1, 100); err != nil {
		return 0, nil, err
	}
	page, err := c.eng.Challenges().Participants(c.ctx(), c.r.PathValue("key"), q)
	if ve := (*gamify.ValidationError)(nil); errors.As(err, &ve) && ve.Field == "ChallengeParticipantsQuery.After" {
		return 0, nil, invalid("after", "after must be the next of a page of this list")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, challengeParticipantsOut{Participants: progressListJSON(page.Participants), Next: strOrNull(page.Next)}, nil
}

func (h *handler) challengeLeaderboard(c *call) (int, any, error) {
	o, err := c.listOptions()
	if err != nil {
		return 0, nil, err
	}
	ss, err := c.eng.Challenges().Leaderboard(c.ctx(), c.r.PathValue("key"), o)
	if err != nil {
		return 0, nil, err
	}
	out := make([]challengeRankingOut, 0, len(ss))
	for _, s := range ss {
		r := challengeRankingOut{UserID: s.User, Rank: s.Rank, Share: shareNum(s.Share), ObjectivesComplete: s.Complete, Completed: !s.CompletedAt.IsZero()}
		if u, err := c.eng.Users().Get(c.ctx(), s.User); err == nil {
			r.UserName = strOrNull(u.Name)
		}
		out = append(out, r)
	}
	return http.StatusOK, out, nil
}

// shareNum writes a share (0 to 1) with at most 6 decimals, like amounts.
func shareNum(f float64) json.Number {
	return num(gamify.AmountFromMicros(int64(f*float64(gamify.AmountScale) + 0.5)))
}

func (h *handler) challengeStats(c *call) (int, any, error) {
	st, err := c.eng.Challenges().Stats(c.ctx(), c.r.PathValue("key"))
	if err != nil {
		return 0, nil, err
	}
	out := challengeStatsOut{ChallengeKey: st.Challenge, Participants: st.Participants, Completed: st.Completed,
		Objectives: make([]objectiveStatOut, 0, len(st.Objectives)), Milestones: make([]milestoneStatOut, 0, len(st.Milestones))}
	for _, o := range st.Objectives {
		out.Objectives = append(out.Objectives, objectiveStatOut{Key: o.Key, Completed: o.Completed})
	}
	for _, m := range st.Milestones {
		out.Milestones = append(out.Milestones, milestoneStatOut{Index: m.Index, Paid: m.Paid})
	}
	return http.StatusOK, out, nil
}
