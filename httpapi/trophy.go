package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
)

// Trophy's application API, under /v1. Trophy's ids are the engine's keys:
// a metric's "id" and "key" are both its key.
func (h *handler) routeTrophy() {
	h.handle("POST /v1/metrics/{key}/event", anyKey, h.trackEvent)

	h.handle("POST /v1/users", anyKey, h.createUser)
	h.handle("GET /v1/users/{id}", anyKey, h.getUser)
	h.handle("PUT /v1/users/{id}", anyKey, h.identifyUser)
	h.handle("PATCH /v1/users/{id}", anyKey, h.updateUser)
	h.handle("GET /v1/users/{id}/metrics", anyKey, h.userMetrics)
	h.handle("GET /v1/users/{id}/metrics/{key}", anyKey, h.userMetric)
	h.handle("GET /v1/users/{id}/metrics/{key}/event-summary", anyKey, h.userMetricSummary)
	h.handle("GET /v1/users/{id}/achievements", anyKey, h.userAchievements)
	h.handle("GET /v1/users/{id}/streak", anyKey, h.userStreak)
	h.handle("GET /v1/users/{id}/points/{key}", anyKey, h.userPoints)
	h.handle("GET /v1/users/{id}/points/{key}/boosts", anyKey, h.userBoosts)
	h.handle("GET /v1/users/{id}/points/{key}/event-summary", anyKey, h.userPointsSummary)
	h.handle("GET /v1/users/{id}/leaderboards/{key}", anyKey, h.userLeaderboard)
	h.handle("GET /v1/users/{id}/preferences", anyKey, h.userPreferences)
	h.handle("PATCH /v1/users/{id}/preferences", anyKey, h.patchPreferences)
	h.handle("GET /v1/users/{id}/wrapped", anyKey, h.userWrapped)

	h.handle("GET /v1/achievements", anyKey, h.listAchievements)
	h.handle("POST /v1/achievements/{key}/complete", anyKey, h.completeAchievement)

	h.handle("GET /v1/streaks", anyKey, h.bulkStreaks)

	h.handle("GET /v1/points/{key}", anyKey, h.pointsSystem)
	h.handle("GET /v1/points/{key}/summary", anyKey, h.pointsSummary)
	h.handle("GET /v1/points/{key}/boosts", anyKey, h.pointsBoosts)
	h.handle("GET /v1/points/{key}/levels", anyKey, h.pointsLevels)
	h.handle("GET /v1/points/{key}/level-summary", anyKey, h.levelSummary)

	h.handle("GET /v1/leaderboards", anyKey, h.listLeaderboards)
	h.handle("GET /v1/leaderboards/{key}", anyKey, h.getLeaderboard)
}

// ---- users

// userIn is Trophy's UpsertedUser / UpdatedUser.
type userIn struct {
	ID                string            `json:"id"`
	Email             string            `json:"email"`
	Name              string            `json:"name"`
	TZ                string            `json:"tz"`
	DeviceTokens      []string          `json:"deviceTokens"`
	SubscribeToEmails *bool             `json:"subscribeToEmails"`
	Attributes        map[string]string `json:"attributes"`
}

func (u *userIn) input() gamify.UserInput {
	return gamify.UserInput{ID: u.ID, Name: u.Name, Email: u.Email, TZ: u.TZ, Attributes: u.Attributes,
		DeviceTokens: u.DeviceTokens, SubscribeToEmails: u.SubscribeToEmails}
}

// userOut is Trophy's User.
type userOut struct {
	ID                string            `json:"id"`
	Email             *string           `json:"email"`
	Name              *string           `json:"name"`
	TZ                *string           `json:"tz"`
	DeviceTokens      []string          `json:"deviceTokens"`
	SubscribeToEmails bool              `json:"subscribeToEmails"`
	Attributes        map[string]string `json:"attributes"`
	Control           bool              `json:"control"`
	Created           *time.Time        `json:"created"`
	Updated           *time.Time        `json:"updated"`
}

func userJSON(u gamify.User) userOut {
	out := userOut{ID: u.ID, Email: strOrNull(u.Email), Name: strOrNull(u.Name), TZ: strOrNull(u.TZ),
		DeviceTokens: u.DeviceTokens, SubscribeToEmails: u.SubscribeToEmails, Attributes: u.Attributes,
		Control: u.Control, Created: instant(u.Created), Updated: instant(u.Updated)}
	if out.DeviceTokens == nil {
		out.DeviceTokens = []string{}
	}
	if out.Attributes == nil {
		out.Attributes = map[string]string{}
	}
	return out
}

func (h *handler) createUser(c *call) (int, any, error) {
	var in userIn
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if in.ID == "" {
		return 0, nil, invalid("id", "id is required")
	}
	if err := c.ownUser(in.ID); err != nil {
		return 0, nil, err
	}
	u, err := c.eng.Users().Create(c.ctx(), in.input())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, userJSON(u), nil
}

