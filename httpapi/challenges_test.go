package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

type objectiveGolden struct {
	Key      string      `json:"key"`
	Progress json.Number `json:"progress"`
	Target   json.Number `json:"target"`
	Complete bool        `json:"complete"`
	Waiting  bool        `json:"waiting"`
}

type challengeProgressGolden struct {
	ChallengeKey       string            `json:"challengeKey"`
	UserID             string            `json:"userId"`
	EnrolledAt         time.Time         `json:"enrolledAt"`
	WindowStart        time.Time         `json:"windowStart"`
	WindowEnd          *time.Time        `json:"windowEnd"`
	Objectives         []objectiveGolden `json:"objectives"`
	ObjectivesComplete int               `json:"objectivesComplete"`
	Milestones         []int             `json:"milestones"`
	Completed          bool              `json:"completed"`
	CompletedAt        *time.Time        `json:"completedAt"`
}

type challengeRankingGolden struct {
	UserID             string      `json:"userId"`
	UserName           *string     `json:"userName"`
	Rank               int         `json:"rank"`
	Share              json.Number `json:"share"`
	ObjectivesComplete int         `json:"objectivesComplete"`
	Completed          bool        `json:"completed"`
}

type challengeParticipantsGolden struct {
	Participants []challengeProgressGolden `json:"participants"`
	Next         *string                   `json:"next"`
}

type objectiveStatGolden struct {
	Key       string `json:"key"`
	Completed int    `json:"completed"`
}

type milestoneStatGolden struct {
	Index int `json:"index"`
	Paid  int `json:"paid"`
}

type challengeStatsGolden struct {
	ChallengeKey string                `json:"challengeKey"`
	Participants int                   `json:"participants"`
	Completed    int                   `json:"completed"`
	Objectives   []objectiveStatGolden `json:"objectives"`
	Milestones   []milestoneStatGolden `json:"milestones"`
}

