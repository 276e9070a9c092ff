package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
)

// Bricqs' definition resources: GET list (page, page_size) in the
// participants' envelope, POST one object, GET, PATCH and DELETE (archive:
// is_active false, the code never reused) by code. Bricqs' ids are the
// engine's keys.
func (h *handler) routeBricqsDefinitions(p string) {
	routeBricqs(h, p+"/badges", "Badge", resource[gamify.Achievement]{achievementsOps, badgeCodec})
	routeBricqs(h, p+"/tiers", "Tier", resource[gamify.Level]{levelOps((*call).levels), tierCodec})
	routeBricqs(h, p+"/streaks", "Streak", resource[gamify.Streak]{streaksOps, bricqsStreakCodec})
	routeBricqs(h, p+"/leaderboards", "Leaderboard", resource[gamify.Leaderboard]{leaderboardsOps, bricqsBoardCodec})
	routeBricqs(h, p+"/rewards", "Reward", resource[gamify.Reward]{rewardsOps, rewardCodec})
	h.handle("POST "+p+"/rewards/{id}/codes", adminKey, h.addRewardCodes)
	h.handle("GET "+p+"/rewards/{id}/codes", adminKey, h.listRewardCodes)
}

type pageOut struct {
	Items    []any `json:"items"`
	Total    int   `json:"total"`
	Page     int   `json:"page"`
	PageSize int   `json:"page_size"`
}

func routeBricqs[D any](h *handler, path, noun string, r resource[D]) {
	h.handle("GET "+path, adminKey, func(c *call) (int, any, error) {
		page, err := c.queryInt("page", 1, 1, 1<<30)
		if err != nil {
			return 0, nil, err
		}
		size, err := c.queryInt("page_size", 50, 1, 100)
		if err != nil {
			return 0, nil, err
		}
		// Definitions are few: count them all for the envelope's total.
		var all []D
		for skip := 0; ; skip += 100 {
			ds, err := r.list(c, gamify.ListOptions{Limit: 100, Skip: skip})
			if err != nil {
				return 0, nil, err
			}
			all = append(all, ds...)
			if len(ds) < 100 {
				break
			}
		}
		out := pageOut{Items: []any{}, Total: len(all), Page: page, PageSize: size}
		for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
			out.Items = append(out.Items, r.out(all[i]))
		}
		return http.StatusOK, out, nil
	})
	h.handle("POST "+path, adminKey, func(c *call) (int, any, error) {
		var raw json.RawMessage
		if err := c.decode(&raw); err != nil {
			return 0, nil, err
		}
		d, err := r.decode(c, raw)
		if err != nil {
			return 0, nil, err
		}
		created, issues, err := r.create(c, []D{d})
		if err = issueErr(issues, err); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, r.out(created[0]), nil
	})
	h.handle("GET "+path+"/{id}", adminKey, func(c *call) (int, any, error) {
		d, err := r.get(c, c.r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, r.out(d), nil
	})
	h.handle("PATCH "+path+"/{id}", adminKey, func(c *call) (int, any, error) {
		var raw json.RawMessage
		if err := c.decode(&raw); err != nil {
			return 0, nil, err
		}
		// The path names the item; a body code naming another would be ignored.
		var id struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(raw, &id) == nil {
			if err := fixed(strings.ToLower(noun), "code", id.Code, c.r.PathValue("id")); err != nil {
				return 0, nil, err
			}
		}
		_, d, err := patchItem(c, r, raw)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, r.out(d), nil
	})
	h.handle("DELETE "+path+"/{id}", adminKey, func(c *call) (int, any, error) {
		issues, err := r.delete(c, []string{c.r.PathValue("id")})
		if err = issueErr(issues, err); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, messageOut{noun + " deleted"}, nil
	})
}

// issueErr turns the error issue of a one-item bulk call into its error.
func issueErr(issues []gamify.Issue, err error) error {
	if err != nil {
		return err
	}
	for _, is := range issues {
		if is.Severity == gamify.SeverityError {
			if is.Err != nil {
				return is.Err
			}
			return errors.New(is.Message)
		}
	}
	return nil
}