func (h *handler) getUser(c *call) (int, any, error) {
	u, err := c.eng.Users().Get(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, userJSON(u), nil
}

// pathUser reads an UpdatedUser body for the user named in the path.
func (c *call) pathUser() (gamify.UserInput, error) {
	var in userIn
	if err := c.decode(&in); err != nil {
		return gamify.UserInput{}, err
	}
	id := c.r.PathValue("id")
	if in.ID != "" && in.ID != id {
		return gamify.UserInput{}, invalid("id", "the body's id differs from the path's")
	}
	in.ID = id
	return in.input(), nil
}

func (h *handler) identifyUser(c *call) (int, any, error) {
	in, err := c.pathUser()
	if err != nil {
		return 0, nil, err
	}
	u, err := c.eng.Users().Identify(c.ctx(), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, userJSON(u), nil
}

func (h *handler) updateUser(c *call) (int, any, error) {
	in, err := c.pathUser()
	if err != nil {
		return 0, nil, err
	}
	u, err := c.eng.Users().Update(c.ctx(), in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, userJSON(u), nil
}

// ---- metric events

type eventIn struct {
	User       *userIn           `json:"user"`
	Value      numberIn          `json:"value"`
	Attributes map[string]string `json:"attributes"`
	// Time is a gamify extension: when the event happened (default now).
	Time *timeIn `json:"time"`
}

// event converts a Trophy event for metric into an engine Event.
func (in *eventIn) event(metric, idemKey string) (gamify.Event, error) {
	if in.User == nil || in.User.ID == "" {
		return gamify.Event{}, invalid("user.id", "user.id is required")
	}
	if in.Value == "" {
		return gamify.Event{}, invalid("value", "value is required")
	}
	v, err := amountOf("value", in.Value)
	if err != nil {
		return gamify.Event{}, err
	}
	profile := in.User.input()
	ev := gamify.Event{Metric: metric, User: in.User.ID, Profile: &profile, Amount: v,
		Attributes: in.Attributes, IdempotencyKey: idemKey}
	if in.Time != nil {
		ev.Time = in.Time.Time
	}
	return ev, nil
}

// eventOut is Trophy's EventResponse.
type eventOut struct {
	EventID            string                    `json:"eventId"`
	MetricID           string                    `json:"metricId"`
	Total              json.Number               `json:"total"`
	Achievements       []achievementOut          `json:"achievements"`
	CurrentStreak      *streakOut                `json:"currentStreak"`
	Points             map[string]pointsDiffOut  `json:"points"`
	Leaderboards       map[string]boardChangeOut `json:"leaderboards"`
	IdempotencyKey     string                    `json:"idempotencyKey,omitempty"`
	IdempotentReplayed *bool                     `json:"idempotentReplayed,omitempty"`
}

func (h *handler) trackEvent(c *call) (int, any, error) {
	var in eventIn
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	ev, err := in.event(c.r.PathValue("key"), c.r.Header.Get("Idempotency-Key"))
	if err != nil {
		return 0, nil, err
	}
	if err := c.ownUser(ev.User); err != nil {
		return 0, nil, err
	}
	res, err := c.eng.Track(c.ctx(), ev)
	if err != nil {
		return 0, nil, keyConflict(err, ev.IdempotencyKey)
	}
	out := c.eventJSON(res)
	if res.IdempotentReplayed {
		return http.StatusAccepted, out, nil
	}
	return http.StatusCreated, out, nil
}

// eventJSON builds the response of an applied event. The event is already
// acknowledged, so a failed read of a definition (the engine closing under
// the request) must not turn into an error a client would retry without a
// key: the entry falls back to what the result itself holds.
func (c *call) eventJSON(res gamify.EventResult) eventOut {
	out := eventOut{EventID: res.EventID, MetricID: res.Metric, Total: num(res.Total),
		Achievements: []achievementOut{}, IdempotencyKey: res.IdempotencyKey}
	if res.IdempotencyKey != "" {
		out.IdempotentReplayed = &res.IdempotentReplayed
	}
	for _, ac := range res.Achievements {
		a, err := c.achievementJSON(ac.Key)
		if err != nil {
			c.degraded(err)
			a = achievementOut{ID: ac.Key, Key: ac.Key, Name: ac.Name, UserAttributes: []kv{}}
		}
		a.AchievedAt = instant(ac.CompletedAt)
		out.Achievements = append(out.Achievements, a)
	}
	if rs := res.Streak; rs != nil {
		s, err := c.streakJSON(res.User, rs.Key)
		if err != nil {
			c.degraded(err)
			s = streakOut{Length: rs.Length, Expires: lastDayOf(rs.Expires), Freezes: &rs.Freezes}
		}
		s.Extended = rs.Extended
		out.CurrentStreak = &s
	}
	out.Points = c.pointsDiffJSON(res.Points)
	out.Leaderboards = map[string]boardChangeOut{}
	for _, lc := range res.Leaderboards {
		b, err := c.eng.Leaderboards().Get(c.ctx(), lc.Key)
		if err != nil {
			c.degraded(err)
			b = gamify.Leaderboard{Key: lc.Key, Name: lc.Key}
		}
		o := boardChangeOut{boardOut: boardJSON(b), Rank: rankOrNull(lc.Rank), PreviousRank: rankOrNull(lc.PreviousRank),
			Threshold: num(lc.Threshold), BreakdownAttributeValues: groupPairs(lc.Group)}
		out.Leaderboards[lc.Key] = o
	}
	return out
}

// degraded logs a failed read that a write's response does without.
func (c *call) degraded(err error) {
	c.log.Warn("httpapi: response of an applied write lacks a definition", "path", c.r.URL.Path, "err", err)
}

// ---- achievements

// achievementOut is Trophy's (User)AchievementResponse, with stats when listed.
type achievementOut struct {
	ID              string       `json:"id"`
	Key             string       `json:"key"`
	Name            string       `json:"name"`
	Description     *string      `json:"description"`
	BadgeURL        *string      `json:"badgeUrl"`
	Trigger         string       `json:"trigger"`
	MetricID        string       `json:"metricId,omitempty"`
	MetricName      string       `json:"metricName,omitempty"`
	MetricValue     *json.Number `json:"metricValue,omitempty"`
	StreakLength    int          `json:"streakLength,omitempty"`
	AchievementIDs  []string     `json:"achievementIds,omitempty"`
	UserAttributes  []kv         `json:"userAttributes"`
	EventAttributes *[]kv        `json:"eventAttributes,omitempty"`
	AchievedAt      *time.Time   `json:"achievedAt,omitempty"`
	Completions     *int         `json:"completions,omitempty"`
	Rarity          *json.Number `json:"rarity,omitempty"`
}

var triggerNames = map[gamify.AchievementKind]string{
	gamify.AchievementMetric: "metric", gamify.AchievementStreak: "streak",
	gamify.AchievementManual: "api", gamify.AchievementComposite: "achievement",
}

func (c *call) achievementJSON(key string) (achievementOut, error) {
	a, err := c.eng.Achievements().Get(c.ctx(), key)
	if err != nil {
		return achievementOut{}, err
	}
	return c.achievementDef(a)
}

func (c *call) achievementDef(a gamify.Achievement) (achievementOut, error) {
	out := achievementOut{ID: a.Key, Key: a.Key, Name: a.Name, Description: strOrNull(a.Description),
		BadgeURL: strOrNull(a.ImageURL), Trigger: triggerNames[a.Kind], UserAttributes: pairs(a.UserFilters)}
	switch a.Kind {
	case gamify.AchievementMetric:
		m, err := c.eng.Metrics().Get(c.ctx(), a.Metric)
		if err != nil {
			return out, err
		}
		out.MetricID, out.MetricName, out.MetricValue = a.Metric, m.Name, numOrNull(a.Threshold)
		ev := pairs(a.EventFilters)
		out.EventAttributes = &ev
	case gamify.AchievementStreak:
		out.StreakLength = a.Length
	case gamify.AchievementComposite:
		out.AchievementIDs = a.Prerequisites
	}
	return out, nil
}

func (c *call) statsByKey() (map[string]gamify.AchievementStats, error) {
	st, err := c.eng.Achievements().Stats(c.ctx(), gamify.AchievementStatsQuery{})
	if err != nil {
		return nil, err
	}
	m := map[string]gamify.AchievementStats{}
	for _, s := range st {
		m[s.Key] = s
	}
	return m, nil
}

// formatPercent writes a percentage with at most 2 decimals.
func formatPercent(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

func withStats(out *achievementOut, s gamify.AchievementStats) {
	n := s.Completions
	r := json.Number(formatPercent(s.RarityPercent))
	out.Completions, out.Rarity = &n, &r
}

func (h *handler) listAchievements(c *call) (int, any, error) {
	attrs, err := c.queryAttrs("userAttributes")
	if err != nil {
		return 0, nil, err
	}
	q := gamify.AchievementStatsQuery{}
	if attrs != nil {
		q = gamify.AchievementStatsQuery{ForUser: true, UserAttributes: attrs}
	}
	st, err := c.eng.Achievements().Stats(c.ctx(), q)
	if err != nil {
		return 0, nil, err
	}
	out := []achievementOut{}
	for _, s := range st {
		a, err := c.achievementDef(s.Achievement)
		if err != nil {
			return 0, nil, err
		}
		withStats(&a, s)
		out = append(out, a)
	}
	return http.StatusOK, out, nil
}

func (h *handler) userAchievements(c *call) (int, any, error) {
	incomplete, err := c.queryBool("includeIncomplete")
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, err
	}
	list, err := c.eng.Achievements().User(c.ctx(), id, incomplete)
	if err != nil {
		return 0, nil, err
	}
	stats, err := c.statsByKey()
	if err != nil {
		return 0, nil, err
	}
	out := []achievementOut{}
	for _, ua := range list {
		a, err := c.achievementJSON(ua.Key)
		if err != nil {
			return 0, nil, err
		}
		if ua.Completed {
			a.AchievedAt = instant(ua.CompletedAt)
		}
		withStats(&a, stats[ua.Key])
		out = append(out, a)
	}
	return http.StatusOK, out, nil
}

type completeIn struct {
	User *userIn `json:"user"`
}

type completionOut struct {
	CompletionID string                   `json:"completionId"`
	Achievement  achievementOut           `json:"achievement"`
	Points       map[string]pointsDiffOut `json:"points"`
}

func (h *handler) completeAchievement(c *call) (int, any, error) {
	var in completeIn
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if in.User == nil || in.User.ID == "" {
		return 0, nil, invalid("user.id", "user.id is required")
	}
	if err := c.ownUser(in.User.ID); err != nil {
		return 0, nil, err
	}
	key := c.r.PathValue("key")
	profile := in.User.input()
	res, err := c.eng.Achievements().Complete(c.ctx(), gamify.ManualCompletion{Achievement: key, User: in.User.ID, Profile: &profile})
	if err != nil {
		return 0, nil, err
	}
	a, err := c.achievementJSON(key)
	if err != nil { // applied: answer without the definition
		c.degraded(err)
		a = achievementOut{ID: key, Key: key, Name: key, UserAttributes: []kv{}}
	}
	a.AchievedAt = instant(res.CompletedAt)
	pts := c.pointsDiffJSON(res.Points)
	// A completion is identified by its achievement and user: it happens once.
	out := completionOut{CompletionID: key + ":" + in.User.ID, Achievement: a, Points: pts}
	if res.AlreadyCompleted {
		return http.StatusOK, out, nil
	}
	return http.StatusCreated, out, nil
}

// ---- streaks

// streakOut is Trophy's BaseStreakResponse with, in event responses,
// extended as a flag, and in a user's streak the history and pauses.
type streakOut struct {
	Length                 int         `json:"length"`
	Frequency              string      `json:"frequency"`
	Started                *string     `json:"started"`
	PeriodStart            *string     `json:"periodStart"`
	PeriodEnd              *string     `json:"periodEnd"`
	Expires                *string     `json:"expires"`
	Freezes                *int        `json:"freezes,omitempty"`
	MaxFreezes             *int        `json:"maxFreezes,omitempty"`
	FreezeAutoEarnInterval *int        `json:"freezeAutoEarnInterval,omitempty"`
	FreezeAutoEarnAmount   *int        `json:"freezeAutoEarnAmount,omitempty"`
	Extended               any         `json:"extended"`
	StreakHistory          []periodOut `json:"streakHistory,omitempty"`
	Pauses                 *[]pauseOut `json:"pauses,omitempty"`
}

type periodOut struct {
	PeriodStart string `json:"periodStart"`
	PeriodEnd   string `json:"periodEnd"`
	Length      int    `json:"length"`
	UsedFreeze  bool   `json:"usedFreeze"`
	UsedPause   bool   `json:"usedPause"`
}

type pauseOut struct {
	ID    string `json:"id"`
	Start string `json:"start"`
	End   string `json:"end"`
}

// defaultStreak is the streak Trophy's single-streak endpoints read: the
// one marked Default, else the first created active one (as event results
// report). A ?streak=KEY parameter picks another (a gamify extension).
func (c *call) defaultStreak() (gamify.Streak, error) {
	if key := c.r.URL.Query().Get("streak"); key != "" {
		return c.eng.Streaks().Get(c.ctx(), key)
	}
	var first *gamify.Streak
	for skip := 0; ; skip += 100 {
		list, err := c.eng.Streaks().List(c.ctx(), gamify.ListOptions{Limit: 100, Skip: skip})
		if err != nil {
			return gamify.Streak{}, err
		}
		for i := range list {
			s := list[i]
			if s.Status != gamify.StatusActive {
				continue
			}
			if s.Default {
				return s, nil
			}
			if first == nil {
				first = &s
			}
		}
		if len(list) < 100 {
			break
		}
	}
	if first == nil {
		return gamify.Streak{}, notFound("no active streak is defined")
	}
	return *first, nil
}

func (c *call) streakJSON(user, key string) (streakOut, error) {
	def, err := c.eng.Streaks().Get(c.ctx(), key)
	if err != nil {
		return streakOut{}, err
	}
	st, err := c.eng.Users().Streak(c.ctx(), user, key)
	if err != nil {
		return streakOut{}, err
	}
	out := streakOut{Length: st.Length, Frequency: string(def.Frequency), Started: dayOf(st.Started),
		PeriodStart: dayOf(st.PeriodStart), PeriodEnd: lastDayOf(st.PeriodEnd), Expires: lastDayOf(st.Expires),
		Extended: instant(st.LastExtended)}
	if f := def.Freezes; f.Max > 0 || f.Initial > 0 || f.EarnAmount > 0 {
		out.Freezes, out.MaxFreezes = &st.Freezes, &f.Max
		if f.EarnAmount > 0 {
			out.FreezeAutoEarnInterval, out.FreezeAutoEarnAmount = &f.EarnEveryDays, &f.EarnAmount
		}
	}
	return out, nil
}

func (h *handler) userStreak(c *call) (int, any, error) {
	n, err := c.queryInt("historyPeriods", 7, 1, 400)
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, err
	}
	def, err := c.defaultStreak()
	if err != nil {
		return 0, nil, err
	}
	out, err := c.streakJSON(id, def.Key)
	if err != nil {
		return 0, nil, err
	}
	hist, err := c.eng.Users().StreakHistory(c.ctx(), id, def.Key, n)
	if err != nil {
		return 0, nil, err
	}
	out.StreakHistory = []periodOut{}
	for _, p := range hist {
		out.StreakHistory = append(out.StreakHistory, periodOut{PeriodStart: p.First.String(),
			PeriodEnd: *lastDayOf(p.End), Length: p.Length, UsedFreeze: p.UsedFreeze, UsedPause: p.UsedPause})
	}
	pauses, err := c.eng.Users().StreakPauses(c.ctx(), id, def.Key)
	if err != nil {
		return 0, nil, err
	}
	ps := []pauseOut{}
	for _, p := range pauses {
		ps = append(ps, pauseOut{ID: pauseID(id, p.ID), Start: p.From.String(), End: p.To.String()})
	}
	out.Pauses = &ps
	return http.StatusOK, out, nil
}

type bulkStreakOut struct {
	UserID       string     `json:"userId"`
	StreakLength int        `json:"streakLength"`
	Extended     *time.Time `json:"extended"`
}

func (h *handler) bulkStreaks(c *call) (int, any, error) {
	ids := c.queryList("userIds")
	if len(ids) == 0 || len(ids) > 100 {
		return 0, nil, invalid("userIds", "userIds must list 1 to 100 user ids")
	}
	for _, id := range ids {
		if err := c.ownUser(id); err != nil {
			return 0, nil, err
		}
	}
	def, err := c.defaultStreak()
	if err != nil {
		return 0, nil, err
	}
	rows, err := c.eng.Streaks().Users(c.ctx(), def.Key, ids)
	if err != nil {
		return 0, nil, err
	}
	out := []bulkStreakOut{}
	for _, r := range rows {
		out = append(out, bulkStreakOut{UserID: r.User, StreakLength: r.Length, Extended: instant(r.LastExtended)})
	}
	return http.StatusOK, out, nil
}

// ---- points

type systemOut struct {
	ID          string       `json:"id"`
	Key         string       `json:"key"`
	Name        string       `json:"name"`
	Description *string      `json:"description"`
	BadgeURL    *string      `json:"badgeUrl"`
	MaxPoints   *json.Number `json:"maxPoints"`
}

func systemJSON(s gamify.PointsSystem) systemOut {
	return systemOut{ID: s.Key, Key: s.Key, Name: s.Name, Description: strOrNull(s.Description),
		BadgeURL: strOrNull(s.ImageURL), MaxPoints: numOrNull(s.MaxPoints)}
}

// pointsDiffOut is an entry of EventResponse.points: a system that changed.
type pointsDiffOut struct {
	systemOut
	Total  json.Number `json:"total"`
	Added  json.Number `json:"added"`
	Awards []awardOut  `json:"awards"`
	Level  *levelOut   `json:"level,omitempty"`
}

type awardOut struct {
	ID      string      `json:"id"`
	Awarded json.Number `json:"awarded"`
	Date    time.Time   `json:"date"`
	Total   json.Number `json:"total"`
	Trigger *triggerOut `json:"trigger"`
	Boosts  []boostOut  `json:"boosts"`
}

type triggerOut struct {
	ID              string       `json:"id"`
	Type            string       `json:"type"`
	Points          json.Number  `json:"points"`
	Status          string       `json:"status"`
	MetricID        string       `json:"metricId,omitempty"`
	MetricThreshold *json.Number `json:"metricThreshold,omitempty"`
	StreakLength    int          `json:"streakLengthThreshold,omitempty"`
	AchievementID   string       `json:"achievementId,omitempty"`
	TimeUnit        string       `json:"timeUnit,omitempty"`
	TimeInterval    int          `json:"timeInterval,omitempty"`
	UserAttributes  []kv         `json:"userAttributes"`
	EventAttributes *[]kv        `json:"eventAttributes,omitempty"`
}

func triggerJSON(t gamify.Trigger) triggerOut {
	out := triggerOut{ID: t.Key, Type: string(t.Kind), Points: num(t.Points), Status: string(t.Status),
		MetricID: t.Metric, StreakLength: t.EveryN, AchievementID: t.Achievement,
		TimeUnit: string(t.Unit), TimeInterval: t.Every, UserAttributes: pairs(t.UserFilters)}
	if t.Kind == gamify.TriggerMetric {
		ev := pairs(t.EventFilters)
		out.MetricThreshold, out.EventAttributes = numOrNull(t.Threshold), &ev
	}
	return out
}

type boostOut struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Status     string      `json:"status"`
	Start      *string     `json:"start"`
	End        *string     `json:"end"`
	Multiplier json.Number `json:"multiplier"`
	Rounding   string      `json:"rounding"`
	UserID     string      `json:"userId,omitempty"`
}

func boostJSON(b gamify.Boost) boostOut {
	out := boostOut{ID: b.Key, Name: b.Name, Status: string(b.Status), Start: day(b.From), End: day(b.To),
		Multiplier: num(b.Multiplier), Rounding: string(b.Rounding), UserID: b.User}
	if b.Scope == gamify.BoostUser {
		out.Start, out.End = dayOf(b.Start), lastDayOf(b.End)
	}
	if out.Rounding == "" {
		out.Rounding = string(gamify.RoundDown)
	}
	return out
}

type levelOut struct {
	ID          string      `json:"id"`
	Key         string      `json:"key"`
	Name        string      `json:"name"`
	Description *string     `json:"description"`
	BadgeURL    *string     `json:"badgeUrl"`
	Points      json.Number `json:"points"`
}

func levelJSON(l gamify.Level) levelOut {
	return levelOut{ID: l.Key, Key: l.Key, Name: l.Name, Description: strOrNull(l.Description),
		BadgeURL: strOrNull(l.ImageURL), Points: num(l.Threshold)}
}

// levelOrNull reads a level of a system; "" (below every level) is null.
func (c *call) levelOrNull(system, key string) (*levelOut, error) {
	if key == "" {
		return nil, nil
	}
	l, err := c.eng.Points().Levels(system).Get(c.ctx(), key)
	if err != nil {
		return nil, err
	}
	out := levelJSON(l)
	return &out, nil
}

// awardsJSON writes awards with their triggers and boosts; a trigger or boost
// that cannot be read is left out (see eventJSON).
func (c *call) awardsJSON(awards []gamify.Award) []awardOut {
	out := []awardOut{}
	triggers := map[string]*triggerOut{}
	for _, a := range awards {
		o := awardOut{ID: fmt.Sprint(a.ID), Awarded: num(a.Points), Date: a.At.UTC(), Total: num(a.Total), Boosts: []boostOut{}}
		if a.Trigger != "" {
			t, ok := triggers[a.Trigger]
			if !ok {
				if tr, err := c.eng.Points().Triggers().Get(c.ctx(), a.Trigger); err == nil {
					tj := triggerJSON(tr)
					t = &tj
				} else {
					c.degraded(err)
				}
				triggers[a.Trigger] = t
			}
			o.Trigger = t
		}
		for _, b := range a.Boosts {
			bo := boostOut{ID: b.Key, Multiplier: num(b.Multiplier), Rounding: string(a.Rounding)}
			if b.Key == "" {
				bo.ID, bo.Name = "level:"+b.Level, "level "+b.Level
			} else if def, err := c.eng.Points().Boosts().Get(c.ctx(), b.Key); err == nil {
				bo = boostJSON(def)
			}
			o.Boosts = append(o.Boosts, bo)
		}
		out = append(out, o)
	}
	return out
}

// pointsDiffJSON writes the systems a write changed (see eventJSON).
func (c *call) pointsDiffJSON(changes []gamify.PointsChange) map[string]pointsDiffOut {
	out := map[string]pointsDiffOut{}
	for _, pc := range changes {
		s, err := c.eng.Points().Get(c.ctx(), pc.System)
		if err != nil {
			c.degraded(err)
			s = gamify.PointsSystem{Key: pc.System, Name: pc.System}
		}
		d := pointsDiffOut{systemOut: systemJSON(s), Total: num(pc.Total), Added: num(pc.Added), Awards: c.awardsJSON(pc.Awards)}
		if pc.Level != nil {
			if d.Level, err = c.levelOrNull(pc.System, pc.Level.To); err != nil {
				c.degraded(err)
				d.Level = &levelOut{ID: pc.Level.To, Key: pc.Level.To, Name: pc.Level.To}
			}
		}
		out[pc.System] = d
	}
	return out
}

type userPointsOut struct {
	systemOut
	Total  json.Number `json:"total"`
	Level  *levelOut   `json:"level"`
	Awards []awardOut  `json:"awards"`
}

func (h *handler) userPoints(c *call) (int, any, error) {
	n, err := c.queryInt("awards", 10, 1, 100)
	if err != nil {
		return 0, nil, err
	}
	id, key := c.r.PathValue("id"), c.r.PathValue("key")
	s, err := c.eng.Points().Get(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	up, err := c.eng.Users().Points(c.ctx(), id, key)
	if err != nil {
		return 0, nil, err
	}
	awards, err := c.eng.Users().Awards(c.ctx(), id, key, gamify.ListOptions{Limit: n})
	if err != nil {
		return 0, nil, err
	}
	out := userPointsOut{systemOut: systemJSON(s), Total: num(up.Total)}
	if out.Level, err = c.levelOrNull(key, up.Level); err != nil {
		return 0, nil, err
	}
	out.Awards = c.awardsJSON(awards)
	return http.StatusOK, out, nil
}

func (h *handler) userBoosts(c *call) (int, any, error) {
	bs, err := c.eng.Points().UserBoosts(c.ctx(), c.r.PathValue("key"), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	out := []boostOut{}
	for _, b := range bs {
		out = append(out, boostJSON(b))
	}
	return http.StatusOK, out, nil
}

type systemWithTriggersOut struct {
	systemOut
	Triggers []triggerOut `json:"triggers"`
}

func (h *handler) pointsSystem(c *call) (int, any, error) {
	key := c.r.PathValue("key")
	s, err := c.eng.Points().Get(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	if s.Status == gamify.StatusArchived {
		return 0, nil, notFound("points system " + key + " not found")
	}
	trs, err := listAll(func(o gamify.ListOptions) ([]gamify.Trigger, error) {
		return c.eng.Points().Triggers().ListFor(c.ctx(), gamify.TriggerFilter{System: key}, o)
	})
	if err != nil {
		return 0, nil, err
	}
	out := systemWithTriggersOut{systemOut: systemJSON(s), Triggers: []triggerOut{}}
	for _, t := range trs {
		if t.Status == gamify.StatusActive {
			out.Triggers = append(out.Triggers, triggerJSON(t))
		}
	}
	return http.StatusOK, out, nil
}

type rangeOut struct {
	From  json.Number `json:"from"`
	To    json.Number `json:"to"`
	Users int         `json:"users"`
}

func (h *handler) pointsSummary(c *call) (int, any, error) {
	attrs, err := c.queryAttrs("userAttributes")
	if err != nil {
		return 0, nil, err
	}
	bs, err := c.eng.Points().Histogram(c.ctx(), c.r.PathValue("key"), attrs)
	if err != nil {
		return 0, nil, err
	}
	out := []rangeOut{}
	for _, b := range bs {
		out = append(out, rangeOut{From: num(b.From), To: num(b.To), Users: b.Users})
	}
	return http.StatusOK, out, nil
}

func (h *handler) pointsBoosts(c *call) (int, any, error) {
	finished, err := c.queryBool("includeFinished")
	if err != nil {
		return 0, nil, err
	}
	key := c.r.PathValue("key")
	// ListFor answers [] for an unknown system; /levels and /{key} 404.
	if sys, err := c.eng.Points().Get(c.ctx(), key); err != nil {
		return 0, nil, err
	} else if sys.Status == gamify.StatusArchived {
		return 0, nil, notFound("points system " + key + " not found")
	}
	bs, err := listAll(func(o gamify.ListOptions) ([]gamify.Boost, error) {
		return c.eng.Points().Boosts().ListFor(c.ctx(), gamify.BoostFilter{System: key, Scope: gamify.BoostGlobal}, o)
	})
	if err != nil {
		return 0, nil, err
	}
	out := []boostOut{}
	for _, b := range bs {
		if b.Status == gamify.StatusInactive || (b.Status == gamify.StatusFinished && !finished) {
			continue
		}
		out = append(out, boostJSON(b))
	}
	return http.StatusOK, out, nil
}

// listAll pages through a list 100 at a time: one page would silently stop
// at the 100th item.
func listAll[T any](list func(gamify.ListOptions) ([]T, error)) ([]T, error) {
	var all []T
	for skip := 0; ; skip += 100 {
		page, err := list(gamify.ListOptions{Limit: 100, Skip: skip})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 100 {
			return all, nil
		}
	}
}

// activeLevels lists a system's levels in the ladder, lowest first.
func (c *call) activeLevels(system string) ([]gamify.Level, error) {
	ls, err := listAll(func(o gamify.ListOptions) ([]gamify.Level, error) {
		return c.eng.Points().Levels(system).List(c.ctx(), o)
	})
	if err != nil {
		return nil, err
	}
	out := []gamify.Level{}
	for _, l := range ls {
		if l.Status == gamify.StatusActive {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b gamify.Level) int { return a.Threshold.Cmp(b.Threshold) })
	return out, nil
}

func (h *handler) pointsLevels(c *call) (int, any, error) {
	ls, err := c.activeLevels(c.r.PathValue("key"))
	if err != nil {
		return 0, nil, err
	}
	out := []levelOut{}
	for _, l := range ls {
		out = append(out, levelJSON(l))
	}
	return http.StatusOK, out, nil
}

type levelCountOut struct {
	Level levelOut `json:"level"`
	Users int      `json:"users"`
}

func (h *handler) levelSummary(c *call) (int, any, error) {
	key := c.r.PathValue("key")
	ls, err := c.activeLevels(key)
	if err != nil {
		return 0, nil, err
	}
	if len(ls) == 0 {
		return 0, nil, invalid("key", "points system "+key+" has no levels")
	}
	counts, err := c.eng.Points().UsersPerLevel(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	n := map[string]int{}
	for _, lc := range counts {
		n[lc.Level] = lc.Users
	}
	out := []levelCountOut{}
	for _, l := range ls {
		out = append(out, levelCountOut{Level: levelJSON(l), Users: n[l.Key]})
	}
	return http.StatusOK, out, nil
}

// ---- metrics and summaries

type metricOut struct {
	ID           string           `json:"id"`
	Key          string           `json:"key"`
	Name         string           `json:"name"`
	Current      json.Number      `json:"current"`
	Achievements []achievementOut `json:"achievements"`
}

func (c *call) metricJSON(m gamify.UserMetric) (metricOut, error) {
	out := metricOut{ID: m.Key, Key: m.Key, Name: m.Name, Current: num(m.Total), Achievements: []achievementOut{}}
	for _, ua := range m.Achievements {
		a, err := c.achievementJSON(ua.Key)
		if err != nil {
			return out, err
		}
		if ua.Completed {
			a.AchievedAt = instant(ua.CompletedAt)
		}
		out.Achievements = append(out.Achievements, a)
	}
	return out, nil
}

func (h *handler) userMetrics(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, err
	}
	ms, err := c.eng.Users().Metrics(c.ctx(), id)
	if err != nil {
		return 0, nil, err
	}
	out := []metricOut{}
	for _, m := range ms {
		o, err := c.metricJSON(m)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, o)
	}
	return http.StatusOK, out, nil
}

func (h *handler) userMetric(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, err
	}
	m, err := c.eng.Users().Metric(c.ctx(), id, c.r.PathValue("key"))
	if err != nil {
		return 0, nil, err
	}
	out, err := c.metricJSON(m)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

type summaryOut struct {
	Date   string      `json:"date"`
	Total  json.Number `json:"total"`
	Change json.Number `json:"change"`
}

// summaryQuery reads aggregation, startDate and endDate; Trophy's endDate
// is inclusive, the engine's End exclusive.
func (c *call) summaryQuery() (gamify.SummaryQuery, error) {
	q := gamify.SummaryQuery{Aggregation: gamify.Aggregation(c.r.URL.Query().Get("aggregation"))}
	switch q.Aggregation {
	case gamify.AggregateDaily, gamify.AggregateWeekly, gamify.AggregateMonthly:
	default:
		return q, invalid("aggregation", "aggregation must be daily, weekly or monthly")
	}
	var err error
	if q.Start, err = c.queryDate("startDate"); err != nil {
		return q, err
	}
	end, err := c.queryDate("endDate")
	if err != nil {
		return q, err
	}
	if q.Start == (gamify.Date{}) {
		return q, invalid("startDate", "startDate and endDate are required")
	}
	if end == (gamify.Date{}) {
		return q, invalid("endDate", "startDate and endDate are required")
	}
	next := time.Date(end.Year, end.Month, end.Day+1, 0, 0, 0, 0, time.UTC)
	q.End = gamify.Date{Year: next.Year(), Month: next.Month(), Day: next.Day()}
	return q, nil
}

// summaryParams and boardParams name the engine's query fields by their
// query parameters, so that a 422 names what the caller sent.
var (
	summaryParams = map[string]string{"SummaryQuery.Aggregation": "aggregation", "SummaryQuery.Start": "startDate", "SummaryQuery.End": "endDate"}
	boardParams   = map[string]string{"BoardQuery.Offset": "offset", "BoardQuery.Limit": "limit", "BoardQuery.At": "run", "BoardQuery.Group": "userAttributes"}
)

func summaryJSON(rows []gamify.SummaryRow) []summaryOut {
	out := []summaryOut{}
	for _, r := range rows {
		out = append(out, summaryOut{Date: r.Start.String(), Total: num(r.Total), Change: num(r.Change)})
	}
	return out
}

func (h *handler) userMetricSummary(c *call) (int, any, error) {
	q, err := c.summaryQuery()
	if err != nil {
		return 0, nil, err
	}
	rows, err := c.eng.Users().MetricSummary(c.ctx(), c.r.PathValue("id"), c.r.PathValue("key"), q)
	if err != nil {
		return 0, nil, renameField(err, summaryParams)
	}
	return http.StatusOK, summaryJSON(rows), nil
}

func (h *handler) userPointsSummary(c *call) (int, any, error) {
	q, err := c.summaryQuery()
	if err != nil {
		return 0, nil, err
	}
	rows, err := c.eng.Users().PointsSummary(c.ctx(), c.r.PathValue("id"), c.r.PathValue("key"), q)
	if err != nil {
		return 0, nil, renameField(err, summaryParams)
	}
	return http.StatusOK, summaryJSON(rows), nil
}

// ---- preferences

type streakPrefOut struct {
	Enabled bool            `json:"enabled"`
	Metrics []metricPrefOut `json:"metrics"`
}

type metricPrefOut struct {
	Key       string      `json:"key"`
	Threshold json.Number `json:"threshold"`
}

type metricPrefIn struct {
	Key       string   `json:"key"`
	Threshold numberIn `json:"threshold"`
}

type prefsOut struct {
	Notifications map[string][]string `json:"notifications"`
	Streak        streakPrefOut       `json:"streak"`
}

func prefsJSON(p gamify.Preferences) prefsOut {
	// Trophy's enabled (default true; false keeps the streak at 0) is the
	// engine's OptOut reversed; its metrics are the personal thresholds.
	out := prefsOut{Notifications: map[string][]string{}, Streak: streakPrefOut{Enabled: !p.Streak.OptOut, Metrics: []metricPrefOut{}}}
	for t, chs := range p.Notifications {
		l := []string{}
		for _, ch := range chs {
			l = append(l, string(ch))
		}
		out.Notifications[string(t)] = l
	}
	for k, v := range p.Streak.Thresholds {
		out.Streak.Metrics = append(out.Streak.Metrics, metricPrefOut{Key: k, Threshold: num(v)})
	}
	slices.SortFunc(out.Streak.Metrics, func(a, b metricPrefOut) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func (h *handler) userPreferences(c *call) (int, any, error) {
	p, err := c.eng.Users().Preferences(c.ctx(), c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, prefsJSON(p), nil
}

type prefsIn struct {
	Notifications map[string][]string `json:"notifications"`
	Streak        *struct {
		Enabled *bool          `json:"enabled"`
		Metrics []metricPrefIn `json:"metrics"`
	} `json:"streak"`
}

func (h *handler) patchPreferences(c *call) (int, any, error) {
	var in prefsIn
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	thresholds := map[string]gamify.Amount{}
	var keys []string // streak.metrics' keys, by index
	if in.Streak != nil {
		for i, m := range in.Streak.Metrics {
			a, err := amountOf(fmt.Sprintf("streak.metrics[%d].threshold", i), m.Threshold)
			if err != nil {
				return 0, nil, err
			}
			if j := slices.Index(keys, m.Key); j >= 0 {
				f := fmt.Sprintf("streak.metrics[%d].key", i)
				return 0, nil, invalid(f, fmt.Sprintf("%s: %q is listed twice (also at %d)", f, m.Key, j))
			}
			thresholds[m.Key], keys = a, append(keys, m.Key)
		}
	}
	p, err := c.eng.Users().PatchPreferences(c.ctx(), c.r.PathValue("id"), func(p *gamify.Preferences) {
		if in.Notifications != nil {
			n := map[gamify.NotificationType][]gamify.Channel{}
			for k, v := range p.Notifications {
				n[k] = v
			}
			for t, chs := range in.Notifications {
				l := []gamify.Channel{}
				for _, ch := range chs {
					l = append(l, gamify.Channel(ch))
				}
				n[gamify.NotificationType(t)] = l
			}
			p.Notifications = n
		}
		if in.Streak != nil {
			if in.Streak.Enabled != nil {
				p.Streak.OptOut = !*in.Streak.Enabled
			}
			if in.Streak.Metrics != nil {
				p.Streak.Thresholds, p.Streak.Enabled = thresholds, len(thresholds) > 0
			}
		}
	})
	if err != nil {
		return 0, nil, elementOf(err, "Preferences.Streak.Thresholds[", "streak.metrics", keys)
	}
	return http.StatusOK, prefsJSON(p), nil
}

// elementOf names the element of a request list in the engine's error
// about a map entry the list became (Preferences.Streak.Thresholds[k],
// Achievement.UserFilters[k]): the request lists, the engine keeps by key,
// so its field has the key, not the index. mark is the engine field up to
// the key's bracket, list the JSON name, keys the list's keys by index.
func elementOf(err error, mark, list string, keys []string) error {
	var ve *gamify.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	_, k, ok := strings.Cut(ve.Field, mark)
	if k, ok = strings.CutSuffix(k, "]"); !ok {
		return err
	}
	i := slices.Index(keys, k)
	if i < 0 {
		return err
	}
	f := fmt.Sprintf("%s[%d]", list, i)
	return invalid(f, f+": "+err.Error())
}

// ---- leaderboards

// boardOut is Trophy's LeaderboardResponse.
type boardOut struct {
	ID                  string   `json:"id"`
	Key                 string   `json:"key"`
	Name                string   `json:"name"`
	Description         *string  `json:"description"`
	RankBy              string   `json:"rankBy"`
	MetricKey           string   `json:"metricKey,omitempty"`
	PointsSystemKey     string   `json:"pointsSystemKey,omitempty"`
	StreakKey           string   `json:"streakKey,omitempty"`
	Status              string   `json:"status"`
	Start               *string  `json:"start"`
	End                 *string  `json:"end"`
	MaxParticipants     int      `json:"maxParticipants"`
	BreakdownAttributes []string `json:"breakdownAttributes"`
	RunUnit             *string  `json:"runUnit"`
	RunInterval         int      `json:"runInterval"`
}

func boardJSON(b gamify.Leaderboard) boardOut {
	out := boardOut{ID: b.Key, Key: b.Key, Name: b.Name, Description: strOrNull(b.Description), RankBy: string(b.RankBy),
		MetricKey: b.Metric, PointsSystemKey: b.System, StreakKey: b.Streak, Status: string(b.Status),
		Start: day(b.Start), End: day(b.End), MaxParticipants: b.MaxParticipants,
		BreakdownAttributes: b.Breakdown, RunUnit: strOrNull(string(b.RunUnit)), RunInterval: b.RunEvery}
	if out.BreakdownAttributes == nil {
		out.BreakdownAttributes = []string{}
	}
	if b.RunUnit != "" && out.RunInterval == 0 {
		out.RunInterval = 1
	}
	return out
}

type boardChangeOut struct {
	boardOut
	Rank                     *int        `json:"rank"`
	PreviousRank             *int        `json:"previousRank"`
	Threshold                json.Number `json:"threshold"`
	BreakdownAttributeValues []kv        `json:"breakdownAttributeValues"`
}

func rankOrNull(r int) *int {
	if r == 0 {
		return nil
	}
	return &r
}

// groupPairs splits a breakdown group "k:v,k2:v2" into pairs.
func groupPairs(g string) []kv {
	out := []kv{}
	if g == "" {
		return out
	}
	for p := range strings.SplitSeq(g, ",") {
		k, v, _ := strings.Cut(p, ":")
		out = append(out, kv{k, v})
	}
	return out
}

func (h *handler) listLeaderboards(c *call) (int, any, error) {
	finished, err := c.queryBool("includeFinished")
	if err != nil {
		return 0, nil, err
	}
	out := []boardOut{}
	for skip := 0; ; skip += 100 {
		bs, err := c.eng.Leaderboards().List(c.ctx(), gamify.BoardListOptions{ListOptions: gamify.ListOptions{Limit: 100, Skip: skip}, IncludeFinished: finished})
		if err != nil {
			return 0, nil, err
		}
		for _, b := range bs {
			out = append(out, boardJSON(b))
		}
		if len(bs) < 100 {
			break
		}
	}
	return http.StatusOK, out, nil
}

type rankingOut struct {
	UserID   string      `json:"userId"`
	UserName *string     `json:"userName"`
	Rank     int         `json:"rank"`
	Value    json.Number `json:"value"`
}

type boardRankingsOut struct {
	boardOut
	Rankings []rankingOut `json:"rankings"`
}

// runAt reads ?run=YYYY-MM-DD as the start of that day in the board's zone.
func (c *call) runAt(b gamify.Leaderboard) (time.Time, error) {
	d, err := c.queryDate("run")
	if err != nil || d == (gamify.Date{}) {
		return time.Time{}, err
	}
	loc := time.UTC
	if b.TZ != "" {
		if loc, err = time.LoadLocation(b.TZ); err != nil {
			return time.Time{}, err
		}
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc), nil
}

func (h *handler) getLeaderboard(c *call) (int, any, error) {
	key := c.r.PathValue("key")
	b, err := c.eng.Leaderboards().Get(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	if b.Status == gamify.StatusArchived {
		return 0, nil, notFound("leaderboard " + key + " not found")
	}
	q := gamify.BoardQuery{User: c.r.URL.Query().Get("userId")}
	if q.Offset, err = c.queryInt("offset", 0, -1000000, 1<<30); err != nil {
		return 0, nil, err
	}
	if q.Limit, err = c.queryInt("limit", 10, 1, 100); err != nil {
		return 0, nil, err
	}
	if q.At, err = c.runAt(b); err != nil {
		return 0, nil, err
	}
	q.Group = c.r.URL.Query().Get("userAttributes")
	out := boardRankingsOut{boardOut: boardJSON(b), Rankings: []rankingOut{}}
	page, err := c.eng.Leaderboards().Rankings(c.ctx(), key, q)
	if errors.Is(err, gamify.ErrNotFound) && q.User != "" {
		return http.StatusOK, out, nil // Trophy: a user not on the board gives no rankings
	}
	if err != nil {
		return 0, nil, renameField(err, boardParams)
	}
	for _, row := range page.Rows {
		r := rankingOut{UserID: row.User, Rank: row.Rank, Value: num(row.Score)}
		if u, err := c.eng.Users().Get(c.ctx(), row.User); err == nil {
			r.UserName = strOrNull(u.Name)
		}
		out.Rankings = append(out.Rankings, r)
	}
	return http.StatusOK, out, nil
}

type rankHistoryOut struct {
	Date          string       `json:"date"`
	PreviousRank  *int         `json:"previousRank"`
	Rank          *int         `json:"rank"`
	PreviousValue *json.Number `json:"previousValue"`
	Value         json.Number  `json:"value"`
}

type userBoardOut struct {
	boardOut
	Rank    *int             `json:"rank"`
	Value   *json.Number     `json:"value"`
	History []rankHistoryOut `json:"history"`
}

func (h *handler) userLeaderboard(c *call) (int, any, error) {
	id, key := c.r.PathValue("id"), c.r.PathValue("key")
	n, err := c.queryInt("numEvents", 10, 0, 100)
	if err != nil {
		return 0, nil, err
	}
	b, err := c.eng.Leaderboards().Get(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	// As /v1/leaderboards/{key}: an archived board is gone.
	if b.Status == gamify.StatusArchived {
		return 0, nil, notFound("leaderboard " + key + " not found")
	}
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, err
	}
	at, err := c.runAt(b)
	if err != nil {
		return 0, nil, err
	}
	out := userBoardOut{boardOut: boardJSON(b), History: []rankHistoryOut{}}
	ur, err := c.eng.Leaderboards().UserRankAt(c.ctx(), key, id, at)
	switch {
	case err == nil:
		v := num(ur.Score)
		out.Rank, out.Value = &ur.Rank, &v
	case !errors.Is(err, gamify.ErrNotFound):
		return 0, nil, err
	}
	if n > 0 {
		hist, err := c.eng.Leaderboards().RankHistory(c.ctx(), key, id, n)
		if err != nil && !errors.Is(err, gamify.ErrNotFound) {
			return 0, nil, err
		}
		for _, d := range hist {
			o := rankHistoryOut{Date: d.Date.String(), PreviousRank: rankOrNull(d.PreviousRank), Rank: rankOrNull(d.Rank), Value: num(d.Score)}
			if d.PreviousRank != 0 {
				pv := num(d.PreviousScore)
				o.PreviousValue = &pv
			}
			out.History = append(out.History, o)
		}
	}
	return http.StatusOK, out, nil
}
