package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

const admin = "/api/v1/gamify/admin"

type badgeGolden struct {
	ID           string     `json:"id"`
	Code         string     `json:"code"`
	Name         string     `json:"name"`
	Description  *string    `json:"description"`
	IconURL      *string    `json:"icon_url"`
	Category     *string    `json:"category"`
	Rarity       string     `json:"rarity"`
	DisplayOrder int        `json:"display_order"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	IsActive     bool       `json:"is_active"`
	CreatedAt    *time.Time `json:"created_at"`
	UpdatedAt    *time.Time `json:"updated_at"`
}

type messageGolden struct {
	Message string `json:"message"`
}

func TestBricqsBadges(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	r := e.do("POST", admin+"/badges", adminKey, `{"code":"helper","name":"Helper","icon_url":"https://x/h.png","category":"social","rarity":"rare","display_order":3}`)
	r.requireStatus(t, http.StatusCreated)
	var b badgeGolden
	r.decode(t, &b)
	want := badgeGolden{ID: "helper", Code: "helper", Name: "Helper", IconURL: ptr("https://x/h.png"), Category: ptr("social"),
		Rarity: "rare", DisplayOrder: 3, Kind: "manual", Status: "active", IsActive: true, CreatedAt: ptr(t0), UpdatedAt: ptr(t0)}
	require.Equal(t, want, b)
	e.do("POST", admin+"/badges", adminKey, `{"code":"helper","name":"Again"}`).requireError(t, http.StatusConflict, "conflict", "")
	e.do("POST", admin+"/badges", adminKey, `{"code":"x","name":"X","rarity":"mythic"}`).requireStatus(t, http.StatusUnprocessableEntity)
	e.do("POST", admin+"/badges", adminKey, `{"code":"x","title":"X"}`).requireStatus(t, http.StatusUnprocessableEntity)

	type badgePage struct {
		Items    []badgeGolden `json:"items"`
		Total    int           `json:"total"`
		Page     int           `json:"page"`
		PageSize int           `json:"page_size"`
	}
	var p badgePage
	e.do("GET", admin+"/badges?page=2&page_size=2", adminKey, nil).decode(t, &p)
	require.Equal(t, 3, p.Total) // the test game's two and helper
	require.Equal(t, []badgeGolden{want}, p.Items)

	// PATCH is partial; is_active false deactivates.
	e.clock.Advance(time.Minute)
	r = e.do("PATCH", admin+"/badges/helper", adminKey, `{"description":"Helps","is_active":false}`)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &b)
	want.Description, want.Status, want.IsActive, want.UpdatedAt = ptr("Helps"), "inactive", false, ptr(t0.Add(time.Minute))
	require.Equal(t, want, b)
	e.do("PATCH", admin+"/badges/nope", adminKey, `{"name":"X"}`).requireError(t, http.StatusNotFound, "not_found", "")

	var m messageGolden
	e.do("DELETE", admin+"/badges/helper", adminKey, nil).decode(t, &m)
	require.Equal(t, messageGolden{"Badge deleted"}, m)
	e.do("GET", admin+"/badges/helper", adminKey, nil).decode(t, &b)
	require.Equal(t, "archived", b.Status)
	require.False(t, b.IsActive)
	e.do("DELETE", admin+"/badges/helper", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", admin+"/badges", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
}

func TestBricqsTiers(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type tierGolden struct {
		ID              string   `json:"id"`
		Code            string   `json:"code"`
		Name            string   `json:"name"`
		Description     *string  `json:"description"`
		Level           int      `json:"level"`
		Color           *string  `json:"color"`
		IconURL         *string  `json:"icon_url"`
		Benefits        []string `json:"benefits"`
		PointMultiplier *float64 `json:"point_multiplier"`
		CriteriaConfig  struct {
			MinPoints float64 `json:"min_points"`
		} `json:"criteria_config"`
		AwardType    string     `json:"award_type"`
		DisplayOrder int        `json:"display_order"`
		PointsSystem string     `json:"points_system"`
		Status       string     `json:"status"`
		IsActive     bool       `json:"is_active"`
		CreatedAt    *time.Time `json:"created_at"`
		UpdatedAt    *time.Time `json:"updated_at"`
	}
	r := e.do("POST", admin+"/tiers", adminKey, `{"code":"gold","name":"Gold","level":3,"color":"#ffd700","benefits":["free shipping"],
		"point_multiplier":1.5,"criteria_config":{"min_points":10000},"award_type":"automatic"}`)
	r.requireStatus(t, http.StatusCreated)
	var tier tierGolden
	r.decode(t, &tier)
	want := tierGolden{ID: "gold", Code: "gold", Name: "Gold", Level: 3, Color: ptr("#ffd700"), Benefits: []string{"free shipping"},
		PointMultiplier: ptr(1.5), AwardType: "automatic", PointsSystem: "xp", Status: "active", IsActive: true, CreatedAt: ptr(t0), UpdatedAt: ptr(t0)}
	want.CriteriaConfig.MinPoints = 10000
	require.Equal(t, want, tier)
	e.do("POST", admin+"/tiers", adminKey, `{"code":"vip","name":"VIP","level":4,"award_type":"manual","criteria_config":{"min_points":1}}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "award_type")

	var page struct {
		Items    []tierGolden `json:"items"`
		Total    int          `json:"total"`
		Page     int          `json:"page"`
		PageSize int          `json:"page_size"`
	}
	e.do("GET", admin+"/tiers", adminKey, nil).decode(t, &page)
	require.Equal(t, 3, page.Total)
	e.do("GET", admin+"/tiers?system=nope", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")

	r = e.do("PATCH", admin+"/tiers/gold", adminKey, `{"criteria_config":{"min_points":5000},"point_multiplier":null}`)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &tier)
	require.Equal(t, 5000.0, tier.CriteriaConfig.MinPoints)
	require.Nil(t, tier.PointMultiplier)
	require.Equal(t, "Gold", tier.Name)
	var m messageGolden
	e.do("DELETE", admin+"/tiers/gold", adminKey, nil).decode(t, &m)
	require.Equal(t, messageGolden{"Tier deleted"}, m)
}