// activeStatus maps Bricqs' is_active to a status change ("" for none).
func activeStatus(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return string(gamify.StatusActive)
	}
	return string(gamify.StatusInactive)
}

func isActive(s gamify.Status) bool {
	return s == gamify.StatusActive || s == gamify.StatusScheduled
}

// ---- badges (achievements)

var achievementsOps = ops[gamify.Achievement]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Achievement, error) {
		return c.eng.Achievements().List(c.ctx(), o)
	},
	get: func(c *call, k string) (gamify.Achievement, error) { return c.eng.Achievements().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Achievement) ([]gamify.Achievement, []gamify.Issue, error) {
		return c.eng.Achievements().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) {
		return c.eng.Achievements().BulkDelete(c.ctx(), ks)
	},
	patch: func(c *call, k string, e func(*gamify.Achievement)) (gamify.Achievement, error) {
		return c.eng.Achievements().Patch(c.ctx(), k, e)
	},
	status: achievementStatus,
	more:   []gamify.Status{gamify.StatusLocked},
}

type badgeIn struct {
	Code         string  `json:"code"`
	Name         *string `json:"name"`
	Description  *string `json:"description"`
	IconURL      *string `json:"icon_url"`
	Category     *string `json:"category"`
	Rarity       *string `json:"rarity"`
	DisplayOrder *int    `json:"display_order"`
	IsActive     *bool   `json:"is_active"`
}

func (in *badgeIn) apply(a *gamify.Achievement) {
	setIf(&a.Name, in.Name)
	setIf(&a.Description, in.Description)
	setIf(&a.ImageURL, in.IconURL)
	setIf(&a.Category, in.Category)
	if in.Rarity != nil {
		a.Rarity = gamify.Rarity(*in.Rarity)
	}
	if in.DisplayOrder != nil {
		a.Order = *in.DisplayOrder
	}
}

type badgeOut struct {
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

// badgeCodec creates manual badges (awarded by the application), the kind
// Bricqs' award endpoint gives; badges of the other kinds are read and
// patched the same way.
var badgeCodec = codec[gamify.Achievement]{
	decode: func(c *call, raw json.RawMessage) (gamify.Achievement, error) {
		var in badgeIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Achievement{}, err
		}
		a := gamify.Achievement{Key: in.Code, Kind: gamify.AchievementManual}
		if in.IsActive != nil && !*in.IsActive {
			a.Status = gamify.StatusInactive
		}
		in.apply(&a)
		return a, nil
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Achievement), string, error) {
		var in badgeIn
		err := strictItem(raw, &in)
		return c.r.PathValue("id"), in.apply, activeStatus(in.IsActive), err
	},
	out: func(a gamify.Achievement) any {
		rarity := a.Rarity
		if rarity == "" {
			rarity = gamify.RarityCommon
		}
		return badgeOut{ID: a.Key, Code: a.Key, Name: a.Name, Description: strOrNull(a.Description), IconURL: strOrNull(a.ImageURL),
			Category: strOrNull(a.Category), Rarity: string(rarity), DisplayOrder: a.Order, Kind: string(a.Kind),
			Status: string(a.Status), IsActive: isActive(a.Status), CreatedAt: instant(a.Created), UpdatedAt: instant(a.Updated)}
	},
}

// ---- tiers (levels of a points system)

// tierSystem is the points system whose levels /tiers serves, and the one
// award, deduct and the participants list default to (Bricqs has one points
// balance): ?system=KEY, else defaultSystem.
func (c *call) tierSystem() (string, error) {
	s, err := c.defaultSystem()
	if err == nil && s == "" {
		err = notFound("no points system is defined")
	}
	return s, err
}

// defaultSystem is ?system=KEY, else the first points system created that
// is not archived, or "" when there is none.
func (c *call) defaultSystem() (string, error) {
	if s := c.r.URL.Query().Get("system"); s != "" {
		return s, nil
	}
	ss, err := c.eng.Points().List(c.ctx(), gamify.ListOptions{Limit: 1})
	if err != nil || len(ss) == 0 {
		return "", err
	}
	return ss[0].Key, nil
}

