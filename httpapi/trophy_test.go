package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

func TestTrophyMetricEventResponse(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	r := e.do("POST", "/v1/metrics/words/event", appKey, map[string]any{
		"user":       map[string]any{"id": "ana", "name": "Ana", "tz": "Europe/London", "attributes": map[string]string{"plan": "pro"}},
		"value":      12,
		"attributes": map[string]string{"source": "mobile"},
	})
	r.requireStatus(t, http.StatusCreated)
	var got eventGolden
	r.decode(t, &got)
	require.NotEmpty(t, got.EventID)
	require.Len(t, got.Points["xp"].Awards, 1)
	award := got.Points["xp"].Awards[0]
	want := eventGolden{
		EventID: got.EventID, MetricID: "words", Total: 12,
		Achievements: []achievementGolden{{ID: "ten-words", Key: "ten-words", Name: "Ten words", Description: ptr("Write ten words"),
			Trigger: "metric", MetricID: "words", MetricName: "Words written", MetricValue: ptr(10.0),
			UserAttributes: []kvGolden{}, EventAttributes: []kvGolden{}, AchievedAt: ptr(t0)}},
		CurrentStreak: &streakGolden{Length: 1, Frequency: "daily", Started: ptr("2026-03-10"), PeriodStart: ptr("2026-03-10"),
			PeriodEnd: ptr("2026-03-10"), Expires: ptr("2026-03-11"), Freezes: ptr(1), MaxFreezes: ptr(3), Extended: true},
		Points: map[string]pointsDiffGolden{"xp": {systemGolden: systemGolden{ID: "xp", Key: "xp", Name: "XP"}, Total: 24, Added: 24,
			Awards: []awardGolden{{ID: award.ID, Awarded: 24, Date: t0, Total: 24,
				Trigger: &triggerGolden{ID: "xp-words", Type: "metric", Points: 2, Status: "active", MetricID: "words",
					MetricThreshold: ptr(1.0), UserAttributes: []kvGolden{}, EventAttributes: []kvGolden{}},
				Boosts: []boostGolden{}}},
			Level: &levelGolden{ID: "silver", Key: "silver", Name: "Silver", Points: 20}}},
		Leaderboards: map[string]boardChangeGolden{"top-words": {boardGolden: boardGolden{ID: "top-words", Key: "top-words",
			Name: "Top writers", RankBy: "metric", MetricKey: "words", Status: "active", Start: ptr("2026-03-10"),
			BreakdownAttributes: []string{}}, Rank: ptr(1), BreakdownAttributeValues: []kvGolden{}}},
	}
	require.Equal(t, want, got)

	// The profile carried by the event was upserted.
	u, err := e.eng.Users().Get(context.Background(), "ana")
	require.NoError(t, err)
	require.Equal(t, "Ana", u.Name)
	require.Equal(t, "pro", u.Attributes["plan"])

	// A second user's event moves the board: rank 2, then overtakes.
	var bo eventGolden
	e.track("bo", 5).decode(t, &bo)
	require.Equal(t, ptr(2), bo.Leaderboards["top-words"].Rank)
	e.track("bo", 10).decode(t, &bo)
	require.Equal(t, ptr(1), bo.Leaderboards["top-words"].Rank)
	require.Equal(t, ptr(2), bo.Leaderboards["top-words"].PreviousRank)
	require.Empty(t, bo.Achievements[1:])
}

