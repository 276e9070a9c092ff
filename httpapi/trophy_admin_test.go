package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

type issueGolden struct {
	Index    *int   `json:"index"`
	ID       string `json:"id"`
	UserID   string `json:"userId"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

type batchGolden struct {
	Accepted int           `json:"accepted"`
	Issues   []issueGolden `json:"issues"`
}

func (e *env) total(user string) string {
	e.t.Helper()
	m, err := e.eng.Users().Metric(context.Background(), user, "words")
	if err != nil {
		return "missing"
	}
	return m.Total.String()
}

func TestTrophyBatchEvents(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	const path = "/admin/v1/metrics/events"
	// All valid: one commit for the lot.
	r := e.do("POST", path, adminKey, `[
		{"key":"words","user":{"id":"ana"},"value":2,"idempotencyKey":"a1"},
		{"key":"words","user":{"id":"bo"},"value":3},
		{"key":"words","user":{"id":"ana"},"value":2,"idempotencyKey":"a1"}]`)
	r.requireStatus(t, http.StatusAccepted)
	var got batchGolden
	r.decode(t, &got)
	require.Equal(t, batchGolden{Accepted: 2, Issues: []issueGolden{}}, got, "the repeated key is applied, and counted, once")
	require.Equal(t, "2", e.total("ana"))
	require.Equal(t, "3", e.total("bo"))

	// Bad items are reported by index; the others are applied.
	r = e.do("POST", path, adminKey, `[
		{"key":"words","user":{"id":"ana"},"value":1},
		{"user":{"id":"ana"},"value":1},
		{"key":"words","user":{"id":"ana"},"value":"x"},
		{"key":"nosuch","user":{"id":"cy"},"value":1},
		{"key":"words","user":{"id":"bo"},"value":5,"idempotencyKey":"b1"},
		{"key":"words","user":{"id":"bo"},"value":6,"idempotencyKey":"b1"}]`)
	r.requireStatus(t, http.StatusAccepted)
	r.decode(t, &got)
	require.Equal(t, 2, got.Accepted)
	var idx []int
	for _, is := range got.Issues {
		require.Equal(t, "error", is.Severity)
		require.NotEmpty(t, is.Message)
		idx = append(idx, *is.Index)
	}
	require.Equal(t, []int{1, 2, 3, 5}, idx)
	require.Equal(t, "nosuch", got.Issues[2].ID, "an issue names the item's metric")
	require.Equal(t, "cy", got.Issues[2].UserID, "and its user")
	require.Equal(t, "3", e.total("ana"))
	require.Equal(t, "8", e.total("bo"))
	require.Equal(t, "missing", e.total("cy"))

	e.do("POST", path, appKey, `[]`).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("POST", path, adminKey, `[]`).requireError(t, http.StatusUnprocessableEntity, "invalid", "events")
	e.do("POST", path, adminKey, `{"key":"words"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "")
}