// levels returns the LevelsAPI of the tier system.
func (c *call) levels() (gamify.LevelsAPI, error) {
	s, err := c.tierSystem()
	if err != nil {
		return gamify.LevelsAPI{}, err
	}
	return c.eng.Points().Levels(s), nil
}

type criteriaIO struct {
	MinPoints numberIn `json:"min_points"`
}

type tierIn struct {
	Code            string      `json:"code"`
	Name            *string     `json:"name"`
	Description     *string     `json:"description"`
	Level           *int        `json:"level"`
	Color           *string     `json:"color"`
	IconURL         *string     `json:"icon_url"`
	Benefits        []string    `json:"benefits"`
	PointMultiplier optNumber   `json:"point_multiplier"`
	CriteriaConfig  *criteriaIO `json:"criteria_config"`
	AwardType       *string     `json:"award_type"`
	DisplayOrder    *int        `json:"display_order"`
	IsActive        *bool       `json:"is_active"`
}

func (in *tierIn) apply(l *gamify.Level) error {
	setIf(&l.Name, in.Name)
	setIf(&l.Description, in.Description)
	setIf(&l.Color, in.Color)
	setIf(&l.ImageURL, in.IconURL)
	if in.Level != nil {
		l.Level = *in.Level
	}
	if in.Benefits != nil {
		l.Benefits = in.Benefits
	}
	if in.DisplayOrder != nil {
		l.Order = *in.DisplayOrder
	}
	if in.AwardType != nil && *in.AwardType != "automatic" {
		return invalid("award_type", "award_type must be automatic (a manual tier is a pin: PinLevel)")
	}
	if in.PointMultiplier.set {
		m := gamify.Amount{}
		if in.PointMultiplier.n != "" {
			var err error
			if m, err = amountOf("point_multiplier", in.PointMultiplier.n); err != nil {
				return err
			}
		}
		l.Multiplier = m
	}
	if in.CriteriaConfig != nil {
		t, err := amountOf("criteria_config.min_points", in.CriteriaConfig.MinPoints)
		if err != nil {
			return err
		}
		l.Threshold = t
	}
	return nil
}

type tierOut struct {
	ID              string       `json:"id"`
	Code            string       `json:"code"`
	Name            string       `json:"name"`
	Description     *string      `json:"description"`
	Level           int          `json:"level"`
	Color           *string      `json:"color"`
	IconURL         *string      `json:"icon_url"`
	Benefits        []string     `json:"benefits"`
	PointMultiplier *json.Number `json:"point_multiplier"`
	CriteriaConfig  struct {
		MinPoints json.Number `json:"min_points"`
	} `json:"criteria_config"`
	AwardType    string     `json:"award_type"`
	DisplayOrder int        `json:"display_order"`
	PointsSystem string     `json:"points_system"`
	Status       string     `json:"status"`
	IsActive     bool       `json:"is_active"`
	CreatedAt    *time.Time `json:"created_at"`
	UpdatedAt    *time.Time `json:"updated_at"`
}

var tierCodec = codec[gamify.Level]{
	decode: func(c *call, raw json.RawMessage) (gamify.Level, error) {
		var in tierIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Level{}, err
		}
		l := gamify.Level{Key: in.Code}
		if in.IsActive != nil && !*in.IsActive {
			l.Status = gamify.StatusInactive
		}
		return l, in.apply(&l)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Level), string, error) {
		var in tierIn
		if err := strictItem(raw, &in); err != nil {
			return "", nil, "", err
		}
		edit, err := checked(in.apply)
		return c.r.PathValue("id"), edit, activeStatus(in.IsActive), err
	},
	out: func(l gamify.Level) any {
		out := tierOut{ID: l.Key, Code: l.Key, Name: l.Name, Description: strOrNull(l.Description), Level: l.Level,
			Color: strOrNull(l.Color), IconURL: strOrNull(l.ImageURL), Benefits: l.Benefits, PointMultiplier: numOrNull(l.Multiplier),
			AwardType: "automatic", DisplayOrder: l.Order, PointsSystem: l.System, Status: string(l.Status), IsActive: isActive(l.Status),
			CreatedAt: instant(l.Created), UpdatedAt: instant(l.Updated)}
		out.CriteriaConfig.MinPoints = num(l.Threshold)
		if out.Benefits == nil {
			out.Benefits = []string{}
		}
		return out
	},
}