func TestTrophyUsers(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	r := e.do("POST", "/v1/users", appKey, map[string]any{"id": "ana", "email": "ana@example.com", "name": "Ana",
		"tz": "Europe/Paris", "deviceTokens": []string{"tok"}, "attributes": map[string]string{"plan": "free"}})
	r.requireStatus(t, http.StatusCreated)
	var got userGolden
	r.decode(t, &got)
	want := userGolden{ID: "ana", Email: ptr("ana@example.com"), Name: ptr("Ana"), TZ: ptr("Europe/Paris"),
		DeviceTokens: []string{"tok"}, SubscribeToEmails: true, Attributes: map[string]string{"plan": "free"},
		Created: ptr(t0), Updated: ptr(t0)}
	require.Equal(t, want, got)

	var read userGolden
	e.do("GET", "/v1/users/ana", appKey, nil).decode(t, &read)
	require.Equal(t, want, read)

	// PATCH changes only what it gives; an unknown user is 404.
	e.clock.Advance(time.Hour)
	r = e.do("PATCH", "/v1/users/ana", appKey, `{"name":"Ana B","attributes":{"plan":"pro"}}`)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &got)
	want.Name, want.Attributes, want.Updated = ptr("Ana B"), map[string]string{"plan": "pro"}, ptr(t0.Add(time.Hour))
	require.Equal(t, want, got)
	e.do("PATCH", "/v1/users/nobody", appKey, `{"name":"X"}`).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("PATCH", "/v1/users/ana", appKey, `{"id":"bo"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "id")

	// PUT identifies: creates, then updates.
	r = e.do("PUT", "/v1/users/bo", appKey, `{"name":"Bo","subscribeToEmails":false,"email":"bo@example.com"}`)
	r.requireStatus(t, http.StatusOK)
	var bo userGolden
	r.decode(t, &bo)
	require.Equal(t, userGolden{ID: "bo", Name: ptr("Bo"), DeviceTokens: []string{}, Attributes: map[string]string{},
		Created: ptr(t0.Add(time.Hour)), Updated: ptr(t0.Add(time.Hour))}, bo)
	e.do("PUT", "/v1/users/bo", appKey, `{"name":"Bob"}`).decode(t, &bo)
	require.Equal(t, ptr("Bob"), bo.Name)
	e.do("PUT", "/v1/users/bo", appKey, `{"attributes":{"nope":"x"}}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "User.Attributes[nope]")
}