func TestTrophyStreakFreezesAndRestore(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	type freezeGolden struct {
		Issues []issueGolden `json:"issues"`
	}
	r := e.do("POST", "/admin/v1/streaks/freezes", adminKey, `{"freezes":[{"userId":"ana"},{"userId":"ana"},{"userId":"nobody"}]}`)
	r.requireStatus(t, http.StatusCreated)
	var got freezeGolden
	r.decode(t, &got)
	var warnings, errs int
	for _, is := range got.Issues {
		switch is.Severity {
		case "warning":
			warnings++
		case "error":
			errs++
			require.Equal(t, "nobody", is.UserID)
		}
	}
	require.Equal(t, 1, errs)
	require.Zero(t, warnings) // 1 initial + 2 = 3, the max
	st, err := e.eng.Users().Streak(context.Background(), "ana", "daily")
	require.NoError(t, err)
	require.Equal(t, 3, st.Freezes)
	r = e.do("POST", "/admin/v1/streaks/freezes", adminKey, `{"freezes":[{"userId":"ana"}]}`)
	r.decode(t, &got)
	require.Len(t, got.Issues, 1)
	require.Equal(t, "warning", got.Issues[0].Severity)
	e.do("POST", "/admin/v1/streaks/freezes", adminKey, `{"freezes":[]}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "freezes")

	type restoreGolden struct {
		RestoredUsers []string      `json:"restoredUsers"`
		Issues        []issueGolden `json:"issues"`
	}
	var rg restoreGolden
	e.do("POST", "/admin/v1/streaks/restore", adminKey, `{"users":[{"id":"ana"}]}`).decode(t, &rg)
	require.Empty(t, rg.RestoredUsers)
	require.Len(t, rg.Issues, 1)
	require.Equal(t, "warning", rg.Issues[0].Severity)
}

type metricAdminGolden struct {
	ID          string     `json:"id"`
	Key         string     `json:"key"`
	Name        *string    `json:"name"`
	Description *string    `json:"description"`
	UnitType    *string    `json:"unitType"`
	Units       *string    `json:"units"`
	Status      string     `json:"status"`
	Created     *time.Time `json:"created"`
	Updated     *time.Time `json:"updated"`
}

func TestTrophyAdminMetrics(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type createdGolden struct {
		Created []metricAdminGolden `json:"created"`
		Issues  []issueGolden       `json:"issues"`
	}
	r := e.do("POST", "/admin/v1/metrics", adminKey, `[
		{"key":"revenue","name":"Revenue","unitType":"currency","units":"USD"},
		{"key":"words","name":"Again"},
		{"key":"bad key","name":"X"},
		{"key":"typo","nmae":"X"}]`)
	r.requireStatus(t, http.StatusCreated)
	var c createdGolden
	r.decode(t, &c)
	require.Equal(t, []metricAdminGolden{{ID: "revenue", Key: "revenue", Name: ptr("Revenue"), UnitType: ptr("currency"),
		Units: ptr("USD"), Status: "active", Created: ptr(t0), Updated: ptr(t0)}}, c.Created)
	require.Len(t, c.Issues, 3)
	require.Equal(t, []int{1, 2, 3}, []int{*c.Issues[0].Index, *c.Issues[1].Index, *c.Issues[2].Index})
	// Nothing created: 200.
	e.do("POST", "/admin/v1/metrics", adminKey, `[{"key":"words","name":"Again"}]`).requireStatus(t, http.StatusOK)

	var list []metricAdminGolden
	e.do("GET", "/admin/v1/metrics?limit=1&skip=1", adminKey, nil).decode(t, &list)
	require.Equal(t, c.Created, list)
	var one metricAdminGolden
	e.do("GET", "/admin/v1/metrics/revenue", adminKey, nil).decode(t, &one)
	require.Equal(t, c.Created[0], one)
	e.do("GET", "/admin/v1/metrics/nope", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/admin/v1/metrics?limit=0", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "limit")

	type updatedGolden struct {
		Updated []metricAdminGolden `json:"updated"`
		Issues  []issueGolden       `json:"issues"`
	}
	var u updatedGolden
	e.do("PATCH", "/admin/v1/metrics", adminKey, `[{"id":"revenue","name":"Sales"},{"id":"nope","name":"X"},{"id":"words","status":"inactive"}]`).decode(t, &u)
	require.Len(t, u.Updated, 2)
	require.Equal(t, ptr("Sales"), u.Updated[0].Name)
	require.Equal(t, ptr("USD"), u.Updated[0].Units) // kept: a patch
	require.Equal(t, "inactive", u.Updated[1].Status)
	require.Equal(t, []issueGolden{{Index: ptr(1), ID: "nope", Severity: "error", Message: u.Issues[0].Message}}, u.Issues)

	type deletedGolden struct {
		Deleted []string      `json:"deleted"`
		Issues  []issueGolden `json:"issues"`
	}
	var d deletedGolden
	e.do("DELETE", "/admin/v1/metrics?ids=revenue,nope", adminKey, nil).decode(t, &d)
	require.Equal(t, []string{"revenue"}, d.Deleted)
	require.Len(t, d.Issues, 1)
	require.Equal(t, "nope", d.Issues[0].ID)
	m, err := e.eng.Metrics().Get(context.Background(), "revenue")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, m.Status)
	e.do("DELETE", "/admin/v1/metrics", adminKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "ids")
}

func TestTrophyAdminAttributesAndTenants(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type attrGolden struct {
		ID      string     `json:"id"`
		Key     string     `json:"key"`
		Name    *string    `json:"name"`
		Type    string     `json:"type"`
		Status  string     `json:"status"`
		Created *time.Time `json:"created"`
		Updated *time.Time `json:"updated"`
	}
	var ca struct {
		Created []attrGolden  `json:"created"`
		Issues  []issueGolden `json:"issues"`
	}
	e.do("POST", "/admin/v1/attributes", adminKey, `[{"key":"country","name":"Country","type":"user"}]`).decode(t, &ca)
	require.Equal(t, []attrGolden{{ID: "country", Key: "country", Name: ptr("Country"), Type: "user", Status: "active", Created: ptr(t0), Updated: ptr(t0)}}, ca.Created)

	type tenantGolden struct {
		ID         string     `json:"id"`
		CustomerID string     `json:"customerId"`
		Name       *string    `json:"name"`
		Status     string     `json:"status"`
		Created    *time.Time `json:"created"`
		Updated    *time.Time `json:"updated"`
	}
	var ct struct {
		Created []tenantGolden `json:"created"`
		Issues  []issueGolden  `json:"issues"`
	}
	r := e.do("POST", "/admin/v1/tenants", adminKey, `[{"customerId":"globex","name":"Globex"}]`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &ct)
	require.Equal(t, []tenantGolden{{ID: "globex", CustomerID: "globex", Name: ptr("Globex"), Status: "active", Created: ptr(t0), Updated: ptr(t0)}}, ct.Created)
	// The new tenant is served at once.
	e.do("POST", "/v1/users", adminKey, `{"id":"ana"}`, "Tenant-ID", "globex").requireStatus(t, http.StatusCreated)
	var tl []tenantGolden
	e.do("GET", "/admin/v1/tenants", adminKey, nil).decode(t, &tl)
	require.Len(t, tl, 2)
}

func TestTrophyAdminLeaderboards(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type adminBoardGolden struct {
		boardGolden
		StartTime *string    `json:"startTime"`
		EndTime   *string    `json:"endTime"`
		Created   *time.Time `json:"created"`
		Updated   *time.Time `json:"updated"`
	}
	var c struct {
		Created []adminBoardGolden `json:"created"`
		Issues  []issueGolden      `json:"issues"`
	}
	e.do("POST", "/admin/v1/leaderboards", adminKey, `[
		{"key":"weekly-xp","name":"Weekly XP","rankBy":"points","pointsSystemId":"xp","runUnit":"week","maxParticipants":100,"status":"inactive"},
		{"key":"x","name":"X","rankBy":"points","pointsSystemId":"xp","start":"March 1"}]`).decode(t, &c)
	require.Equal(t, []adminBoardGolden{{boardGolden: boardGolden{ID: "weekly-xp", Key: "weekly-xp", Name: "Weekly XP", RankBy: "points",
		PointsSystemKey: "xp", Status: "inactive", Start: ptr("2026-03-09"), MaxParticipants: 100, BreakdownAttributes: []string{},
		RunUnit: ptr("week"), RunInterval: 1}, Created: ptr(t0), Updated: ptr(t0)}}, c.Created)
	require.Len(t, c.Issues, 1)
	require.Equal(t, 1, *c.Issues[0].Index)

	var u struct {
		Updated []adminBoardGolden `json:"updated"`
		Issues  []issueGolden      `json:"issues"`
	}
	// While inactive, what the board ranks can change (as in Trophy): a new
	// rankBy drops the old source.
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"weekly-xp","rankBy":"metric","metricId":"words"}]`).decode(t, &u)
	require.Empty(t, u.Issues)
	b, err := e.eng.Leaderboards().Get(context.Background(), "weekly-xp")
	require.NoError(t, err)
	require.Equal(t, gamify.RankByMetric, b.RankBy)
	require.Equal(t, "words", b.Metric)
	require.Empty(t, b.System)
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"weekly-xp","rankBy":"points","pointsSystemId":"xp"}]`).decode(t, &u)
	require.Empty(t, u.Issues)
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"weekly-xp","name":"Weekly","status":"active"}]`).decode(t, &u)
	require.Empty(t, u.Issues)
	require.Equal(t, "Weekly", u.Updated[0].Name)
	require.Equal(t, "points", u.Updated[0].RankBy)
	require.Equal(t, "active", u.Updated[0].Status)
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"weekly-xp","rankBy":"metric","metricId":"words"}]`).decode(t, &u)
	require.Len(t, u.Issues, 1, "active: no longer")
	require.Contains(t, u.Issues[0].Message, "cannot change")
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"weekly-xp","status":"finished"}]`).decode(t, &u)
	require.Equal(t, "finished", u.Updated[0].Status)
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"weekly-xp","status":"archived"}]`).decode(t, &u)
	require.Len(t, u.Issues, 1)
}

func TestTrophyAdminPointsSystemsAndBoosts(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type adminSystemGolden struct {
		systemGolden
		Status  string     `json:"status"`
		Created *time.Time `json:"created"`
		Updated *time.Time `json:"updated"`
	}
	var cs struct {
		Created []adminSystemGolden `json:"created"`
		Issues  []issueGolden       `json:"issues"`
	}
	e.do("POST", "/admin/v1/points/systems", adminKey, `[{"key":"coins","name":"Coins","maxPoints":1000}]`).decode(t, &cs)
	require.Equal(t, []adminSystemGolden{{systemGolden: systemGolden{ID: "coins", Key: "coins", Name: "Coins", MaxPoints: ptr(1000.0)},
		Status: "active", Created: ptr(t0), Updated: ptr(t0)}}, cs.Created)
	var us struct {
		Updated []adminSystemGolden `json:"updated"`
		Issues  []issueGolden       `json:"issues"`
	}
	e.do("PATCH", "/admin/v1/points/systems", adminKey, `[{"id":"coins","maxPoints":null}]`).decode(t, &us)
	require.Nil(t, us.Updated[0].MaxPoints)

	type adminBoostGolden struct {
		boostGolden
		UserAttributes []kvGolden `json:"userAttributes"`
		Created        *time.Time `json:"created"`
		Updated        *time.Time `json:"updated"`
	}
	var cb struct {
		Created []adminBoostGolden `json:"created"`
		Issues  []issueGolden      `json:"issues"`
	}
	const boosts = "/admin/v1/points/systems/xp/boosts"
	e.do("POST", boosts, adminKey, `[
		{"key":"ana-2x","name":"Ana double","userId":"ana","start":"2026-03-10","end":"2026-03-10","multiplier":2},
		{"key":"pro","name":"Pro","userAttributes":[{"attributeId":"plan","attributeValue":"pro"}],"start":"2026-03-01","multiplier":1.5,"rounding":"up"},
		{"name":"Generated","start":"2026-03-01","multiplier":3},
		{"key":"bad","multiplier":1}]`).decode(t, &cb)
	require.Len(t, cb.Created, 3)
	require.Equal(t, adminBoostGolden{boostGolden: boostGolden{ID: "ana-2x", Name: "Ana double", Status: "active", Start: ptr("2026-03-10"),
		End: ptr("2026-03-10"), Multiplier: 2, Rounding: "down", UserID: "ana"}, UserAttributes: []kvGolden{}, Created: ptr(t0), Updated: ptr(t0)}, cb.Created[0])
	require.Equal(t, []kvGolden{{"plan", "pro"}}, cb.Created[1].UserAttributes)
	require.Regexp(t, `^boost_[0-9a-f]{16}$`, cb.Created[2].ID)
	require.Len(t, cb.Issues, 1)
	require.Equal(t, 3, *cb.Issues[0].Index)

	// The per-user boost doubles ana's award today.
	var ev eventGolden
	e.track("ana", 1).decode(t, &ev)
	require.Equal(t, 12.0, ev.Points["xp"].Added) // 2 points × 2 (ana-2x) × 3 (generated)

	var list []adminBoostGolden
	e.do("GET", boosts, adminKey, nil).decode(t, &list)
	require.Len(t, list, 3)
	e.do("GET", "/admin/v1/points/systems/nope/boosts", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	var one adminBoostGolden
	e.do("GET", boosts+"/pro", adminKey, nil).decode(t, &one)
	require.Equal(t, cb.Created[1], one)
	// A boost is found only under its own system.
	e.do("GET", "/admin/v1/points/systems/coins/boosts/pro", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	var d struct {
		Deleted []string      `json:"deleted"`
		Issues  []issueGolden `json:"issues"`
	}
	e.do("DELETE", "/admin/v1/points/systems/coins/boosts?ids=pro", adminKey, nil).decode(t, &d)
	require.Empty(t, d.Deleted)
	b, err := e.eng.Points().Boosts().Get(context.Background(), "pro")
	require.NoError(t, err)
	require.NotEqual(t, gamify.StatusArchived, b.Status)

	var ub struct {
		Updated []adminBoostGolden `json:"updated"`
		Issues  []issueGolden      `json:"issues"`
	}
	e.do("PATCH", boosts, adminKey, `[{"id":"pro","multiplier":3},{"id":"pro","multiplier":"big"}]`).decode(t, &ub)
	require.Equal(t, 3.0, ub.Updated[0].Multiplier)
	require.Len(t, ub.Issues, 1)
	// A cohort boost's userAttributes are updated; a boost of another scope has none to update.
	ub.Updated, ub.Issues = nil, nil
	e.do("PATCH", boosts, adminKey, `[{"id":"pro","userAttributes":[{"attributeId":"plan","attributeValue":"team"}]},
		{"id":"ana-2x","userAttributes":[{"attributeId":"plan","attributeValue":"team"}]}]`).decode(t, &ub)
	require.Len(t, ub.Updated, 1)
	require.Equal(t, []kvGolden{{"plan", "team"}}, ub.Updated[0].UserAttributes)
	b, err = e.eng.Points().Boosts().Get(context.Background(), "pro")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"plan": "team"}, b.UserFilters)
	require.Len(t, ub.Issues, 1)
	require.Contains(t, ub.Issues[0].Message, "userAttributes")
	e.do("DELETE", boosts+"?ids=pro", adminKey, nil).decode(t, &d)
	require.Equal(t, []string{"pro"}, d.Deleted)
}

func TestTrophyAdminTriggersAndLevels(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	const triggers = "/admin/v1/points/systems/xp/triggers"
	type adminTriggerGolden struct {
		triggerGolden
		BlockIfOutOfPoints bool       `json:"blockIfOutOfPoints"`
		Created            *time.Time `json:"created"`
		Updated            *time.Time `json:"updated"`
	}
	var c struct {
		Created []adminTriggerGolden `json:"created"`
		Issues  []issueGolden        `json:"issues"`
	}
	r := e.do("POST", triggers, adminKey, `[
		{"key":"onboard","type":"achievement","achievementId":"onboarded","points":50,"status":"active"},
		{"type":"streak","streakLengthThreshold":7,"points":100},
		{"key":"energy","type":"time","timeUnit":"hour","timeInterval":1,"points":1,"userAttributes":[{"attributeId":"plan","attributeValue":"pro"}]},
		{"key":"bad","type":"metric","metricId":"words","points":0,"metricThreshold":1}]`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &c)
	require.Len(t, c.Created, 3)
	require.Equal(t, adminTriggerGolden{triggerGolden: triggerGolden{ID: "onboard", Type: "achievement", Points: 50, Status: "active",
		AchievementID: "onboarded", UserAttributes: []kvGolden{}}, Created: ptr(t0), Updated: ptr(t0)}, c.Created[0])
	require.Regexp(t, `^trigger_[0-9a-f]{16}$`, c.Created[1].ID)
	require.Equal(t, "inactive", c.Created[1].Status) // Trophy's default
	require.Equal(t, 7, c.Created[1].StreakLength)
	require.Equal(t, "hours", c.Created[2].TimeUnit)
	require.Equal(t, []kvGolden{{"plan", "pro"}}, c.Created[2].UserAttributes)
	require.Equal(t, []issueGolden{{Index: ptr(3), ID: "bad", Severity: "error", Message: c.Issues[0].Message}}, c.Issues)

	// The active achievement trigger pays on completion.
	var comp struct {
		Points map[string]pointsDiffGolden `json:"points"`
	}
	r = e.do("POST", "/v1/achievements/onboarded/complete", appKey, `{"user":{"id":"ana"}}`)
	require.NoError(t, json.Unmarshal(r.body, &comp))
	require.Equal(t, 50.0, comp.Points["xp"].Added)

	var list []adminTriggerGolden
	e.do("GET", triggers, adminKey, nil).decode(t, &list)
	require.Len(t, list, 4) // the test game's xp-words and three
	e.do("GET", "/admin/v1/points/systems/nope/triggers", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	var u struct {
		Updated []adminTriggerGolden `json:"updated"`
		Issues  []issueGolden        `json:"issues"`
	}
	e.do("PATCH", triggers, adminKey, `[{"id":"energy","points":2,"status":"active"},{"id":"energy","timeUnit":"weeks"}]`).decode(t, &u)
	require.Equal(t, 2.0, u.Updated[0].Points)
	require.Equal(t, "active", u.Updated[0].Status)
	require.Len(t, u.Issues, 1)

	// Another system's path does not reach xp's triggers.
	_, err := e.eng.Points().Create(context.Background(), gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	e.do("GET", "/admin/v1/points/systems/coins/triggers/energy", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("PATCH", "/admin/v1/points/systems/coins/triggers", adminKey, `[{"id":"energy","points":9}]`).decode(t, &u)
	require.Empty(t, u.Updated)
	var d struct {
		Deleted []string      `json:"deleted"`
		Issues  []issueGolden `json:"issues"`
	}
	e.do("DELETE", "/admin/v1/points/systems/coins/triggers?ids=energy", adminKey, nil).decode(t, &d)
	require.Empty(t, d.Deleted)
	e.do("DELETE", triggers+"?ids=energy", adminKey, nil).decode(t, &d)
	require.Equal(t, []string{"energy"}, d.Deleted)

	// Levels: numbered after the highest when no number is given.
	type adminLevelGolden struct {
		levelGolden
		Level   int        `json:"level"`
		Status  string     `json:"status"`
		Created *time.Time `json:"created"`
		Updated *time.Time `json:"updated"`
	}
	var cl struct {
		Created []adminLevelGolden `json:"created"`
		Issues  []issueGolden      `json:"issues"`
	}
	e.do("POST", "/admin/v1/points/systems/xp/levels", adminKey, `[{"key":"gold","name":"Gold","points":100},{"key":"dup","name":"Dup","points":20}]`).decode(t, &cl)
	require.Equal(t, []adminLevelGolden{{levelGolden: levelGolden{ID: "gold", Key: "gold", Name: "Gold", Points: 100}, Level: 3,
		Status: "active", Created: ptr(t0), Updated: ptr(t0)}}, cl.Created)
	require.Len(t, cl.Issues, 1) // threshold 20 is silver's
	var levels []adminLevelGolden
	e.do("GET", "/admin/v1/points/systems/xp/levels", adminKey, nil).decode(t, &levels)
	require.Len(t, levels, 3)
	var ul struct {
		Updated []adminLevelGolden `json:"updated"`
		Issues  []issueGolden      `json:"issues"`
	}
	e.do("PATCH", "/admin/v1/points/systems/xp/levels", adminKey, `[{"id":"gold","badgeUrl":"https://x/g.png"}]`).decode(t, &ul)
	require.Equal(t, ptr("https://x/g.png"), ul.Updated[0].BadgeURL)
	require.Equal(t, 100.0, ul.Updated[0].Points)
	e.do("GET", "/admin/v1/points/systems/coins/levels/gold", adminKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
}

func TestTrophyAdminSystemWithSubItems(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	var c struct {
		Created []struct {
			ID       string            `json:"id"`
			Levels   []json.RawMessage `json:"levels"`
			Triggers []json.RawMessage `json:"triggers"`
			Boosts   []json.RawMessage `json:"boosts"`
		} `json:"created"`
		Issues []issueGolden `json:"issues"`
	}
	r := e.do("POST", "/admin/v1/points/systems", adminKey, `[
		{"key":"coins","name":"Coins","levels":[{"key":"c1","name":"C1","points":0},{"key":"c2","name":"C2","points":50}],
		 "triggers":[{"key":"coin-words","type":"metric","metricId":"words","metricThreshold":1,"points":5,"status":"active"}],
		 "boosts":[{"key":"coin-2x","start":"2026-03-01","multiplier":2}]},
		{"key":"gems","name":"Gems","triggers":[{"type":"metric","metricId":"words","points":"many"}]}]`)
	r.requireStatus(t, http.StatusCreated)
	require.NoError(t, json.Unmarshal(r.body, &c))
	require.Len(t, c.Created, 1)
	require.Len(t, c.Created[0].Levels, 2)
	require.Len(t, c.Created[0].Triggers, 1)
	require.Len(t, c.Created[0].Boosts, 1)
	require.Len(t, c.Issues, 1)
	require.Equal(t, 1, *c.Issues[0].Index)
	require.Contains(t, c.Issues[0].Message, "triggers[0]")
	_, err := e.eng.Points().Get(context.Background(), "gems")
	require.ErrorIs(t, err, gamify.ErrNotFound) // all or nothing per system

	var ev eventGolden
	e.track("ana", 6).decode(t, &ev)
	require.Equal(t, 60.0, ev.Points["coins"].Added) // 6 × 5, doubled
	require.Equal(t, "c2", ev.Points["coins"].Level.Key)

	var u struct {
		Updated []json.RawMessage `json:"updated"`
		Issues  []issueGolden     `json:"issues"`
	}
	e.do("PATCH", "/admin/v1/points/systems", adminKey, `[{"id":"coins","levels":[]}]`).decode(t, &u)
	require.Empty(t, u.Updated)
	require.Len(t, u.Issues, 1)
}

func TestTrophyStreakPauses(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	type pauseAdminGolden struct {
		ID     string `json:"id"`
		UserID string `json:"userId"`
		Start  string `json:"start"`
		End    string `json:"end"`
		Status string `json:"status"`
	}
	var c struct {
		Created []pauseAdminGolden `json:"created"`
		Issues  []issueGolden      `json:"issues"`
	}
	r := e.do("POST", "/admin/v1/streaks/pauses", adminKey, `{"pauses":[
		{"userId":"ana","start":"2026-03-12","end":"2026-03-14"},
		{"userId":"ana","start":"2026-03-01","end":"2026-03-02"},
		{"userId":"ana","start":"soon","end":"2026-03-02"}]}`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &c)
	require.Len(t, c.Created, 1)
	require.Equal(t, pauseAdminGolden{ID: c.Created[0].ID, UserID: "ana", Start: "2026-03-12", End: "2026-03-14", Status: "active"}, c.Created[0])
	require.Regexp(t, `^ana:\d+$`, c.Created[0].ID)
	require.Len(t, c.Issues, 2) // a start before today, a bad date
	require.Equal(t, []int{1, 2}, []int{*c.Issues[0].Index, *c.Issues[1].Index})

	var st streakGolden
	e.do("GET", "/v1/users/ana/streak", appKey, nil).decode(t, &st)
	require.Equal(t, &[]pauseGolden{{ID: c.Created[0].ID, Start: "2026-03-12", End: "2026-03-14"}}, st.Pauses)

	var d struct {
		Deleted []string      `json:"deleted"`
		Issues  []issueGolden `json:"issues"`
	}
	e.do("DELETE", "/admin/v1/streaks/pauses?ids="+c.Created[0].ID+",ana:99,junk", adminKey, nil).decode(t, &d)
	require.Equal(t, []string{c.Created[0].ID}, d.Deleted)
	require.Len(t, d.Issues, 2)
	e.do("GET", "/v1/users/ana/streak", appKey, nil).decode(t, &st)
	require.Equal(t, &[]pauseGolden{}, st.Pauses)
}

func TestTrophyAdminAchievements(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type adminAchievementGolden struct {
		achievementGolden
		StreakID string     `json:"streakId"`
		Status   string     `json:"status"`
		Created  *time.Time `json:"created"`
		Updated  *time.Time `json:"updated"`
	}
	var c struct {
		Created []adminAchievementGolden `json:"created"`
		Issues  []issueGolden            `json:"issues"`
	}
	e.track("ana", 1).requireStatus(t, http.StatusCreated) // a one-day streak
	r := e.do("POST", "/admin/v1/achievements", adminKey, `[
		{"key":"streak-1","name":"First day","trigger":"streak","streakLength":1},
		{"key":"both","name":"Both","trigger":"achievement","achievementIds":["streak-1","onboarded"]},
		{"key":"pro-100","name":"Pro 100","trigger":"metric","metricId":"words","metricValue":100,
		 "userAttributes":[{"attributeId":"plan","attributeValue":"pro"}],"eventAttributes":[{"attributeId":"source","attributeValue":"web"}]},
		{"key":"bad","name":"Bad","trigger":"vibes"}]`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &c)
	require.Len(t, c.Created, 3)
	require.Equal(t, adminAchievementGolden{achievementGolden: achievementGolden{ID: "streak-1", Key: "streak-1", Name: "First day",
		Trigger: "streak", StreakLength: 1, UserAttributes: []kvGolden{}}, StreakID: "daily", Status: "active", Created: ptr(t0), Updated: ptr(t0)}, c.Created[0])
	require.Equal(t, []string{"streak-1", "onboarded"}, c.Created[1].AchievementIDs)
	require.Equal(t, []kvGolden{{"plan", "pro"}}, c.Created[2].UserAttributes)
	require.Equal(t, []kvGolden{{"source", "web"}}, c.Created[2].EventAttributes)
	require.Equal(t, []issueGolden{{Index: ptr(3), Severity: "error", Message: c.Issues[0].Message}}, c.Issues)

	// Created active, the streak achievement is backdated: ana holds it
	// once the backdating job ran.
	_, err := e.eng.RunDue(context.Background())
	require.NoError(t, err)
	var achs []achievementGolden
	e.do("GET", "/v1/users/ana/achievements", appKey, nil).decode(t, &achs)
	var keys []string
	for _, a := range achs {
		keys = append(keys, a.Key)
	}
	require.Contains(t, keys, "streak-1")

	var u struct {
		Updated []adminAchievementGolden `json:"updated"`
		Issues  []issueGolden            `json:"issues"`
	}
	e.do("PATCH", "/admin/v1/achievements", adminKey, `[{"id":"pro-100","metricValue":50,"status":"locked"},{"id":"both","trigger":"metric"}]`).decode(t, &u)
	require.Len(t, u.Updated, 1)
	require.Equal(t, "locked", u.Updated[0].Status)
	require.Equal(t, ptr(50.0), u.Updated[0].MetricValue)
	require.Len(t, u.Issues, 1) // the trigger is immutable
	require.Equal(t, "both", u.Issues[0].ID)
}

func TestTrophyAdminPatchStatus(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	var u struct {
		Updated []map[string]any `json:"updated"`
		Issues  []issueGolden    `json:"issues"`
	}
	// A status outside the lifecycle changes nothing.
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"top-words","name":"Renamed","status":"paused"}]`).decode(t, &u)
	require.Empty(t, u.Updated)
	require.Len(t, u.Issues, 1)
	b, err := e.eng.Leaderboards().Get(context.Background(), "top-words")
	require.NoError(t, err)
	require.Equal(t, "Top writers", b.Name)
	// A status the state refuses: the fields were updated, the item says so.
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"top-words","status":"finished"}]`).decode(t, &u)
	require.Empty(t, u.Issues)
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"top-words","description":"Old","status":"active"}]`).decode(t, &u)
	require.Len(t, u.Issues, 1)
	require.Contains(t, u.Issues[0].Message, "the other fields were updated")
	b, err = e.eng.Leaderboards().Get(context.Background(), "top-words")
	require.NoError(t, err)
	require.Equal(t, "Old", b.Description)
}