// ---- streaks

var streaksOps = ops[gamify.Streak]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Streak, error) { return c.eng.Streaks().List(c.ctx(), o) },
	get:  func(c *call, k string) (gamify.Streak, error) { return c.eng.Streaks().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Streak) ([]gamify.Streak, []gamify.Issue, error) {
		return c.eng.Streaks().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) { return c.eng.Streaks().BulkDelete(c.ctx(), ks) },
	patch: func(c *call, k string, e func(*gamify.Streak)) (gamify.Streak, error) {
		return c.eng.Streaks().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Streak, error) {
		a := c.eng.Streaks()
		return editStatus(a.Activate, a.Deactivate, nil)(c, k, s)
	},
}

type streakMetricIn struct {
	Metric string   `json:"metric"`
	Min    numberIn `json:"min"`
}

type streakMetricOut struct {
	Metric string      `json:"metric"`
	Min    json.Number `json:"min"`
}

type bricqsStreakIn struct {
	Code             string           `json:"code"`
	Name             *string          `json:"name"`
	Description      *string          `json:"description"`
	Period           *string          `json:"period"`
	GracePeriodHours *int             `json:"grace_period_hours"`
	DisplayOrder     *int             `json:"display_order"`
	Metrics          []streakMetricIn `json:"metrics"`
	Mode             *string          `json:"mode"`
	IsActive         *bool            `json:"is_active"`
}

func (in *bricqsStreakIn) apply(s *gamify.Streak) error {
	setIf(&s.Name, in.Name)
	setIf(&s.Description, in.Description)
	if in.Period != nil {
		s.Frequency = gamify.StreakFrequency(*in.Period)
	}
	if in.GracePeriodHours != nil {
		s.GraceHours = *in.GracePeriodHours
	}
	if in.DisplayOrder != nil {
		s.Order = *in.DisplayOrder
	}
	if in.Mode != nil {
		s.Mode = gamify.StreakMode(*in.Mode)
	}
	if in.Metrics != nil {
		s.Metrics = nil
		for i, m := range in.Metrics {
			min, err := amountOf(fmt.Sprintf("metrics[%d].min", i), m.Min)
			if err != nil {
				return err
			}
			s.Metrics = append(s.Metrics, gamify.StreakMetric{Metric: m.Metric, Min: min})
		}
	}
	return nil
}

type bricqsStreakOut struct {
	ID               string            `json:"id"`
	Code             string            `json:"code"`
	Name             string            `json:"name"`
	Description      *string           `json:"description"`
	Period           string            `json:"period"`
	GracePeriodHours int               `json:"grace_period_hours"`
	DisplayOrder     int               `json:"display_order"`
	Metrics          []streakMetricOut `json:"metrics"`
	Mode             string            `json:"mode"`
	Status           string            `json:"status"`
	IsActive         bool              `json:"is_active"`
	CreatedAt        *time.Time        `json:"created_at"`
	UpdatedAt        *time.Time        `json:"updated_at"`
}

// bricqsStreakCodec: Bricqs' streaks are ticked by a record call; the
// engine's count metric events, so a streak names its metrics (a gamify
// extension: metrics [{metric, min}]; period defaults to daily).
var bricqsStreakCodec = codec[gamify.Streak]{
	decode: func(c *call, raw json.RawMessage) (gamify.Streak, error) {
		var in bricqsStreakIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Streak{}, err
		}
		s := gamify.Streak{Key: in.Code, Frequency: gamify.StreakDaily}
		if in.IsActive != nil && !*in.IsActive {
			s.Status = gamify.StatusInactive
		}
		return s, in.apply(&s)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Streak), string, error) {
		var in bricqsStreakIn
		if err := strictItem(raw, &in); err != nil {
			return "", nil, "", err
		}
		edit, err := checked(in.apply)
		return c.r.PathValue("id"), edit, activeStatus(in.IsActive), err
	},
	out: func(s gamify.Streak) any {
		out := bricqsStreakOut{ID: s.Key, Code: s.Key, Name: s.Name, Description: strOrNull(s.Description), Period: string(s.Frequency),
			GracePeriodHours: s.GraceHours, DisplayOrder: s.Order, Metrics: []streakMetricOut{}, Mode: string(s.Mode),
			Status: string(s.Status), IsActive: isActive(s.Status), CreatedAt: instant(s.Created), UpdatedAt: instant(s.Updated)}
		if out.Mode == "" {
			out.Mode = string(gamify.StreakModeAll)
		}
		for _, m := range s.Metrics {
			out.Metrics = append(out.Metrics, streakMetricOut{Metric: m.Metric, Min: num(m.Min)})
		}
		return out
	},
}

