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

type leagueMemberGolden struct {
	UserID   string      `json:"userId"`
	Rank     int         `json:"rank"`
	Position int         `json:"position"`
	Move     string      `json:"move"`
	Value    json.Number `json:"value"`
}

type leagueStandingGolden struct {
	LeagueKey string               `json:"leagueKey"`
	UserID    string               `json:"userId"`
	Tier      string               `json:"tier"`
	TierIndex int                  `json:"tierIndex"`
	RunStart  time.Time            `json:"runStart"`
	RunEnd    time.Time            `json:"runEnd"`
	Active    bool                 `json:"active"`
	Cohort    *int                 `json:"cohort"`
	Rank      *int                 `json:"rank"`
	Position  *int                 `json:"position"`
	Move      *string              `json:"move"`
	Value     *json.Number         `json:"value"`
	Members   []leagueMemberGolden `json:"members"`
}

type leagueResultGolden struct {
	LeagueKey     string      `json:"leagueKey"`
	UserID        string      `json:"userId"`
	RunStart      time.Time   `json:"runStart"`
	RunEnd        time.Time   `json:"runEnd"`
	Tier          string      `json:"tier"`
	NewTier       string      `json:"newTier"`
	Move          string      `json:"move"`
	Cohort        int         `json:"cohort"`
	Rank          int         `json:"rank"`
	Position      *int        `json:"position"`
	Value         json.Number `json:"value"`
	CohortMembers int         `json:"cohortMembers"`
}

// weeklyLeague gives e a weekly board over "words" in zone tz, active,
// and a two-tier league "league" on it, cohorts of 2.
func weeklyLeague(t *testing.T, e *env, tz string) {
	t.Helper()
	ctx := context.Background()
	_, err := e.eng.Apply(ctx, gamify.Game{
		Leaderboards: []gamify.Leaderboard{{Key: "weekly", Name: "Weekly", RankBy: gamify.RankByMetric, Metric: "words", TZ: tz, RunEvery: 1, RunUnit: gamify.RunWeek}},
		Leagues:      []gamify.League{{Key: "league", Name: "League", Board: "weekly", Tiers: []string{"bronze", "silver"}, CohortSize: 2, Promote: 1, Demote: 1}},
	})
	require.NoError(t, err)
	_, err = e.eng.Leaderboards().Activate(ctx, "weekly")
	require.NoError(t, err)
}

func TestUserLeagueStandingAndHistory(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, httpapi.Options{Keys: []httpapi.Key{
		{Secret: appKey, Name: "app"},
		{Secret: "ana-secret", Name: "ana", User: "ana"},
	}})
	weeklyLeague(t, e, "UTC")
	e.track("ana", 5).requireStatus(t, http.StatusCreated)
	e.track("bo", 7).requireStatus(t, http.StatusCreated)
	_, err := e.eng.Users().Create(ctx, gamify.UserInput{ID: "cy"})
	require.NoError(t, err)

	// The week of t0 (a Tuesday), Monday to Monday in UTC.
	start, end := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	one, two, five, stayed := 1, 2, json.Number("5"), "stayed"
	var st leagueStandingGolden
	e.do("GET", "/v1/users/ana/leagues/league", "ana-secret", nil).decode(t, &st)
	require.Equal(t, leagueStandingGolden{LeagueKey: "league", UserID: "ana", Tier: "bronze", RunStart: start, RunEnd: end, Active: true,
		Cohort: &one, Rank: &two, Position: &two, Move: &stayed, Value: &five,
		Members: []leagueMemberGolden{{UserID: "bo", Rank: 1, Position: 1, Move: "promoted", Value: "7"},
			{UserID: "ana", Rank: 2, Position: 2, Move: "stayed", Value: "5"}}}, st)
	e.do("GET", "/v1/users/cy/leagues/league", appKey, nil).decode(t, &st)
	require.Equal(t, leagueStandingGolden{LeagueKey: "league", UserID: "cy", Tier: "bronze", RunStart: start, RunEnd: end,
		Members: []leagueMemberGolden{}}, st, "not active: no cohort")

	e.clock.Set(end)
	_, err = e.eng.RunDue(ctx)
	require.NoError(t, err)
	e.do("GET", "/v1/users/bo/leagues/league", appKey, nil).decode(t, &st)
	require.Equal(t, "silver", st.Tier)
	require.Equal(t, 1, st.TierIndex)
	require.False(t, st.Active)
	var hist []leagueResultGolden
	e.do("GET", "/v1/users/bo/leagues/league/history?limit=1", appKey, nil).decode(t, &hist)
	require.Equal(t, []leagueResultGolden{{LeagueKey: "league", UserID: "bo", RunStart: start, RunEnd: end, Tier: "bronze", NewTier: "silver",
		Move: "promoted", Cohort: 1, Rank: 1, Position: &one, Value: "7", CohortMembers: 2}}, hist)
	e.do("GET", "/v1/users/cy/leagues/league/history", appKey, nil).decode(t, &hist)
	require.Equal(t, []leagueResultGolden{}, hist)

	e.do("GET", "/v1/users/bo/leagues/league/history?limit=101", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "limit")
	e.do("GET", "/v1/users/ana/leagues/nope", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/users/nobody/leagues/league", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/users/bo/leagues/league", "ana-secret", nil).requireError(t, http.StatusForbidden, "forbidden", "")
}

// TestUserLeagueTimesInUTC checks a league on a board in another zone
// writes its run's bounds in UTC, as every time is.
func TestUserLeagueTimesInUTC(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, httpapi.Options{})
	weeklyLeague(t, e, "Europe/Paris")
	e.track("ana", 5).requireStatus(t, http.StatusCreated)
	r := e.do("GET", "/v1/users/ana/leagues/league", appKey, nil)
	r.requireStatus(t, http.StatusOK)
	// Monday 00:00 in Paris (UTC+1 in March before the change) is Sunday 23:00 UTC.
	require.Contains(t, string(r.body), `"runStart":"2026-03-08T23:00:00Z"`)
	require.Contains(t, string(r.body), `"runEnd":"2026-03-15T23:00:00Z"`)
	e.clock.Set(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC))
	_, err := e.eng.RunDue(ctx)
	require.NoError(t, err)
	r = e.do("GET", "/v1/users/ana/leagues/league/history", appKey, nil)
	r.requireStatus(t, http.StatusOK)
	require.Contains(t, string(r.body), `"runStart":"2026-03-08T23:00:00Z"`)
}
