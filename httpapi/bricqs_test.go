package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

type participantGolden struct {
	ParticipantID   string     `json:"participant_id"`
	DisplayName     *string    `json:"display_name"`
	TotalPoints     float64    `json:"total_points"`
	AvailablePoints float64    `json:"available_points"`
	CurrentTier     string     `json:"current_tier"`
	TotalEvents     int        `json:"total_events"`
	FirstSeenAt     *time.Time `json:"first_seen_at"`
	LastSeenAt      *time.Time `json:"last_seen_at"`
	IsActive        bool       `json:"is_active"`
	CreatedAt       time.Time  `json:"created_at"`
}

type participantsGolden struct {
	Items    []participantGolden `json:"items"`
	Total    int                 `json:"total"`
	Page     int                 `json:"page"`
	PageSize int                 `json:"page_size"`
}

func ids(p participantsGolden) []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.ParticipantID)
	}
	return out
}

// seedParticipants makes ana (Jane Doe, 12 words, silver), then bo (3
// words) an hour and a minute later, then cy (no events) an hour after that.
func seedParticipants(e *env) {
	e.do("PUT", "/v1/users/ana", appKey, `{"name":"Jane Doe","email":"jane@example.com"}`).requireStatus(e.t, http.StatusOK)
	e.track("ana", 4).requireStatus(e.t, http.StatusCreated)
	e.clock.Advance(time.Hour)
	e.track("ana", 8).requireStatus(e.t, http.StatusCreated)
	e.clock.Advance(time.Minute)
	e.track("bo", 3).requireStatus(e.t, http.StatusCreated)
	e.clock.Advance(time.Hour)
	e.do("POST", "/v1/users", appKey, `{"id":"cy","name":"Cy"}`).requireStatus(e.t, http.StatusCreated)
}

func TestBricqsParticipantsQuery(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	seedParticipants(e)
	var p participantsGolden
	e.do("GET", participants, adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"cy", "bo", "ana"}, ids(p)) // created_at desc, the default
	require.Equal(t, 3, p.Total)
	require.Equal(t, 1, p.Page)
	require.Equal(t, 50, p.PageSize)
	t1 := t0.Add(time.Hour)
	require.Equal(t, participantGolden{ParticipantID: "ana", DisplayName: ptr("Jane Doe"), TotalPoints: 24, AvailablePoints: 24,
		CurrentTier: "silver", TotalEvents: 2, FirstSeenAt: ptr(t0), LastSeenAt: &t1, IsActive: true, CreatedAt: t0}, p.Items[2])
	require.Equal(t, participantGolden{ParticipantID: "cy", DisplayName: ptr("Cy"), CurrentTier: "bronze", IsActive: true,
		CreatedAt: t0.Add(2*time.Hour + time.Minute)}, p.Items[0])

	e.do("GET", participants+"?search=jane", adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"ana"}, ids(p))
	require.Equal(t, 1, p.Total)
	e.do("GET", participants+"?tier=silver", adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"ana"}, ids(p))
	e.do("GET", participants+"?sort_by=total_points&sort_order=asc", adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"cy", "bo", "ana"}, ids(p))
	e.do("GET", participants+"?sort_by=user_id&sort_order=asc&page=2&page_size=1", adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"bo"}, ids(p))
	require.Equal(t, participantsGolden{Items: p.Items, Total: 3, Page: 2, PageSize: 1}, p)
	e.do("GET", participants+"?sort_by=display_name&sort_order=asc", adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"bo", "cy", "ana"}, ids(p)) // bo has no name: sorts first
	e.do("GET", participants+"?sort_by=last_event_at", adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"bo", "ana"}, ids(p)[:2])
	e.do("GET", participants+"?is_active=false", adminKey, nil).decode(t, &p)
	require.Empty(t, p.Items)

	e.do("GET", participants+"?sort_by=karma", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "sort_by")
	e.do("GET", participants+"?sort_order=up", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "sort_order")
	e.do("GET", participants+"?page_size=101", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "page_size")
	e.do("GET", participants+"?page=0", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "page")
	e.do("GET", participants+"?is_active=maybe", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "is_active")
}

func TestBricqsParticipantGetAndDelete(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	seedParticipants(e)
	ctx := context.Background()
	var one participantGolden
	e.do("GET", participants+"/bo", adminKey, nil).decode(t, &one)
	require.Equal(t, "bo", one.ParticipantID)
	require.Equal(t, 6.0, one.TotalPoints)
	e.do("GET", participants+"/a", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "") // no prefix match
	b := e.do("GET", participants+"/zed", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	require.Equal(t, "Participant not found: zed", b.Detail)

	type messageGolden struct {
		Message string `json:"message"`
	}
	var m messageGolden
	e.do("DELETE", participants+"/ana?anonymize=true", adminKey, nil).decode(t, &m)
	require.Equal(t, messageGolden{"Participant anonymized"}, m)
	u, err := e.eng.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.False(t, u.Active)
	require.Empty(t, u.Name)
	require.Empty(t, u.Email)
	e.do("GET", participants+"/ana", adminKey, nil).decode(t, &one)
	require.False(t, one.IsActive)
	require.Equal(t, 24.0, one.TotalPoints) // aggregates kept

	e.do("DELETE", participants+"/bo", adminKey, nil).decode(t, &m)
	require.Equal(t, messageGolden{"Participant deleted"}, m)
	e.do("GET", participants+"/bo", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("DELETE", participants+"/bo", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("DELETE", participants+"/zed?anonymize=true", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	var p participantsGolden
	e.do("GET", participants, adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"cy", "ana"}, ids(p))

	e.do("DELETE", participants+"/cy", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("DELETE", participants+"/cy?anonymize=perhaps", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "anonymize")
}

func TestBricqsParticipantsEngineErrorsNameTheParameter(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	seedParticipants(e)
	// A system or tier that does not exist is 404, as /tiers?system=nope is.
	e.do("GET", participants+"?system=nope", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "system")
	e.do("GET", participants+"?tier=platinum", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "tier")
	e.do("GET", participants+"?page_size=0", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "page_size")
	_, err := e.eng.Points().Levels("xp").Create(context.Background(), gamify.Level{Key: "gold", Level: 3, Name: "Gold", Threshold: gamify.AmountFromInt(1000)})
	require.NoError(t, err)
	var p participantsGolden
	e.do("GET", participants+"?tier=gold", adminKey, nil).decode(t, &p) // a filter that matches nobody
	require.Empty(t, p.Items)
}

// The participants list defaults to the points system award and deduct
// use: the first created that is not archived.
func TestBricqsParticipantsDefaultToTheAwardSystem(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	ctx := context.Background()
	_, err := e.eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	const award = "/api/v1/gamify/points/award"
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":10}`).requireStatus(t, http.StatusOK) // xp
	err = e.eng.Points().Delete(ctx, "xp")
	require.NoError(t, err)
	var got pointsResultGolden
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":5}`).decode(t, &got)
	require.Equal(t, "gems", got.PointsSystem)
	var p participantsGolden
	e.do("GET", participants, adminKey, nil).decode(t, &p)
	require.Equal(t, []string{"ana"}, ids(p))
	require.Equal(t, 5.0, p.Items[0].TotalPoints, "the balance award just paid into")
	var one participantGolden
	e.do("GET", participants+"/ana", adminKey, nil).decode(t, &one)
	require.Equal(t, 5.0, one.TotalPoints)
}
