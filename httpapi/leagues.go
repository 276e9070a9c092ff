package httpapi

import (
	"encoding/json"
	"net/http"
	"time"
)

// Leagues are a gamify extension (neither Trophy nor Bricqs has them):
// read routes under Trophy's /v1 users, in its JSON style.
func (h *handler) routeLeagues() {
	h.handle("GET /v1/users/{id}/leagues/{key}", anyKey, h.userLeague)
	h.handle("GET /v1/users/{id}/leagues/{key}/history", anyKey, h.userLeagueHistory)
}

// leagueStandingOut is a user's tier and, when active in the current run,
// their cohort's standings.
type leagueStandingOut struct {
	LeagueKey string    `json:"leagueKey"`
	UserID    string    `json:"userId"`
	Tier      string    `json:"tier"`
	TierIndex int       `json:"tierIndex"`
	RunStart  time.Time `json:"runStart"`
	RunEnd    time.Time `json:"runEnd"`
	Active    bool      `json:"active"`
	// Cohort, rank, position, move and value are null and members empty
	// when not active.
	Cohort   *int              `json:"cohort"`
	Rank     *int              `json:"rank"`
	Position *int              `json:"position"`
	Move     *string           `json:"move"`
	Value    *json.Number      `json:"value"`
	Members  []leagueMemberOut `json:"members"`
}

type leagueMemberOut struct {
	UserID   string      `json:"userId"`
	Rank     int         `json:"rank"`
	Position int         `json:"position"`
	Move     string      `json:"move"`
	Value    json.Number `json:"value"`
}

// leagueResultOut is one result of the user's league history.
type leagueResultOut struct {
	LeagueKey     string      `json:"leagueKey"`
	UserID        string      `json:"userId"`
	RunStart      time.Time   `json:"runStart"`
	RunEnd        time.Time   `json:"runEnd"`
	Tier          string      `json:"tier"`
	NewTier       string      `json:"newTier"`
	Move          string      `json:"move"`
	Cohort        int         `json:"cohort"`
	Rank          int         `json:"rank"`
	Position      *int        `json:"position"` // null for a result imported without one
	Value         json.Number `json:"value"`
	CohortMembers int         `json:"cohortMembers"`
}

func (h *handler) userLeague(c *call) (int, any, error) {
	st, err := c.eng.Leagues().Standing(c.ctx(), c.r.PathValue("key"), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	out := leagueStandingOut{LeagueKey: st.League, UserID: st.User, Tier: st.Tier, TierIndex: st.TierIndex,
		RunStart: st.RunStart.UTC(), RunEnd: st.RunEnd.UTC(), Active: st.Active, Members: []leagueMemberOut{}}
	if st.Active {
		v, mv := num(st.Score), string(st.Move)
		out.Cohort, out.Rank, out.Position, out.Move, out.Value = &st.Cohort, &st.Rank, &st.Position, &mv, &v
	}
	for _, m := range st.Members {
		out.Members = append(out.Members, leagueMemberOut{UserID: m.User, Rank: m.Rank, Position: m.Position, Move: string(m.Move), Value: num(m.Score)})
	}
	return http.StatusOK, out, nil
}

func (h *handler) userLeagueHistory(c *call) (int, any, error) {
	n, err := c.queryInt("limit", 10, 1, 100)
	if err != nil {
		return 0, nil, err
	}
	hist, err := c.eng.Leagues().History(c.ctx(), c.r.PathValue("key"), c.r.PathValue("id"), n)
	if err != nil {
		return 0, nil, err
	}
	out := make([]leagueResultOut, 0, len(hist))
	for _, r := range hist {
		out = append(out, leagueResultOut{LeagueKey: r.League, UserID: r.User, RunStart: r.RunStart.UTC(), RunEnd: r.RunEnd.UTC(),
			Tier: r.Tier, NewTier: r.NewTier, Move: string(r.Move), Cohort: r.Cohort, Rank: r.Rank, Position: rankOrNull(r.Position), Value: num(r.Score), CohortMembers: r.CohortMembers})
	}
	return http.StatusOK, out, nil
}