// ---- leaderboards

var timeWindows = map[string]gamify.RunUnit{"all_time": "", "daily": gamify.RunDay, "weekly": gamify.RunWeek, "monthly": gamify.RunMonth, "yearly": gamify.RunYear}

type bricqsBoardIn struct {
	Code            string  `json:"code"`
	Name            *string `json:"name"`
	Description     *string `json:"description"`
	TimeWindow      *string `json:"time_window"`
	RankBy          string  `json:"rank_by"`
	Metric          string  `json:"metric"`
	PointsSystem    string  `json:"points_system"`
	Streak          string  `json:"streak"`
	SortOrder       *string `json:"sort_order"`
	MaxParticipants *int    `json:"max_participants"`
	IsActive        *bool   `json:"is_active"`
}

func (in *bricqsBoardIn) apply(b *gamify.Leaderboard) error {
	setIf(&b.Name, in.Name)
	setIf(&b.Description, in.Description)
	if in.MaxParticipants != nil {
		b.MaxParticipants = *in.MaxParticipants
	}
	if in.TimeWindow != nil {
		u, ok := timeWindows[*in.TimeWindow]
		if !ok {
			return invalid("time_window", fmt.Sprintf("time_window must be all_time, yearly, monthly, weekly or daily, not %q", *in.TimeWindow))
		}
		b.RunUnit = u
	}
	if in.SortOrder != nil {
		b.Order = gamify.BoardOrder(*in.SortOrder)
	}
	return nil
}

type bricqsBoardOut struct {
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

var bricqsBoardCodec = codec[gamify.Leaderboard]{
	decode: func(c *call, raw json.RawMessage) (gamify.Leaderboard, error) {
		var in bricqsBoardIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Leaderboard{}, err
		}
		b := gamify.Leaderboard{Key: in.Code, RankBy: gamify.RankBy(in.RankBy), Metric: in.Metric, System: in.PointsSystem, Streak: in.Streak}
		if in.IsActive != nil && !*in.IsActive {
			b.Status = gamify.StatusInactive
		}
		return b, in.apply(&b)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Leaderboard), string, error) {
		var in bricqsBoardIn
		if err := strictItem(raw, &in); err != nil {
			return "", nil, "", err
		}
		if in.RankBy+in.Metric+in.PointsSystem+in.Streak != "" {
			cur, err := c.eng.Leaderboards().Get(c.ctx(), c.r.PathValue("id"))
			if err != nil {
				return "", nil, "", err
			}
			if cur.Status != gamify.StatusInactive { // as the Trophy shape: editable while inactive
				if err := fixed("leaderboard", "rank_by", in.RankBy, string(cur.RankBy), "metric", in.Metric, cur.Metric,
					"points_system", in.PointsSystem, cur.System, "streak", in.Streak, cur.Streak); err != nil {
					return "", nil, "", err
				}
			}
		}
		edit, err := checked(func(b *gamify.Leaderboard) error {
			setSource(b, in.RankBy, in.Metric, in.PointsSystem, in.Streak)
			return in.apply(b)
		})
		return c.r.PathValue("id"), edit, activeStatus(in.IsActive), err
	},
	out: func(b gamify.Leaderboard) any {
		window := "all_time"
		for w, u := range timeWindows {
			if u == b.RunUnit && u != "" {
				window = w
			}
		}
		if b.RunCron != "" {
			window = "cron"
		}
		order := string(b.Order)
		if order == "" {
			order = string(gamify.Desc)
		}
		var maxp *int
		if b.MaxParticipants > 0 {
			maxp = &b.MaxParticipants
		}
		return bricqsBoardOut{ID: b.Key, Code: b.Key, Name: b.Name, Description: strOrNull(b.Description), TimeWindow: window,
			RankBy: string(b.RankBy), Metric: strOrNull(b.Metric), PointsSystem: strOrNull(b.System), Streak: strOrNull(b.Streak),
			SortOrder: order, MaxParticipants: maxp, StartDate: day(b.Start), EndDate: day(b.End), Status: string(b.Status),
			IsActive: isActive(b.Status), CreatedAt: instant(b.Created), UpdatedAt: instant(b.Updated)}
	},
}