func TestBricqsStreaksAndLeaderboards(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type streakGoldenB struct {
		ID               string `json:"id"`
		Code             string `json:"code"`
		Name             string `json:"name"`
		Description      *string
		Period           string `json:"period"`
		GracePeriodHours int    `json:"grace_period_hours"`
		DisplayOrder     int    `json:"display_order"`
		Metrics          []struct {
			Metric string  `json:"metric"`
			Min    float64 `json:"min"`
		} `json:"metrics"`
		Mode      string     `json:"mode"`
		Status    string     `json:"status"`
		IsActive  bool       `json:"is_active"`
		CreatedAt *time.Time `json:"created_at"`
		UpdatedAt *time.Time `json:"updated_at"`
	}
	r := e.do("POST", admin+"/streaks", adminKey, `{"code":"weekly","name":"Weekly","period":"weekly","grace_period_hours":12,"metrics":[{"metric":"words","min":100}]}`)
	r.requireStatus(t, http.StatusCreated)
	var s streakGoldenB
	r.decode(t, &s)
	require.Equal(t, "weekly", s.Period)
	require.Equal(t, 12, s.GracePeriodHours)
	require.Equal(t, "all", s.Mode)
	require.Equal(t, 100.0, s.Metrics[0].Min)
	e.do("POST", admin+"/streaks", adminKey, `{"code":"none","name":"No metrics"}`).requireStatus(t, http.StatusUnprocessableEntity)
	e.do("PATCH", admin+"/streaks/weekly", adminKey, `{"grace_period_hours":24}`).decode(t, &s)
	require.Equal(t, 24, s.GracePeriodHours)
	require.Equal(t, "Weekly", s.Name)

	type boardGoldenB struct {
		ID              string     `json:"id"`
		Code            string     `json:"code"`
		Name            string     `json:"name"`
		Description     *string    `json:"description"`
		TimeWindow      string     `json:"time_window"`
		RankBy          string     `json:"rank_by"`
		Metric          *string    `json:"metric"`
		PointsSystem    *string    `json:"points_system"`
		Streak          *string    `json:"streak"`
		SortOrder       string     `json:"sort_order"`
		MaxParticipants *int       `json:"max_participants"`
		StartDate       *string    `json:"start_date"`
		EndDate         *string    `json:"end_date"`
		Status          string     `json:"status"`
		IsActive        bool       `json:"is_active"`
		CreatedAt       *time.Time `json:"created_at"`
		UpdatedAt       *time.Time `json:"updated_at"`
	}
	r = e.do("POST", admin+"/leaderboards", adminKey, `{"code":"monthly-xp","name":"Monthly XP","rank_by":"points","points_system":"xp","time_window":"monthly","max_participants":50}`)
	r.requireStatus(t, http.StatusCreated)
	var b boardGoldenB
	r.decode(t, &b)
	require.Equal(t, boardGoldenB{ID: "monthly-xp", Code: "monthly-xp", Name: "Monthly XP", TimeWindow: "monthly", RankBy: "points",
		PointsSystem: ptr("xp"), SortOrder: "desc", MaxParticipants: ptr(50), StartDate: ptr("2026-03-01"), Status: "active",
		IsActive: true, CreatedAt: ptr(t0), UpdatedAt: ptr(t0)}, b)
	e.do("POST", admin+"/leaderboards", adminKey, `{"code":"x","name":"X","rank_by":"points","points_system":"xp","time_window":"hourly"}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "time_window")
	e.do("GET", admin+"/leaderboards/top-words", adminKey, nil).decode(t, &b)
	require.Equal(t, "all_time", b.TimeWindow)
	e.do("PATCH", admin+"/leaderboards/monthly-xp", adminKey, `{"is_active":false}`).decode(t, &b)
	require.False(t, b.IsActive)
	var m messageGolden
	e.do("DELETE", admin+"/leaderboards/monthly-xp", adminKey, nil).decode(t, &m)
	require.Equal(t, messageGolden{"Leaderboard deleted"}, m)
}

func TestBricqsRewards(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type rewardGolden struct {
		ID               string     `json:"id"`
		Code             string     `json:"code"`
		Name             string     `json:"name"`
		Description      *string    `json:"description"`
		RewardType       string     `json:"reward_type"`
		PointsCost       float64    `json:"points_cost"`
		PointsSystem     *string    `json:"points_system"`
		MaxClaimsPerUser int        `json:"max_claims_per_user"`
		Inventory        *int       `json:"inventory"`
		ExpiresAt        *time.Time `json:"expires_at"`
		Multiplier       *float64   `json:"multiplier"`
		DurationHours    *float64   `json:"duration_hours"`
		Status           string     `json:"status"`
		IsActive         bool       `json:"is_active"`
		CreatedAt        *time.Time `json:"created_at"`
		UpdatedAt        *time.Time `json:"updated_at"`
	}
	r := e.do("POST", admin+"/rewards", adminKey, `{"name":"Coffee","reward_type":"coupon","points_cost":50,"points_system":"xp","inventory":10}`)
	r.requireStatus(t, http.StatusCreated)
	var rw rewardGolden
	r.decode(t, &rw)
	require.Regexp(t, `^gamify_[0-9a-f]{8}$`, rw.Code)
	require.Equal(t, rewardGolden{ID: rw.Code, Code: rw.Code, Name: "Coffee", RewardType: "coupon", PointsCost: 50, PointsSystem: ptr("xp"),
		MaxClaimsPerUser: 1, Inventory: ptr(10), Status: "active", IsActive: true, CreatedAt: ptr(t0), UpdatedAt: ptr(t0)}, rw)

	r = e.do("POST", admin+"/rewards", adminKey, `{"code":"double","name":"2x","reward_type":"points_multiplier","points_system":"xp","multiplier":2,"duration_hours":24}`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &rw)
	require.Equal(t, ptr(2.0), rw.Multiplier)
	require.Equal(t, ptr(24.0), rw.DurationHours)

	e.do("PATCH", admin+"/rewards/double", adminKey, `{"max_claims_per_user":3}`).decode(t, &rw)
	require.Equal(t, 3, rw.MaxClaimsPerUser)
	require.Equal(t, ptr(2.0), rw.Multiplier)
	e.do("PATCH", admin+"/rewards/double", adminKey, `{"points_cost":"lots"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "points_cost")
	e.do("POST", admin+"/rewards", adminKey, `{"code":"bad","name":"Bad","reward_type":"hug"}`).requireStatus(t, http.StatusUnprocessableEntity)

	var m messageGolden
	e.do("DELETE", admin+"/rewards/double", adminKey, nil).decode(t, &m)
	require.Equal(t, messageGolden{"Reward deleted"}, m)
	got, err := e.eng.Rewards().Get(context.Background(), "double")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
}

func TestBricqsRewardCodes(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.do("POST", admin+"/rewards", adminKey, `{"code":"coffee","name":"Coffee","reward_type":"coupon"}`).requireStatus(t, http.StatusCreated)
	type addedGolden struct {
		Added          int `json:"added"`
		AvailableCodes int `json:"available_codes"`
	}
	var a addedGolden
	r := e.do("POST", admin+"/rewards/coffee/codes", adminKey, `{"codes":["C-1","C-2","C-3"]}`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &a)
	require.Equal(t, addedGolden{3, 3}, a)
	e.do("POST", admin+"/rewards/coffee/codes", adminKey, `{"codes":["C-3","C-4"]}`).decode(t, &a)
	require.Equal(t, addedGolden{1, 4}, a) // C-3 was loaded already
	type codesGolden struct {
		Items    []string `json:"items"`
		Total    int      `json:"total"`
		Page     int      `json:"page"`
		PageSize int      `json:"page_size"`
	}
	var p codesGolden
	e.do("GET", admin+"/rewards/coffee/codes?page=2&page_size=3", adminKey, nil).decode(t, &p)
	require.Equal(t, codesGolden{Items: []string{"C-4"}, Total: 4, Page: 2, PageSize: 3}, p)
	e.do("POST", admin+"/rewards/nope/codes", adminKey, `{"codes":["x"]}`).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("POST", admin+"/rewards/coffee/codes", adminKey, `{"codes":[]}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "codes")
	e.do("GET", admin+"/rewards/coffee/codes", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
}

// TestBricqsRewardDurationBound checks duration_hours beyond 100 years is
// refused, not wrapped by the multiplication into a short boost.
func TestBricqsRewardDurationBound(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	const body = `{"code":"double","name":"2x","reward_type":"points_multiplier","points_system":"xp","multiplier":2,"duration_hours":%d}`
	for _, h := range []int{5124096, 876001, -1} {
		e.do("POST", admin+"/rewards", adminKey, fmt.Sprintf(body, h)).requireError(t, http.StatusUnprocessableEntity, "invalid", "duration_hours")
	}
	e.do("GET", admin+"/rewards/double", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("POST", admin+"/rewards", adminKey, fmt.Sprintf(body, 876000)).requireStatus(t, http.StatusCreated)
	e.do("PATCH", admin+"/rewards/double", adminKey, `{"duration_hours":5124096}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "duration_hours")
}

// TestBricqsUnknownNestedField checks an unknown field inside an array
// element of a Bricqs admin body is named by its JSON path, as a top-level
// one is named by its name, on create and update, and changes nothing.
func TestBricqsUnknownNestedField(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.do("POST", admin+"/streaks", adminKey, `{"code":"weekly","name":"Weekly","metrics":[{"metric":"words","min":1,"foo":2}]}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "metrics[0].foo")
	e.do("GET", admin+"/streaks/weekly", adminKey, nil).requireStatus(t, http.StatusNotFound)
	// Field names match as encoding/json matches them: case-insensitively.
	b := e.do("PATCH", admin+"/streaks/daily", adminKey, `{"name":"D","metrics":[{"metric":"words","min":1},{"Metric":"words","MIN":2,"minimum":3}]}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "metrics[1].minimum")
	require.Contains(t, b.Error, `"metrics[1].minimum"`)
	e.do("PATCH", admin+"/streaks/daily", adminKey, `{"nme":"D"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "nme")
	// A value of the wrong type is named with its index too.
	e.do("PATCH", admin+"/streaks/daily", adminKey, `{"metrics":[{"metric":"words","min":1},{"metric":"words","min":"two"}]}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "metrics[1].min")
	s, err := e.eng.Streaks().Get(context.Background(), "daily")
	require.NoError(t, err)
	require.Equal(t, "Daily writing", s.Name)
	// Trophy's items too: the path inside the item.
	var u struct {
		Updated []map[string]any `json:"updated"`
		Issues  []issueGolden    `json:"issues"`
	}
	e.do("PATCH", "/admin/v1/points/systems/xp/triggers", adminKey, `[{"id":"xp-words","userAttributes":[{"attributeId":"plan","attributeValue":"a","x":1}]}]`).decode(t, &u)
	require.Len(t, u.Issues, 1)
	require.Equal(t, `unknown field "userAttributes[0].x"`, u.Issues[0].Message)
	// A value of the wrong type is named with its index too.
	u.Issues = nil
	e.do("PATCH", "/admin/v1/points/systems/xp/triggers", adminKey, `[{"id":"xp-words","userAttributes":[{"attributeId":"plan","attributeValue":"a"},{"attributeId":"tier","attributeValue":5}]}]`).decode(t, &u)
	require.Len(t, u.Issues, 1)
	require.Contains(t, u.Issues[0].Message, "userAttributes[1].attributeValue must be a JSON string")
}