func TestChallengeRoutes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, httpapi.Options{Keys: []httpapi.Key{
		{Secret: appKey, Name: "app"},
		{Secret: "ana-secret", Name: "ana", User: "ana"},
	}})
	amt := gamify.AmountFromInt
	_, err := e.eng.Apply(ctx, gamify.Game{Challenges: []gamify.Challenge{{Key: "sprint", Name: "Sprint", Window: gamify.ChallengePerpetual,
		Objectives: []gamify.ChallengeObjective{
			{Key: "write", Metric: "words", Target: amt(10)},
			{Key: "twice", Metric: "words", Count: gamify.ChallengeCountEvents, Target: amt(2), Prerequisites: []string{"write"}}},
		Milestones: []gamify.ChallengeMilestone{{Share: 50, Pay: gamify.ChallengePayout{System: "xp", Points: amt(5)}}},
		Completion: gamify.ChallengePayout{Achievement: "onboarded"}}}})
	require.NoError(t, err)

	e.do("GET", "/v1/users/ana/challenges", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	fresh := challengeProgressGolden{ChallengeKey: "sprint", UserID: "ana", EnrolledAt: t0, WindowStart: t0,
		Objectives: []objectiveGolden{{Key: "write", Progress: "0", Target: "10"}, {Key: "twice", Progress: "0", Target: "2"}}, Milestones: []int{}}
	var p challengeProgressGolden
	r := e.do("POST", "/v1/users/ana/challenges/sprint/enroll", "ana-secret", nil)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &p)
	require.Equal(t, fresh, p)
	e.clock.Advance(time.Hour)
	r = e.do("POST", "/v1/users/ana/challenges/sprint/enroll", appKey, nil)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &p)
	require.Equal(t, fresh, p, "enrolling again changes nothing")

	e.track("ana", 12).requireStatus(t, http.StatusCreated) // write complete: the milestone; twice waits
	e.do("GET", "/v1/users/ana/challenges/sprint", "ana-secret", nil).decode(t, &p)
	half := fresh
	half.Objectives = []objectiveGolden{{Key: "write", Progress: "10", Target: "10", Complete: true}, {Key: "twice", Progress: "1", Target: "2"}}
	half.ObjectivesComplete, half.Milestones = 1, []int{0}
	require.Equal(t, half, p)
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	done := half
	done.Objectives = []objectiveGolden{{Key: "write", Progress: "10", Target: "10", Complete: true}, {Key: "twice", Progress: "2", Target: "2", Complete: true}}
	at := t0.Add(time.Hour)
	done.ObjectivesComplete, done.Completed, done.CompletedAt = 2, true, &at
	var ps []challengeProgressGolden
	e.do("GET", "/v1/users/ana/challenges", "ana-secret", nil).decode(t, &ps)
	require.Equal(t, []challengeProgressGolden{done}, ps)

	e.do("POST", "/v1/users/bo/challenges/sprint/enroll", appKey, nil).requireStatus(t, http.StatusCreated)
	e.track("bo", 3).requireStatus(t, http.StatusCreated)
	bo := fresh
	bo.UserID, bo.EnrolledAt, bo.WindowStart = "bo", at, at
	bo.Objectives = []objectiveGolden{{Key: "write", Progress: "3", Target: "10"}, {Key: "twice", Progress: "1", Target: "2"}}
	var page challengeParticipantsGolden
	e.do("GET", "/v1/challenges/sprint/participants", appKey, nil).decode(t, &page)
	require.Equal(t, challengeParticipantsGolden{Participants: []challengeProgressGolden{done, bo}}, page, "in the order the users were first seen")
	e.do("GET", "/v1/challenges/sprint/participants?limit=1", appKey, nil).decode(t, &page)
	require.Equal(t, []challengeProgressGolden{done}, page.Participants)
	require.NotNil(t, page.Next)
	e.do("GET", "/v1/challenges/sprint/participants?limit=1&after="+*page.Next, appKey, nil).decode(t, &page)
	require.Equal(t, challengeParticipantsGolden{Participants: []challengeProgressGolden{bo}}, page, "the last page: next is null")
	e.do("GET", "/v1/challenges/sprint/participants?after=nope", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "after")
	e.do("GET", "/v1/challenges/sprint/participants", "ana-secret", nil).requireError(t, http.StatusForbidden, "forbidden", "")
	_, err = e.eng.Users().Identify(ctx, gamify.UserInput{ID: "bo", Name: "Bo"})
	require.NoError(t, err)
	bob := "Bo"
	wantBoard := []challengeRankingGolden{{UserID: "ana", Rank: 1, Share: "1", ObjectivesComplete: 2, Completed: true},
		{UserID: "bo", UserName: &bob, Rank: 2, Share: "0.4"}}
	for _, key := range []string{appKey, "ana-secret"} {
		var board []challengeRankingGolden
		e.do("GET", "/v1/challenges/sprint/leaderboard", key, nil).decode(t, &board) // refuses unknown fields: no progress beyond the row
		require.Equal(t, wantBoard, board, "rows as a leaderboard's, for every key")
	}

	var st challengeStatsGolden
	e.do("GET", "/v1/challenges/sprint/stats", appKey, nil).decode(t, &st)
	require.Equal(t, challengeStatsGolden{ChallengeKey: "sprint", Participants: 2, Completed: 1,
		Objectives: []objectiveStatGolden{{"write", 1}, {"twice", 1}}, Milestones: []milestoneStatGolden{{0, 1}}}, st)

	e.do("GET", "/v1/challenges/nope/stats", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/challenges/nope/participants", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/challenges/sprint/participants?limit=101", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "limit")
	e.do("GET", "/v1/challenges/sprint/leaderboard?offset=-1", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "offset")
	e.do("POST", "/v1/users/ana/challenges/nope/enroll", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("POST", "/v1/users/bo/challenges/sprint/enroll", "ana-secret", nil).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("GET", "/v1/users/bo/challenges", "ana-secret", nil).requireError(t, http.StatusForbidden, "forbidden", "")
	e.track("cy", 1).requireStatus(t, http.StatusCreated)
	e.do("GET", "/v1/users/cy/challenges/sprint", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/users/cy/challenges", appKey, nil).decode(t, &ps)
	require.Equal(t, []challengeProgressGolden{}, ps)
	_, err = e.eng.Challenges().Deactivate(ctx, "sprint")
	require.NoError(t, err)
	e.do("POST", "/v1/users/cy/challenges/sprint/enroll", appKey, nil).requireError(t, http.StatusConflict, "conflict", "")
	require.NoError(t, e.eng.Challenges().Delete(ctx, "sprint"))
	for _, path := range []string{"/v1/challenges/sprint/stats", "/v1/challenges/sprint/leaderboard", "/v1/challenges/sprint/participants"} {
		e.do("GET", path, appKey, nil).requireError(t, http.StatusNotFound, "not_found", "") // archived
	}
	e.do("GET", "/v1/users/ana/challenges/sprint", appKey, nil).requireStatus(t, http.StatusOK) // the user's own record stays
}