func TestTrophyUserReads(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 4).requireStatus(t, http.StatusCreated)
	e.clock.Advance(24 * time.Hour)
	e.track("ana", 8).requireStatus(t, http.StatusCreated)

	type metricGolden struct {
		ID           string              `json:"id"`
		Key          string              `json:"key"`
		Name         string              `json:"name"`
		Current      float64             `json:"current"`
		Achievements []achievementGolden `json:"achievements"`
	}
	var ms []metricGolden
	e.do("GET", "/v1/users/ana/metrics", appKey, nil).decode(t, &ms)
	require.Len(t, ms, 1)
	require.Equal(t, 12.0, ms[0].Current)
	require.Equal(t, "ten-words", ms[0].Achievements[0].Key)
	require.Equal(t, ptr(t0.Add(24*time.Hour)), ms[0].Achievements[0].AchievedAt)
	var m metricGolden
	e.do("GET", "/v1/users/ana/metrics/words", appKey, nil).decode(t, &m)
	require.Equal(t, ms[0], m)
	e.do("GET", "/v1/users/nobody/metrics", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")

	// Achievements: completed only, or with the incomplete ones.
	var achs []achievementGolden
	e.do("GET", "/v1/users/ana/achievements", appKey, nil).decode(t, &achs)
	require.Len(t, achs, 1)
	require.Equal(t, "ten-words", achs[0].Key)
	require.Equal(t, ptr(1), achs[0].Completions)
	require.Equal(t, ptr(100.0), achs[0].Rarity)
	e.do("GET", "/v1/users/ana/achievements?includeIncomplete=true", appKey, nil).decode(t, &achs)
	require.Len(t, achs, 2)
	require.Equal(t, "onboarded", achs[0].Key) // display order, ties by key
	require.Equal(t, "api", achs[0].Trigger)
	require.Nil(t, achs[0].AchievedAt)
	require.Equal(t, ptr(0.0), achs[0].Rarity)
	require.Equal(t, "ten-words", achs[1].Key)

	// The streak with its history.
	var st streakGolden
	e.do("GET", "/v1/users/ana/streak?historyPeriods=3", appKey, nil).decode(t, &st)
	require.Equal(t, 2, st.Length)
	require.Equal(t, ptr("2026-03-10"), st.Started)
	require.Equal(t, t0.Add(24*time.Hour).Format(time.RFC3339), st.Extended)
	require.Equal(t, []periodGolden{
		{PeriodStart: "2026-03-09", PeriodEnd: "2026-03-09"},
		{PeriodStart: "2026-03-10", PeriodEnd: "2026-03-10", Length: 1},
		{PeriodStart: "2026-03-11", PeriodEnd: "2026-03-11", Length: 2},
	}, st.StreakHistory)
	require.Equal(t, &[]pauseGolden{}, st.Pauses)
	e.do("GET", "/v1/users/ana/streak?historyPeriods=0", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "historyPeriods")

	// Points with the latest awards, newest first.
	type userPointsGolden struct {
		systemGolden
		Total  float64       `json:"total"`
		Level  *levelGolden  `json:"level"`
		Awards []awardGolden `json:"awards"`
	}
	var up userPointsGolden
	e.do("GET", "/v1/users/ana/points/xp?awards=1", appKey, nil).decode(t, &up)
	require.Equal(t, 24.0, up.Total)
	require.Equal(t, "silver", up.Level.Key)
	require.Len(t, up.Awards, 1)
	require.Equal(t, 16.0, up.Awards[0].Awarded)
	e.do("GET", "/v1/users/ana/points/nope", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")

	var boosts []boostGolden
	e.do("GET", "/v1/users/ana/points/xp/boosts", appKey, nil).decode(t, &boosts)
	require.Empty(t, boosts)

	// Summaries: endDate is inclusive.
	type summaryGolden struct {
		Date   string  `json:"date"`
		Total  float64 `json:"total"`
		Change float64 `json:"change"`
	}
	var rows []summaryGolden
	e.do("GET", "/v1/users/ana/metrics/words/event-summary?aggregation=daily&startDate=2026-03-10&endDate=2026-03-11", appKey, nil).decode(t, &rows)
	require.Equal(t, []summaryGolden{{"2026-03-10", 4, 4}, {"2026-03-11", 12, 8}}, rows)
	e.do("GET", "/v1/users/ana/points/xp/event-summary?aggregation=daily&startDate=2026-03-11&endDate=2026-03-11", appKey, nil).decode(t, &rows)
	require.Equal(t, []summaryGolden{{"2026-03-11", 24, 16}}, rows)
	e.do("GET", "/v1/users/ana/metrics/words/event-summary?aggregation=hourly&startDate=2026-03-10&endDate=2026-03-11", appKey, nil).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "aggregation")

	// The user's standing on a board.
	type historyGolden struct {
		Date          string   `json:"date"`
		PreviousRank  *int     `json:"previousRank"`
		Rank          *int     `json:"rank"`
		PreviousValue *float64 `json:"previousValue"`
		Value         float64  `json:"value"`
	}
	type userBoardGolden struct {
		boardGolden
		Rank    *int            `json:"rank"`
		Value   *float64        `json:"value"`
		History []historyGolden `json:"history"`
	}
	var ub userBoardGolden
	e.do("GET", "/v1/users/ana/leaderboards/top-words", appKey, nil).decode(t, &ub)
	require.Equal(t, ptr(1), ub.Rank)
	require.Equal(t, ptr(12.0), ub.Value)
	require.Equal(t, []historyGolden{
		{Date: "2026-03-10", Rank: ptr(1), Value: 4},
		{Date: "2026-03-11", PreviousRank: ptr(1), Rank: ptr(1), PreviousValue: ptr(4.0), Value: 12},
	}, ub.History)
	e.do("POST", "/v1/users", appKey, `{"id":"bo"}`).requireStatus(t, http.StatusCreated) // known, not ranked
	e.do("GET", "/v1/users/bo/leaderboards/top-words", appKey, nil).decode(t, &ub)
	require.Nil(t, ub.Rank)
	require.Nil(t, ub.Value)
}

