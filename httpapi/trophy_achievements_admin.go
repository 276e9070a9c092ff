package httpapi

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gamifykit/gamify"
)

// Achievements in Trophy's admin shape (/admin/v1/achievements). Trophy's
// reference has no admin API for them; this one follows its other
// resources and its AchievementResponse fields.

var achievementKinds = map[string]gamify.AchievementKind{
	"metric": gamify.AchievementMetric, "streak": gamify.AchievementStreak,
	"api": gamify.AchievementManual, "achievement": gamify.AchievementComposite,
}

type achievementIn struct {
	ID              string         `json:"id"`
	Key             string         `json:"key"`
	Name            *string        `json:"name"`
	Description     *string        `json:"description"`
	BadgeURL        *string        `json:"badgeUrl"`
	Trigger         string         `json:"trigger"`
	MetricID        string         `json:"metricId"`
	MetricValue     *numberIn      `json:"metricValue"`
	StreakID        string         `json:"streakId"` // a gamify extension: default the default streak
	StreakLength    *int           `json:"streakLength"`
	AchievementIDs  []string       `json:"achievementIds"`
	UserAttributes  []attrFilterIn `json:"userAttributes"`
	EventAttributes []attrFilterIn `json:"eventAttributes"`
	Status          string         `json:"status"`
}

func (in *achievementIn) apply(a *gamify.Achievement) error {
	setIf(&a.Name, in.Name)
	setIf(&a.Description, in.Description)
	setIf(&a.ImageURL, in.BadgeURL)
	if in.MetricValue != nil {
		v, err := amountOf("metricValue", *in.MetricValue)
		if err != nil {
			return err
		}
		a.Threshold = v
	}
	if in.StreakLength != nil {
		a.Length = *in.StreakLength
	}
	if in.AchievementIDs != nil {
		a.Prerequisites = in.AchievementIDs
	}
	if in.UserAttributes != nil {
		f, err := filters("userAttributes", in.UserAttributes)
		if err != nil {
			return err
		}
		a.UserFilters = f
	}
	if in.EventAttributes != nil {
		f, err := filters("eventAttributes", in.EventAttributes)
		if err != nil {
			return err
		}
		a.EventFilters = f
	}
	return nil
}

type adminAchievementOut struct {
	achievementOut
	StreakID string     `json:"streakId,omitempty"`
	Status   string     `json:"status"`
	Created  *time.Time `json:"created"`
	Updated  *time.Time `json:"updated"`
}

// trophyAchievementCodec: status active (the default) or inactive on
// create; a PATCH status may also be locked.
var trophyAchievementCodec = codec[gamify.Achievement]{
	decode: func(c *call, raw json.RawMessage) (gamify.Achievement, error) {
		var in achievementIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Achievement{}, err
		}
		kind, ok := achievementKinds[in.Trigger]
		if !ok {
			return gamify.Achievement{}, invalid("trigger", fmt.Sprintf("trigger must be metric, streak, api or achievement, not %q", in.Trigger))
		}
		a := gamify.Achievement{Key: in.Key, Kind: kind, Metric: in.MetricID, Streak: in.StreakID, Status: gamify.Status(in.Status)}
		if a.Status == gamify.StatusActive {
			a.Status = ""
		}
		if kind == gamify.AchievementStreak && a.Streak == "" {
			def, err := c.defaultStreak()
			if err != nil {
				return a, err
			}
			a.Streak = def.Key
		}
		return a, in.apply(&a)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Achievement), string, error) {
		var in achievementIn
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		if in.Trigger != "" {
			cur, err := c.eng.Achievements().Get(c.ctx(), in.ID)
			if err != nil {
				return in.ID, nil, "", err
			}
			if achievementKinds[in.Trigger] != cur.Kind {
				return in.ID, nil, "", invalid("trigger", "an achievement's trigger cannot change")
			}
		}
		edit, err := checked(in.apply)
		return in.ID, edit, in.Status, err
	},
	out: func(a gamify.Achievement) any {
		o := adminAchievementOut{StreakID: a.Streak, Status: string(a.Status), Created: instant(a.Created), Updated: instant(a.Updated)}
		o.achievementOut = achievementOut{ID: a.Key, Key: a.Key, Name: a.Name, Description: strOrNull(a.Description),
			BadgeURL: strOrNull(a.ImageURL), Trigger: triggerNames[a.Kind], UserAttributes: pairs(a.UserFilters),
			MetricID: a.Metric, MetricValue: numOrNull(a.Threshold), StreakLength: a.Length, AchievementIDs: a.Prerequisites}
		if a.Kind == gamify.AchievementMetric {
			ev := pairs(a.EventFilters)
			o.EventAttributes = &ev
		}
		return o
	},
}

// achievementStatus adds locked to the lifecycle verbs.
func achievementStatus(c *call, key, status string) (gamify.Achievement, error) {
	a := c.eng.Achievements()
	if gamify.Status(status) == gamify.StatusLocked {
		return a.Lock(c.ctx(), key)
	}
	return editStatus(a.Activate, a.Deactivate, nil)(c, key, status)
}