// ---- rewards

var rewardsOps = ops[gamify.Reward]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Reward, error) {
		return c.eng.Rewards().List(c.ctx(), gamify.RewardListOptions{ListOptions: o})
	},
	get: func(c *call, k string) (gamify.Reward, error) { return c.eng.Rewards().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Reward) ([]gamify.Reward, []gamify.Issue, error) {
		return c.eng.Rewards().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) { return c.eng.Rewards().BulkDelete(c.ctx(), ks) },
	patch: func(c *call, k string, e func(*gamify.Reward)) (gamify.Reward, error) {
		return c.eng.Rewards().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Reward, error) {
		a := c.eng.Rewards()
		return editStatus(a.Activate, a.Deactivate, nil)(c, k, s)
	},
}

type rewardIn struct {
	Code             string     `json:"code"`
	Name             *string    `json:"name"`
	Description      *string    `json:"description"`
	RewardType       string     `json:"reward_type"`
	PointsCost       optNumber  `json:"points_cost"`
	PointsSystem     string     `json:"points_system"`
	MaxClaimsPerUser *int       `json:"max_claims_per_user"`
	Inventory        *int       `json:"inventory"`
	ExpiresAt        *time.Time `json:"expires_at"`
	Multiplier       optNumber  `json:"multiplier"`
	DurationHours    *int       `json:"duration_hours"`
	IsActive         *bool      `json:"is_active"`
}

func (in *rewardIn) apply(r *gamify.Reward) error {
	setIf(&r.Name, in.Name)
	setIf(&r.Description, in.Description)
	if in.MaxClaimsPerUser != nil {
		r.PerUserLimit = *in.MaxClaimsPerUser
	}
	if in.Inventory != nil {
		r.Inventory = *in.Inventory
	}
	if in.ExpiresAt != nil {
		r.Expires = *in.ExpiresAt
	}
	if in.DurationHours != nil {
		// Bounded before multiplying, which would overflow (5124096 hours
		// wrapped to 25 minutes); 100 years is the engine's own bound.
		if *in.DurationHours < 0 || *in.DurationHours > 876000 {
			return invalid("duration_hours", fmt.Sprintf("duration_hours must be from 0 to 876000 (100 years), not %d", *in.DurationHours))
		}
		r.Duration = time.Duration(*in.DurationHours) * time.Hour
	}
	for _, f := range []struct {
		name string
		in   optNumber
		dst  *gamify.Amount
	}{{"points_cost", in.PointsCost, &r.Cost}, {"multiplier", in.Multiplier, &r.Multiplier}} {
		if !f.in.set {
			continue
		}
		a := gamify.Amount{}
		if f.in.n != "" {
			var err error
			if a, err = amountOf(f.name, f.in.n); err != nil {
				return err
			}
		}
		*f.dst = a
	}
	return nil
}

type rewardOut struct {
	ID               string       `json:"id"`
	Code             string       `json:"code"`
	Name             string       `json:"name"`
	Description      *string      `json:"description"`
	RewardType       string       `json:"reward_type"`
	PointsCost       json.Number  `json:"points_cost"`
	PointsSystem     *string      `json:"points_system"`
	MaxClaimsPerUser int          `json:"max_claims_per_user"`
	Inventory        *int         `json:"inventory"`
	ExpiresAt        *time.Time   `json:"expires_at"`
	Multiplier       *json.Number `json:"multiplier"`
	DurationHours    *float64     `json:"duration_hours"`
	Status           string       `json:"status"`
	IsActive         bool         `json:"is_active"`
	CreatedAt        *time.Time   `json:"created_at"`
	UpdatedAt        *time.Time   `json:"updated_at"`
}