func TestTrophyPreferences(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.do("POST", "/v1/users", appKey, `{"id":"ana"}`).requireStatus(t, http.StatusCreated)
	type prefsGolden struct {
		Notifications map[string][]string `json:"notifications"`
		Streak        struct {
			Enabled bool `json:"enabled"`
			Metrics []struct {
				Key       string  `json:"key"`
				Threshold float64 `json:"threshold"`
			} `json:"metrics"`
		} `json:"streak"`
	}
	var p prefsGolden
	r := e.do("PATCH", "/v1/users/ana/preferences", appKey, `{"notifications":{"streak_reminder":["email"],"recap":[]}}`)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &p)
	require.Equal(t, []string{"email"}, p.Notifications["streak_reminder"])
	require.Equal(t, []string{}, p.Notifications["recap"])
	var again prefsGolden
	e.do("GET", "/v1/users/ana/preferences", appKey, nil).decode(t, &again)
	require.Equal(t, p, again)
	e.do("PATCH", "/v1/users/ana/preferences", appKey, `{"notifications":{"streak_reminder":["pigeon"]}}`).
		requireStatus(t, http.StatusUnprocessableEntity)
	e.do("GET", "/v1/users/nobody/preferences", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")

	// Trophy's streak.enabled: true by default; false keeps the user's
	// streaks at 0 (the engine's OptOut).
	require.True(t, p.Streak.Enabled, "enabled by default, as in Trophy")
	e.do("PATCH", "/v1/users/ana/preferences", appKey, `{"streak":{"enabled":false}}`).decode(t, &p)
	require.False(t, p.Streak.Enabled)
	prefs, err := e.eng.Users().Preferences(context.Background(), "ana")
	require.NoError(t, err)
	require.True(t, prefs.Streak.OptOut)
	e.do("PATCH", "/v1/users/ana/preferences", appKey, `{"streak":{"enabled":true,"metrics":[{"key":"words","threshold":3}]}}`).decode(t, &p)
	require.True(t, p.Streak.Enabled)
	require.Len(t, p.Streak.Metrics, 1)
	prefs, err = e.eng.Users().Preferences(context.Background(), "ana")
	require.NoError(t, err)
	require.False(t, prefs.Streak.OptOut)
	require.True(t, prefs.Streak.Enabled, "the metrics personalize the streak")

	// A bad element of streak.metrics is named by its index, as a bad
	// threshold is, and changes nothing.
	for body, field := range map[string]string{
		`{"streak":{"metrics":[{"key":"words","threshold":1},{"key":"nope","threshold":2}]}}`:    "streak.metrics[1]",
		`{"streak":{"metrics":[{"key":"words","threshold":1},{"key":"words","threshold":2}]}}`:   "streak.metrics[1].key",
		`{"streak":{"metrics":[{"key":"words","threshold":1},{"key":"words","threshold":"x"}]}}`: "streak.metrics[1].threshold",
	} {
		b := e.do("PATCH", "/v1/users/ana/preferences", appKey, body).requireError(t, http.StatusUnprocessableEntity, "invalid", field)
		require.True(t, strings.HasPrefix(b.Error, field+": ") || strings.HasPrefix(b.Error, field+" "), b.Error)
	}
	prefs, err = e.eng.Users().Preferences(context.Background(), "ana")
	require.NoError(t, err)
	require.Equal(t, "3", prefs.Streak.Thresholds["words"].String())
}