// TestAdminBodiesRefuseUnknownFields checks the admin bodies that are not
// item lists refuse a misspelt field, naming it by its JSON path, and
// change nothing: a batch retried with idempotency_key must not apply twice.
func TestAdminBodiesRefuseUnknownFields(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	_, err := e.eng.Rewards().Create(context.Background(), gamify.Reward{Key: "coffee", Name: "Coffee", Type: gamify.RewardCoupon,
		Cost: gamify.AmountFromInt(5), System: "xp"})
	require.NoError(t, err)
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	batch := `[{"key":"words","user":{"id":"ana"},"value":3,"idempotency_key":"b-1"}]`
	for range 2 {
		e.do("POST", "/admin/v1/metrics/events", adminKey, batch).requireError(t, http.StatusUnprocessableEntity, "invalid", "[0].idempotency_key")
	}
	require.Equal(t, "1", e.total("ana"))
	e.do("POST", "/admin/v1/streaks/freezes", adminKey, `{"freezes":[{"userId":"ana","count":2}]}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "freezes[0].count")
	e.do("POST", "/admin/v1/streaks/restore", adminKey, `{"users":[{"userId":"ana"}]}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "users[0].userId")
	e.do("POST", "/admin/v1/streaks/pauses", adminKey, `{"pauses":[{"userId":"ana","start":"2026-03-12","ends":"2026-03-14"}]}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "pauses[0].ends")
	e.do("POST", "/api/v1/gamify/admin/rewards/coffee/codes", adminKey, `{"code":["C-1"]}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "code")
	n, err := e.eng.Rewards().CodeCount(context.Background(), "coffee")
	require.NoError(t, err)
	require.Zero(t, n)
	// A single admin item names its unknown field too.
	e.do("POST", "/api/v1/gamify/admin/badges", adminKey, `{"code":"x","title":"X"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "title")
}

// TestBoostCreateStatus checks a boost is created active or inactive only:
// another status is an issue, not an active boost.
func TestBoostCreateStatus(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	var cb struct {
		Created []struct {
			Status string `json:"status"`
		} `json:"created"`
		Issues []issueGolden `json:"issues"`
	}
	r := e.do("POST", "/admin/v1/points/systems/xp/boosts", adminKey, `[
		{"key":"a","name":"A","start":"2026-03-01","multiplier":2,"status":"bogus"},
		{"key":"b","name":"B","start":"2026-03-01","multiplier":2,"status":"finished"},
		{"key":"c","name":"C","start":"2026-03-01","multiplier":2,"status":"inactive"},
		{"key":"d","name":"D","start":"2026-03-01","multiplier":2,"status":"active"}]`)
	r.requireStatus(t, http.StatusCreated)
	require.NoError(t, json.Unmarshal(r.body, &cb))
	require.Len(t, cb.Issues, 2)
	require.Equal(t, []int{0, 1}, []int{*cb.Issues[0].Index, *cb.Issues[1].Index})
	require.Len(t, cb.Created, 2)
	require.Equal(t, []string{"inactive", "active"}, []string{cb.Created[0].Status, cb.Created[1].Status})
}

// TestPatchCreateOnlyFields checks a PATCH giving a create-only field a new
// value is an issue naming it, not an ignored field and "updated"; the same
// value is accepted.
func TestPatchCreateOnlyFields(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	_, err := e.eng.Points().Boosts().Create(context.Background(), gamify.Boost{Key: "ana-2x", System: "xp", Scope: gamify.BoostUser, User: "ana",
		Start: t0, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	var u struct {
		Updated []json.RawMessage `json:"updated"`
		Issues  []issueGolden     `json:"issues"`
	}
	for path, items := range map[string][]string{
		"/admin/v1/leaderboards":               {`{"id":"top-words","rankBy":"points"}`, `{"id":"top-words","metricId":"other"}`, `{"id":"top-words","pointsSystemId":"xp"}`, `{"id":"top-words","rankBy":"metric","metricId":"words","name":"Top"}`},
		"/admin/v1/points/systems/xp/triggers": {`{"id":"xp-words","type":"streak"}`, `{"id":"xp-words","metricId":"other"}`, `{"id":"xp-words","type":"metric","metricId":"words","points":3}`},
		"/admin/v1/attributes":                 {`{"id":"plan","type":"event"}`, `{"id":"plan","type":"user","name":"Plan"}`},
		"/admin/v1/points/systems/xp/boosts":   {`{"id":"ana-2x","userId":"bo"}`, `{"id":"ana-2x","userId":"ana","name":"Ana"}`},
	} {
		r := e.do("PATCH", path, adminKey, "["+strings.Join(items, ",")+"]")
		r.requireStatus(t, http.StatusOK)
		require.NoError(t, json.Unmarshal(r.body, &u))
		require.Len(t, u.Updated, 1, path)
		require.Len(t, u.Issues, len(items)-1, path)
		for _, is := range u.Issues {
			require.Contains(t, is.Message, "cannot change", path)
		}
	}
	e.do("PATCH", "/api/v1/gamify/admin/badges/onboarded", adminKey, `{"code":"other","name":"X"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "code")
	e.do("PATCH", "/api/v1/gamify/admin/badges/onboarded", adminKey, `{"code":"onboarded","name":"X"}`).requireStatus(t, http.StatusOK)
	// The Bricqs boards and rewards ignored them too.
	_, err = e.eng.Rewards().Create(context.Background(), gamify.Reward{Key: "mug", Name: "Mug", Type: gamify.RewardPhysical,
		Cost: gamify.AmountFromInt(5), System: "xp"})
	require.NoError(t, err)
	for path, body := range map[string]string{
		"/api/v1/gamify/admin/leaderboards/top-words": `{"rank_by":"points","name":"X"}`,
		"/api/v1/gamify/admin/rewards/mug":            `{"points_system":"other","name":"X"}`,
	} {
		field := map[bool]string{true: "rank_by", false: "points_system"}[strings.Contains(path, "leaderboards")]
		e.do("PATCH", path, adminKey, body).requireError(t, http.StatusUnprocessableEntity, "invalid", field)
	}
	e.do("PATCH", "/api/v1/gamify/admin/rewards/mug", adminKey, `{"reward_type":"physical","name":"Big mug"}`).requireStatus(t, http.StatusOK)
	m, err := e.eng.Rewards().Get(context.Background(), "mug")
	require.NoError(t, err)
	require.Equal(t, "Big mug", m.Name)
}

// TestPatchStatusResourceLacks checks a PATCH status the resource has no
// such state for (locked on a metric, finished on an attribute) changes
// nothing, while a board may finish and an achievement lock.
func TestPatchStatusResourceLacks(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	var u struct {
		Updated []json.RawMessage `json:"updated"`
		Issues  []issueGolden     `json:"issues"`
	}
	for path, item := range map[string]string{
		"/admin/v1/metrics":    `{"id":"words","name":"Renamed","status":"locked"}`,
		"/admin/v1/attributes": `{"id":"plan","name":"Renamed","status":"finished"}`,
	} {
		r := e.do("PATCH", path, adminKey, "["+item+"]")
		r.requireStatus(t, http.StatusOK)
		require.NoError(t, json.Unmarshal(r.body, &u))
		require.Empty(t, u.Updated, path)
		require.Len(t, u.Issues, 1, path)
	}
	m, err := e.eng.Metrics().Get(context.Background(), "words")
	require.NoError(t, err)
	require.Equal(t, "Words written", m.Name)
	a, err := e.eng.Attributes().Get(context.Background(), "plan")
	require.NoError(t, err)
	require.Equal(t, "Plan", a.Name)
	for path, item := range map[string]string{
		"/admin/v1/leaderboards": `{"id":"top-words","status":"finished"}`,
		"/admin/v1/achievements": `{"id":"onboarded","status":"locked"}`,
	} {
		r := e.do("PATCH", path, adminKey, "["+item+"]")
		require.NoError(t, json.Unmarshal(r.body, &u))
		require.Len(t, u.Updated, 1, path)
	}
}

// TestTrophyBoardMaxParticipantsRange checks the Trophy dialect takes
// maxParticipants in Trophy's range, 1 to 1000, on create and update (an
// issue naming maxParticipants, nothing changed), and that a board created
// without it has no cap (the engine's 0).
func TestTrophyBoardMaxParticipantsRange(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	var c struct {
		Created []map[string]any `json:"created"`
		Issues  []issueGolden    `json:"issues"`
	}
	e.do("POST", "/admin/v1/leaderboards", adminKey, `[
		{"key":"b0","name":"B0","rankBy":"metric","metricId":"words","maxParticipants":0},
		{"key":"b1","name":"B1","rankBy":"metric","metricId":"words","maxParticipants":1001},
		{"key":"b2","name":"B2","rankBy":"metric","metricId":"words","maxParticipants":1000},
		{"key":"b3","name":"B3","rankBy":"metric","metricId":"words"}]`).decode(t, &c)
	require.Len(t, c.Created, 2)
	require.Len(t, c.Issues, 2)
	for i, is := range c.Issues {
		require.Equal(t, i, *is.Index)
		require.Contains(t, is.Message, "maxParticipants must be 1 to 1000")
	}
	ctx := context.Background()
	b, err := e.eng.Leaderboards().Get(ctx, "b3")
	require.NoError(t, err)
	require.Zero(t, b.MaxParticipants, "absent: unlimited")

	var u struct {
		Updated []map[string]any `json:"updated"`
		Issues  []issueGolden    `json:"issues"`
	}
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"b2","name":"Renamed","maxParticipants":5000},{"id":"b2","maxParticipants":-1},{"id":"b2","maxParticipants":0}]`).decode(t, &u)
	require.Empty(t, u.Updated)
	require.Len(t, u.Issues, 3)
	for _, is := range u.Issues {
		require.Contains(t, is.Message, "maxParticipants must be 1 to 1000")
	}
	b, err = e.eng.Leaderboards().Get(ctx, "b2")
	require.NoError(t, err)
	require.Equal(t, "B2", b.Name)
	require.Equal(t, 1000, b.MaxParticipants)
	e.do("PATCH", "/admin/v1/leaderboards", adminKey, `[{"id":"b2","maxParticipants":1}]`).decode(t, &u)
	require.Empty(t, u.Issues)
	require.EqualValues(t, 1, u.Updated[0]["maxParticipants"])
}

// itemIssue sends a create or update of one Trophy admin item that must
// fail: nothing created or updated, one issue, its message starting with
// prefix.
func (e *env) itemIssue(method, path, body, prefix string) issueGolden {
	e.t.Helper()
	var out struct {
		Created []map[string]any `json:"created"`
		Updated []map[string]any `json:"updated"`
		Issues  []issueGolden    `json:"issues"`
	}
	e.do(method, path, adminKey, body).decode(e.t, &out)
	require.Empty(e.t, out.Created, body)
	require.Empty(e.t, out.Updated, body)
	require.Len(e.t, out.Issues, 1, body)
	require.True(e.t, strings.HasPrefix(out.Issues[0].Message, prefix), out.Issues[0].Message)
	return out.Issues[0]
}

// TestTrophyAttributeFiltersRepeated checks an attribute listed twice in
// userAttributes or eventAttributes is an issue naming the element, on
// create and update, instead of the later value silently winning.
func TestTrophyAttributeFiltersRepeated(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	two := `[{"attributeId":"plan","attributeValue":"a"},{"attributeId":"plan","attributeValue":"b"}]`
	for _, c := range []struct{ method, path, body, field string }{
		{"PATCH", "/admin/v1/achievements", `[{"id":"ten-words","userAttributes":` + two + `}]`, "userAttributes[1].attributeId"},
		{"PATCH", "/admin/v1/achievements", `[{"id":"ten-words","eventAttributes":[{"attributeId":"source","attributeValue":"a"},{"attributeId":"source","attributeValue":"b"}]}]`, "eventAttributes[1].attributeId"},
		{"PATCH", "/admin/v1/points/systems/xp/triggers", `[{"id":"xp-words","userAttributes":` + two + `}]`, "userAttributes[1].attributeId"},
		{"POST", "/admin/v1/achievements", `[{"key":"pro","name":"Pro","trigger":"api","userAttributes":` + two + `}]`, "userAttributes[1].attributeId"},
		{"POST", "/admin/v1/points/systems/xp/triggers", `[{"type":"metric","metricId":"words","metricThreshold":1,"points":1,"userAttributes":` + two + `}]`, "userAttributes[1].attributeId"},
		{"POST", "/admin/v1/points/systems/xp/boosts", `[{"name":"B","start":"2026-03-11","multiplier":2,"userAttributes":` + two + `}]`, "userAttributes[1].attributeId"},
	} {
		e.itemIssue(c.method, c.path, c.body, c.field+": ")
	}
	a, err := e.eng.Achievements().Get(context.Background(), "ten-words")
	require.NoError(t, err)
	require.Empty(t, a.UserFilters)
}

// TestTrophyAttributeFilterElement checks the engine's error about an
// attribute filter (kept by attribute, not by position) names the element
// of userAttributes or eventAttributes the item gave, on update and create.
func TestTrophyAttributeFilterElement(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	for _, c := range []struct{ method, body, prefix string }{
		{"PATCH", `[{"id":"ten-words","userAttributes":[{"attributeId":"plan","attributeValue":"a"},{"attributeId":"nope","attributeValue":"b"}]}]`, "userAttributes[1]: "},
		{"PATCH", `[{"id":"ten-words","eventAttributes":[{"attributeId":"source","attributeValue":"a"},{"attributeId":"plan","attributeValue":"b"}]}]`, "eventAttributes[1]: "},
		{"POST", `[{"key":"pro","name":"Pro","trigger":"api","userAttributes":[{"attributeId":"plan","attributeValue":"a"},{"attributeId":"nope","attributeValue":"b"}]}]`, "userAttributes[1]: "},
	} {
		is := e.itemIssue(c.method, "/admin/v1/achievements", c.body, c.prefix)
		require.Contains(t, is.Message, "Filters[", "the engine's message is kept")
	}
}