// rewardCodec: a reward created without a code gets a generated one
// (gamify_ and 8 hex digits), as Bricqs does.
var rewardCodec = codec[gamify.Reward]{
	decode: func(c *call, raw json.RawMessage) (gamify.Reward, error) {
		var in rewardIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Reward{}, err
		}
		r := gamify.Reward{Key: in.Code, Type: gamify.RewardType(in.RewardType), System: in.PointsSystem}
		if in.IsActive != nil && !*in.IsActive {
			r.Status = gamify.StatusInactive
		}
		return r, in.apply(&r)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Reward), string, error) {
		var in rewardIn
		if err := strictItem(raw, &in); err != nil {
			return "", nil, "", err
		}
		if in.RewardType+in.PointsSystem != "" {
			cur, err := c.eng.Rewards().Get(c.ctx(), c.r.PathValue("id"))
			if err != nil {
				return "", nil, "", err
			}
			if err := fixed("reward", "reward_type", in.RewardType, string(cur.Type), "points_system", in.PointsSystem, cur.System); err != nil {
				return "", nil, "", err
			}
		}
		edit, err := checked(in.apply)
		return c.r.PathValue("id"), edit, activeStatus(in.IsActive), err
	},
	out: func(r gamify.Reward) any {
		out := rewardOut{ID: r.Key, Code: r.Key, Name: r.Name, Description: strOrNull(r.Description), RewardType: string(r.Type),
			PointsCost: num(r.Cost), PointsSystem: strOrNull(r.System), MaxClaimsPerUser: r.PerUserLimit, ExpiresAt: instant(r.Expires),
			Multiplier: numOrNull(r.Multiplier), Status: string(r.Status), IsActive: isActive(r.Status),
			CreatedAt: instant(r.Created), UpdatedAt: instant(r.Updated)}
		if r.Inventory > 0 {
			out.Inventory = &r.Inventory
		}
		if r.Duration > 0 {
			h := r.Duration.Hours()
			out.DurationHours = &h
		}
		return out
	},
}

// ---- reward codes (a gamify extension: Bricqs loads codes from its
// dashboard)

type codesIn struct {
	Codes []string `json:"codes"`
}

type codesAddedOut struct {
	Added          int `json:"added"`
	AvailableCodes int `json:"available_codes"`
}

func (h *handler) addRewardCodes(c *call) (int, any, error) {
	var in codesIn
	if err := c.decodeStrict(&in); err != nil {
		return 0, nil, err
	}
	if len(in.Codes) == 0 || len(in.Codes) > 1000 {
		return 0, nil, invalid("codes", "codes must hold 1 to 1000 codes")
	}
	key := c.r.PathValue("id")
	added, err := c.eng.Rewards().AddCodes(c.ctx(), key, in.Codes)
	if err != nil {
		return 0, nil, err
	}
	n, err := c.eng.Rewards().CodeCount(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, codesAddedOut{Added: added, AvailableCodes: n}, nil
}

type codesPageOut struct {
	Items    []string `json:"items"`
	Total    int      `json:"total"`
	Page     int      `json:"page"`
	PageSize int      `json:"page_size"`
}

func (h *handler) listRewardCodes(c *call) (int, any, error) {
	page, err := c.queryInt("page", 1, 1, 1<<30)
	if err != nil {
		return 0, nil, err
	}
	size, err := c.queryInt("page_size", 50, 1, 100)
	if err != nil {
		return 0, nil, err
	}
	key := c.r.PathValue("id")
	codes, err := c.eng.Rewards().Codes(c.ctx(), key, gamify.ListOptions{Limit: size, Skip: (page - 1) * size})
	if err != nil {
		return 0, nil, err
	}
	n, err := c.eng.Rewards().CodeCount(c.ctx(), key)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, codesPageOut{Items: append([]string{}, codes...), Total: n, Page: page, PageSize: size}, nil
}