func TestTrophyAchievements(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	type completionGolden struct {
		CompletionID string                      `json:"completionId"`
		Achievement  achievementGolden           `json:"achievement"`
		Points       map[string]pointsDiffGolden `json:"points"`
	}
	r := e.do("POST", "/v1/achievements/onboarded/complete", appKey, `{"user":{"id":"ana","name":"Ana"}}`)
	r.requireStatus(t, http.StatusCreated)
	var c completionGolden
	r.decode(t, &c)
	require.Equal(t, completionGolden{CompletionID: "onboarded:ana", Achievement: achievementGolden{ID: "onboarded", Key: "onboarded",
		Name: "Onboarded", Trigger: "api", UserAttributes: []kvGolden{}, AchievedAt: ptr(t0)},
		// The new user entered the first level of xp.
		Points: map[string]pointsDiffGolden{"xp": {systemGolden: systemGolden{ID: "xp", Key: "xp", Name: "XP"}, Awards: []awardGolden{},
			Level: &levelGolden{ID: "bronze", Key: "bronze", Name: "Bronze"}}}}, c)

	// A repeat is 200 with the original time.
	e.clock.Advance(time.Minute)
	r = e.do("POST", "/v1/achievements/onboarded/complete", appKey, `{"user":{"id":"ana"}}`)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &c)
	require.Equal(t, ptr(t0), c.Achievement.AchievedAt)

	e.do("POST", "/v1/achievements/ten-words/complete", appKey, `{"user":{"id":"ana"}}`).requireStatus(t, http.StatusUnprocessableEntity)
	e.do("POST", "/v1/achievements/nope/complete", appKey, `{"user":{"id":"ana"}}`).requireError(t, http.StatusNotFound, "not_found", "ManualCompletion.Achievement")
	e.do("POST", "/v1/achievements/onboarded/complete", appKey, `{}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "user.id")

	var all []achievementGolden
	e.do("GET", "/v1/achievements", appKey, nil).decode(t, &all)
	require.Len(t, all, 2)
	require.Equal(t, "onboarded", all[0].Key)
	require.Equal(t, ptr(1), all[0].Completions)
	require.Equal(t, ptr(100.0), all[0].Rarity)
	require.Equal(t, "ten-words", all[1].Key)
	require.Equal(t, ptr(0), all[1].Completions)
	e.do("GET", "/v1/achievements?userAttributes=plan:pro", appKey, nil).decode(t, &all)
	require.Len(t, all, 2)
	e.do("GET", "/v1/achievements?userAttributes=plan", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "userAttributes")
}

func TestTrophyStreaksBulk(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	e.clock.Advance(24 * time.Hour)
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	e.track("bo", 1).requireStatus(t, http.StatusCreated)
	type rowGolden struct {
		UserID       string     `json:"userId"`
		StreakLength int        `json:"streakLength"`
		Extended     *time.Time `json:"extended"`
	}
	var rows []rowGolden
	e.do("GET", "/v1/streaks?userIds=bo,ana&userIds=cy", appKey, nil).decode(t, &rows)
	now := t0.Add(24 * time.Hour)
	require.Equal(t, []rowGolden{{"ana", 2, &now}, {"bo", 1, &now}, {"cy", 0, nil}}, rows)
	e.do("GET", "/v1/streaks", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "userIds")
}

func TestTrophyPointsSystem(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	ctx := context.Background()
	_, err := e.eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "double", System: "xp", Name: "Double XP", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 3, Day: 10}, To: gamify.Date{Year: 2026, Month: 3, Day: 12}, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	_, err = e.eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "old", System: "xp", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, To: gamify.Date{Year: 2026, Month: 1, Day: 2}, Multiplier: gamify.AmountFromInt(3)})
	require.NoError(t, err)
	e.track("ana", 5).requireStatus(t, http.StatusCreated)

	type systemTriggersGolden struct {
		systemGolden
		Triggers []triggerGolden `json:"triggers"`
	}
	var s systemTriggersGolden
	e.do("GET", "/v1/points/xp", appKey, nil).decode(t, &s)
	require.Equal(t, systemTriggersGolden{systemGolden: systemGolden{ID: "xp", Key: "xp", Name: "XP"},
		Triggers: []triggerGolden{{ID: "xp-words", Type: "metric", Points: 2, Status: "active", MetricID: "words",
			MetricThreshold: ptr(1.0), UserAttributes: []kvGolden{}, EventAttributes: []kvGolden{}}}}, s)
	e.do("GET", "/v1/points/nope", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")

	var boosts []boostGolden
	e.do("GET", "/v1/points/xp/boosts", appKey, nil).decode(t, &boosts)
	want := boostGolden{ID: "double", Name: "Double XP", Status: "active", Start: ptr("2026-03-10"), End: ptr("2026-03-12"), Multiplier: 2, Rounding: "down"}
	require.Equal(t, []boostGolden{want}, boosts)
	e.do("GET", "/v1/points/xp/boosts?includeFinished=true", appKey, nil).decode(t, &boosts)
	require.Len(t, boosts, 2)
	e.do("GET", "/v1/users/ana/points/xp/boosts", appKey, nil).decode(t, &boosts)
	require.Equal(t, []boostGolden{want}, boosts)

	// The boosted award shows its boost.
	var ev eventGolden
	e.track("ana", 1).decode(t, &ev)
	require.Equal(t, 4.0, ev.Points["xp"].Added)
	require.Equal(t, []boostGolden{want}, ev.Points["xp"].Awards[0].Boosts)

	type rangeGolden struct {
		From  float64 `json:"from"`
		To    float64 `json:"to"`
		Users int     `json:"users"`
	}
	var ranges []rangeGolden
	e.do("GET", "/v1/points/xp/summary", appKey, nil).decode(t, &ranges)
	require.Len(t, ranges, 11)
	require.Equal(t, rangeGolden{0, 0, 0}, ranges[0])

	var levels []levelGolden
	e.do("GET", "/v1/points/xp/levels", appKey, nil).decode(t, &levels)
	require.Equal(t, []levelGolden{{ID: "bronze", Key: "bronze", Name: "Bronze"}, {ID: "silver", Key: "silver", Name: "Silver", Points: 20}}, levels)
	type levelCountGolden struct {
		Level levelGolden `json:"level"`
		Users int         `json:"users"`
	}
	var counts []levelCountGolden
	e.do("GET", "/v1/points/xp/level-summary", appKey, nil).decode(t, &counts)
	require.Equal(t, []levelCountGolden{{levels[0], 0}, {levels[1], 1}}, counts)

	_, err = e.eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	e.do("GET", "/v1/points/coins/level-summary", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "key")
}

func TestTrophyLeaderboards(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.do("PUT", "/v1/users/ana", appKey, `{"name":"Ana"}`).requireStatus(t, http.StatusOK)
	for i, u := range []string{"ana", "bo", "cy", "di"} {
		e.track(u, 10*(i+1)).requireStatus(t, http.StatusCreated)
	}
	var boards []boardGolden
	e.do("GET", "/v1/leaderboards", appKey, nil).decode(t, &boards)
	require.Equal(t, []boardGolden{{ID: "top-words", Key: "top-words", Name: "Top writers", RankBy: "metric", MetricKey: "words",
		Status: "active", Start: ptr("2026-03-10"), BreakdownAttributes: []string{}}}, boards)

	type rankingGolden struct {
		UserID   string  `json:"userId"`
		UserName *string `json:"userName"`
		Rank     int     `json:"rank"`
		Value    float64 `json:"value"`
	}
	type rankingsGolden struct {
		boardGolden
		Rankings []rankingGolden `json:"rankings"`
	}
	var got rankingsGolden
	e.do("GET", "/v1/leaderboards/top-words?limit=2", appKey, nil).decode(t, &got)
	require.Equal(t, boards[0], got.boardGolden)
	require.Equal(t, []rankingGolden{{"di", nil, 1, 40}, {"cy", nil, 2, 30}}, got.Rankings)
	e.do("GET", "/v1/leaderboards/top-words?offset=2&limit=2", appKey, nil).decode(t, &got)
	require.Equal(t, []rankingGolden{{"bo", nil, 3, 20}, {"ana", ptr("Ana"), 4, 10}}, got.Rankings)
	// Offset relative to a user; a user not on the board gives no rankings.
	e.do("GET", "/v1/leaderboards/top-words?userId=bo&offset=-1&limit=2", appKey, nil).decode(t, &got)
	require.Equal(t, []rankingGolden{{"cy", nil, 2, 30}, {"bo", nil, 3, 20}}, got.Rankings)
	e.do("GET", "/v1/leaderboards/top-words?userId=zed", appKey, nil).decode(t, &got)
	require.Empty(t, got.Rankings)
	// A run date with no run of the board.
	e.do("GET", "/v1/leaderboards/top-words?run=2025-01-01", appKey, nil).requireStatus(t, http.StatusNotFound)
	e.do("GET", "/v1/leaderboards/top-words?run=yesterday", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "run")
	e.do("GET", "/v1/leaderboards/top-words?limit=101", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "limit")
	e.do("GET", "/v1/leaderboards/nope", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
}

func TestTrophyWrapped(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 4).requireStatus(t, http.StatusCreated)
	e.track("ana", 4).requireStatus(t, http.StatusCreated)
	e.clock.Advance(24 * time.Hour)
	e.track("ana", 4).requireStatus(t, http.StatusCreated)
	e.track("bo", 1).requireStatus(t, http.StatusCreated)
	type totalGolden struct {
		Name                 string   `json:"name"`
		Units                *string  `json:"units"`
		CurrentTotal         float64  `json:"currentTotal"`
		ChangeThisPeriod     float64  `json:"changeThisPeriod"`
		PercentChange        *float64 `json:"percentChange"`
		PercentileThisPeriod float64  `json:"percentileThisPeriod"`
	}
	type wrappedGolden struct {
		User     userGolden `json:"user"`
		Activity struct {
			DaysActive    int `json:"daysActive"`
			WeeksActive   int `json:"weeksActive"`
			MonthsActive  int `json:"monthsActive"`
			MostActiveDay *struct {
				Date string `json:"date"`
			} `json:"mostActiveDay"`
			MostActiveWeek *struct {
				Start string `json:"start"`
				End   string `json:"end"`
			} `json:"mostActiveWeek"`
			MostActiveMonth *struct {
				Month int `json:"month"`
			} `json:"mostActiveMonth"`
			EntireYear struct {
				LongestStreak int                    `json:"longestStreak"`
				Metrics       map[string]totalGolden `json:"metrics"`
				Points        map[string]totalGolden `json:"points"`
				Achievements  []achievementGolden    `json:"achievements"`
				Leaderboards  map[string]struct {
					ID   string `json:"id"`
					Key  string `json:"key"`
					Name string `json:"name"`
					Rank int    `json:"rank"`
				} `json:"leaderboards"`
			} `json:"entireYear"`
		} `json:"activity"`
	}
	var w wrappedGolden
	e.do("GET", "/v1/users/ana/wrapped", appKey, nil).decode(t, &w)
	require.Equal(t, "ana", w.User.ID)
	a := w.Activity
	require.Equal(t, 2, a.DaysActive)
	require.Equal(t, 1, a.WeeksActive)
	require.Equal(t, 1, a.MonthsActive)
	require.Equal(t, "2026-03-10", a.MostActiveDay.Date) // two events that day
	require.Equal(t, "2026-03-09", a.MostActiveWeek.Start)
	require.Equal(t, "2026-03-15", a.MostActiveWeek.End)
	require.Equal(t, 2, a.MostActiveMonth.Month) // March, counted from 0
	y := a.EntireYear
	require.Equal(t, 2, y.LongestStreak)
	require.Equal(t, totalGolden{Name: "Words written", Units: ptr("words"), CurrentTotal: 12, ChangeThisPeriod: 12, PercentileThisPeriod: 50}, y.Metrics["words"])
	require.Equal(t, 24.0, y.Points["xp"].CurrentTotal)
	require.Nil(t, y.Points["xp"].Units)
	require.Len(t, y.Achievements, 1)
	require.Equal(t, "ten-words", y.Achievements[0].Key)
	require.Equal(t, 1, y.Leaderboards["top-words"].Rank)

	e.do("GET", "/v1/users/ana/wrapped?year=2030", appKey, nil).requireStatus(t, http.StatusUnprocessableEntity)
	e.do("GET", "/v1/users/ana/wrapped?year=soon", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "year")
	e.do("GET", "/v1/users/nobody/wrapped", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
}

func TestTrophyLeaderboardPastRun(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	ctx := context.Background()
	_, err := e.eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily-words", Name: "Daily", RankBy: gamify.RankByMetric,
		Metric: "words", RunUnit: gamify.RunDay, TZ: "America/New_York"})
	require.NoError(t, err)
	e.track("ana", 5).requireStatus(t, http.StatusCreated) // 08:00 in New York, 10 March
	e.clock.Advance(24 * time.Hour)
	_, err = e.eng.RunDue(ctx)
	require.NoError(t, err)
	e.track("bo", 7).requireStatus(t, http.StatusCreated)

	type rankingsGolden struct {
		boardGolden
		Rankings []struct {
			UserID   string  `json:"userId"`
			UserName *string `json:"userName"`
			Rank     int     `json:"rank"`
			Value    float64 `json:"value"`
		} `json:"rankings"`
	}
	var past, now rankingsGolden
	e.do("GET", "/v1/leaderboards/daily-words?run=2026-03-10", appKey, nil).decode(t, &past)
	require.Len(t, past.Rankings, 1)
	require.Equal(t, "ana", past.Rankings[0].UserID)
	e.do("GET", "/v1/leaderboards/daily-words", appKey, nil).decode(t, &now)
	require.Len(t, now.Rankings, 1)
	require.Equal(t, "bo", now.Rankings[0].UserID)
	require.Equal(t, ptr("day"), now.RunUnit)
	require.Equal(t, 1, now.RunInterval)

	type userBoard struct {
		boardGolden
		Rank    *int     `json:"rank"`
		Value   *float64 `json:"value"`
		History []any    `json:"history"`
	}
	var ub userBoard
	e.do("GET", "/v1/users/ana/leaderboards/daily-words?run=2026-03-10&numEvents=0", appKey, nil).decode(t, &ub)
	require.Equal(t, ptr(1), ub.Rank)
	require.Equal(t, ptr(5.0), ub.Value)
	require.Empty(t, ub.History)
	e.do("GET", "/v1/users/ana/leaderboards/daily-words", appKey, nil).decode(t, &ub)
	require.Nil(t, ub.Rank) // nothing in today's run
}

// TestIncludeIncompleteBool checks includeIncomplete reads like the other
// booleans: 1 is true and a bad value is 422, not silently false.
func TestIncludeIncompleteBool(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	var all, done []json.RawMessage
	require.NoError(t, json.Unmarshal(e.do("GET", "/v1/users/ana/achievements?includeIncomplete=1", appKey, nil).body, &all))
	require.NoError(t, json.Unmarshal(e.do("GET", "/v1/users/ana/achievements", appKey, nil).body, &done))
	require.Greater(t, len(all), len(done))
	e.do("GET", "/v1/users/ana/achievements?includeIncomplete=yes", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "includeIncomplete")
}

// TestUserLeaderboardAndBoostsNotFound checks a user's rank on a board is
// 404 for an unknown user or an archived board, and a system's boosts 404
// for an unknown system, as the sibling reads are.
func TestUserLeaderboardAndBoostsNotFound(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	e.do("GET", "/v1/users/ana/leaderboards/top-words", appKey, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/users/nobody/leaderboards/top-words", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/points/nope/boosts", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/points/xp/boosts", appKey, nil).requireStatus(t, http.StatusOK)
	require.NoError(t, e.eng.Leaderboards().Delete(context.Background(), "top-words")) // archives it
	e.do("GET", "/v1/leaderboards/top-words", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("GET", "/v1/users/ana/leaderboards/top-words", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
}

// TestPointsReadsPastHundred checks a system's triggers, boosts and levels
// are all read, not the first 100, and a new level is numbered after the
// highest.
func TestPointsReadsPastHundred(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	const sys = "/admin/v1/points/systems/xp"
	for page := range 2 {
		var trs, bs, ls []string
		for i := range 60 {
			n := page*60 + i
			trs = append(trs, fmt.Sprintf(`{"key":"t%d","type":"metric","metricId":"words","metricThreshold":%d,"points":1,"status":"active"}`, n, n+2))
			bs = append(bs, fmt.Sprintf(`{"key":"b%d","name":"B","start":"2026-03-01","multiplier":1.5}`, n))
			ls = append(ls, fmt.Sprintf(`{"key":"l%d","name":"L","points":%d,"level":%d}`, n, n+100, n+3))
		}
		for path, items := range map[string][]string{sys + "/triggers": trs, sys + "/boosts": bs, sys + "/levels": ls} {
			var out struct {
				Issues []issueGolden `json:"issues"`
			}
			r := e.do("POST", path, adminKey, "["+strings.Join(items, ",")+"]")
			r.requireStatus(t, http.StatusCreated)
			require.NoError(t, json.Unmarshal(r.body, &out))
			require.Empty(t, out.Issues, path)
		}
	}
	var got struct {
		Triggers []json.RawMessage `json:"triggers"`
	}
	require.NoError(t, json.Unmarshal(e.do("GET", "/v1/points/xp", appKey, nil).body, &got))
	require.Equal(t, 121, len(got.Triggers))
	var list []json.RawMessage
	require.NoError(t, json.Unmarshal(e.do("GET", "/v1/points/xp/boosts", appKey, nil).body, &list))
	require.Equal(t, 120, len(list))
	require.NoError(t, json.Unmarshal(e.do("GET", "/v1/points/xp/levels", appKey, nil).body, &list))
	require.Equal(t, 122, len(list))
	require.NoError(t, json.Unmarshal(e.do("GET", "/v1/points/xp/level-summary", appKey, nil).body, &list))
	require.Equal(t, 122, len(list))
	r := e.do("POST", sys+"/levels", adminKey, `[{"key":"top","name":"Top","points":100000}]`)
	r.requireStatus(t, http.StatusCreated)
	require.Contains(t, string(r.body), `"level":123`)
}

// TestQueryErrorsNameParameters checks query errors name the parameter the
// caller sent, not the engine's field, and the missing one of two dates.
func TestQueryErrorsNameParameters(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 1).requireStatus(t, http.StatusCreated)
	e.do("GET", "/v1/leaderboards/top-words?offset=-5", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "offset")
	const sum = "/v1/users/ana/metrics/words/event-summary?aggregation=daily"
	e.do("GET", sum+"&startDate=2026-03-10", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "endDate")
	e.do("GET", sum+"&endDate=2026-03-10", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "startDate")
	e.do("GET", sum+"&startDate=2026-03-10&endDate=2025-03-10", appKey, nil).requireError(t, http.StatusUnprocessableEntity, "invalid", "endDate")
	e.do("GET", "/v1/users/ana/points/xp/event-summary?aggregation=daily&startDate=2024-03-10&endDate=2026-03-10", appKey, nil).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "endDate")
}
