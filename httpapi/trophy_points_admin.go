package httpapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify"
)

// The triggers and levels of a points system in Trophy's admin shape,
// under /admin/v1/points/systems/{systemId}.

// pathSystem is the points system named in the path; it must exist.
func (c *call) pathSystem() (string, error) {
	sys := c.r.PathValue("systemId")
	if _, err := c.eng.Points().Get(c.ctx(), sys); err != nil {
		return "", err
	}
	return sys, nil
}

// systemTrigger reads a trigger of the path's system.
func systemTrigger(c *call, key string) (gamify.Trigger, error) {
	t, err := c.eng.Points().Triggers().Get(c.ctx(), key)
	if err == nil && t.System != c.r.PathValue("systemId") {
		return gamify.Trigger{}, fmt.Errorf("trigger %s of system %s: %w", key, c.r.PathValue("systemId"), gamify.ErrNotFound)
	}
	return t, err
}

// ownKeys splits keys into those of the path's system and issues for the
// others, so a bulk call cannot reach another system's items.
func ownKeys(c *call, keys []string, get func(*call, string) error) (own []string, idx []int, issues []gamify.Issue, err error) {
	for i, k := range keys {
		if e := get(c, k); e != nil {
			if ae, _ := classify(e); ae.status >= 500 {
				return nil, nil, nil, e
			}
			issues = append(issues, gamify.Issue{Index: i, Key: k, Severity: gamify.SeverityError, Message: e.Error()})
			continue
		}
		own, idx = append(own, k), append(idx, i)
	}
	return own, idx, issues, nil
}

// scopedDelete archives the keys of the path's system with del.
func scopedDelete(c *call, keys []string, get func(*call, string) error, del func([]string) ([]gamify.Issue, error)) ([]gamify.Issue, error) {
	own, idx, out, err := ownKeys(c, keys, get)
	if err != nil || len(own) == 0 {
		return out, err
	}
	issues, err := del(own)
	if err != nil {
		return nil, err
	}
	for _, is := range issues {
		is.Index = idx[is.Index]
		out = append(out, is)
	}
	return out, nil
}

var triggersOps = ops[gamify.Trigger]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Trigger, error) {
		sys, err := c.pathSystem()
		if err != nil {
			return nil, err
		}
		return c.eng.Points().Triggers().ListFor(c.ctx(), gamify.TriggerFilter{System: sys}, o)
	},
	get: systemTrigger,
	create: func(c *call, ds []gamify.Trigger) ([]gamify.Trigger, []gamify.Issue, error) {
		return c.eng.Points().Triggers().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) {
		get := func(c *call, k string) error { _, err := systemTrigger(c, k); return err }
		return scopedDelete(c, ks, get, func(own []string) ([]gamify.Issue, error) { return c.eng.Points().Triggers().BulkDelete(c.ctx(), own) })
	},
	patch: func(c *call, k string, e func(*gamify.Trigger)) (gamify.Trigger, error) {
		if _, err := systemTrigger(c, k); err != nil {
			return gamify.Trigger{}, err
		}
		return c.eng.Points().Triggers().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Trigger, error) {
		t := c.eng.Points().Triggers()
		return editStatus(t.Activate, t.Deactivate, nil)(c, k, s)
	},
}

type attrFilterIn struct {
	AttributeID    string `json:"attributeId"`
	AttributeValue string `json:"attributeValue"`
}

// filters reads a Trophy attribute list (the JSON field field) into the
// engine's map; an attribute listed twice is refused by its element, not
// left to the later value.
func filters(field string, in []attrFilterIn) (map[string]string, error) {
	if in == nil {
		return nil, nil
	}
	m := map[string]string{}
	for i, f := range in {
		if _, ok := m[f.AttributeID]; ok {
			j := slices.IndexFunc(in, func(g attrFilterIn) bool { return g.AttributeID == f.AttributeID })
			at := fmt.Sprintf("%s[%d].attributeId", field, i)
			return nil, invalid(at, fmt.Sprintf("%s: %q is listed twice (also at %d)", at, f.AttributeID, j))
		}
		m[f.AttributeID] = f.AttributeValue
	}
	return m, nil
}

// filterElement names the userAttributes or eventAttributes element of an
// item (raw) in the engine's error about the filter it became.
func filterElement(raw json.RawMessage, err error) error {
	var in struct {
		UserAttributes  []attrFilterIn `json:"userAttributes"`
		EventAttributes []attrFilterIn `json:"eventAttributes"`
	}
	if json.Unmarshal(raw, &in) != nil {
		return err
	}
	ids := func(l []attrFilterIn) []string {
		var out []string
		for _, f := range l {
			out = append(out, f.AttributeID)
		}
		return out
	}
	if e := elementOf(err, ".UserFilters[", "userAttributes", ids(in.UserAttributes)); e != err {
		return e
	}
	return elementOf(err, ".EventFilters[", "eventAttributes", ids(in.EventAttributes))
}

type triggerIn struct {
	ID                    string         `json:"id"`
	Key                   string         `json:"key"` // a gamify extension; generated when empty
	Type                  string         `json:"type"`
	Points                *numberIn      `json:"points"`
	Status                string         `json:"status"`
	MetricID              string         `json:"metricId"`
	MetricThreshold       *numberIn      `json:"metricThreshold"`
	StreakLengthThreshold *int           `json:"streakLengthThreshold"`
	StreakID              string         `json:"streakId"` // a gamify extension: default the default streak
	AchievementID         string         `json:"achievementId"`
	TimeUnit              *string        `json:"timeUnit"`
	TimeInterval          *int           `json:"timeInterval"`
	UserAttributes        []attrFilterIn `json:"userAttributes"`
	EventAttributes       []attrFilterIn `json:"eventAttributes"`
	BlockIfOutOfPoints    *bool          `json:"blockIfOutOfPoints"`
}

func (in *triggerIn) apply(t *gamify.Trigger) error {
	if in.Points != nil {
		p, err := amountOf("points", *in.Points)
		if err != nil {
			return err
		}
		t.Points = p
	}
	if in.MetricThreshold != nil {
		th, err := amountOf("metricThreshold", *in.MetricThreshold)
		if err != nil {
			return err
		}
		t.Threshold = th
	}
	if in.StreakLengthThreshold != nil {
		t.EveryN = *in.StreakLengthThreshold
	}
	if in.TimeUnit != nil {
		switch *in.TimeUnit {
		case "hour", "hours":
			t.Unit = gamify.TriggerHours
		case "day", "days":
			t.Unit = gamify.TriggerDays
		default:
			return invalid("timeUnit", fmt.Sprintf("timeUnit must be hours or days, not %q", *in.TimeUnit))
		}
	}
	if in.TimeInterval != nil {
		t.Every = *in.TimeInterval
	}
	if in.UserAttributes != nil {
		f, err := filters("userAttributes", in.UserAttributes)
		if err != nil {
			return err
		}
		t.UserFilters = f
	}
	if in.EventAttributes != nil {
		f, err := filters("eventAttributes", in.EventAttributes)
		if err != nil {
			return err
		}
		t.EventFilters = f
	}
	if in.BlockIfOutOfPoints != nil {
		t.BlockIfOutOfPoints = *in.BlockIfOutOfPoints
	}
	return nil
}

type adminTriggerOut struct {
	triggerOut
	BlockIfOutOfPoints bool       `json:"blockIfOutOfPoints"`
	Created            *time.Time `json:"created"`
	Updated            *time.Time `json:"updated"`
}

// triggersResource: as in Trophy, a trigger is created inactive unless its
// status says active.
var triggersResource = resource[gamify.Trigger]{triggersOps, codec[gamify.Trigger]{
	decode: func(c *call, raw json.RawMessage) (gamify.Trigger, error) {
		var in triggerIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Trigger{}, err
		}
		t := gamify.Trigger{Key: in.Key, System: c.r.PathValue("systemId"), Kind: gamify.TriggerKind(in.Type),
			Metric: in.MetricID, Achievement: in.AchievementID, Streak: in.StreakID, Status: gamify.StatusInactive}
		if t.Key == "" {
			t.Key = newKey("trigger")
		}
		switch gamify.Status(in.Status) {
		case gamify.StatusActive:
			t.Status = ""
		case "", gamify.StatusInactive:
		default:
			return t, invalid("status", fmt.Sprintf("a trigger is created active or inactive, not %q", in.Status))
		}
		if t.Kind == gamify.TriggerStreak && t.Streak == "" {
			def, err := c.defaultStreak()
			if err != nil {
				return t, err
			}
			t.Streak = def.Key
		}
		return t, in.apply(&t)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Trigger), string, error) {
		var in triggerIn
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		if in.Type+in.MetricID+in.StreakID+in.AchievementID != "" {
			cur, err := systemTrigger(c, in.ID)
			if err != nil {
				return in.ID, nil, "", err
			}
			if err := fixed("trigger", "type", in.Type, string(cur.Kind), "metricId", in.MetricID, cur.Metric,
				"streakId", in.StreakID, cur.Streak, "achievementId", in.AchievementID, cur.Achievement); err != nil {
				return in.ID, nil, "", err
			}
		}
		edit, err := checked(in.apply)
		return in.ID, edit, in.Status, err
	},
	out: func(t gamify.Trigger) any {
		return adminTriggerOut{triggerOut: triggerJSON(t), BlockIfOutOfPoints: t.BlockIfOutOfPoints, Created: instant(t.Created), Updated: instant(t.Updated)}
	},
}}

// ---- levels

func (c *call) pathLevels() (gamify.LevelsAPI, error) {
	sys, err := c.pathSystem()
	if err != nil {
		return gamify.LevelsAPI{}, err
	}
	return c.eng.Points().Levels(sys), nil
}

// levelOps are the level verbs of the system that levels picks.
func levelOps(levels func(*call) (gamify.LevelsAPI, error)) ops[gamify.Level] {
	return ops[gamify.Level]{
		list: func(c *call, o gamify.ListOptions) ([]gamify.Level, error) {
			l, err := levels(c)
			if err != nil {
				return nil, err
			}
			return l.List(c.ctx(), o)
		},
		get: func(c *call, k string) (gamify.Level, error) {
			l, err := levels(c)
			if err != nil {
				return gamify.Level{}, err
			}
			return l.Get(c.ctx(), k)
		},
		create: func(c *call, ds []gamify.Level) ([]gamify.Level, []gamify.Issue, error) {
			l, err := levels(c)
			if err != nil {
				return nil, nil, err
			}
			// Trophy's levels have no number: number them after the highest.
			cur, err := listAll(func(o gamify.ListOptions) ([]gamify.Level, error) { return l.List(c.ctx(), o) })
			if err != nil {
				return nil, nil, err
			}
			next := 1
			for _, lv := range cur {
				next = max(next, lv.Level+1)
			}
			for i := range ds {
				if ds[i].Level == 0 {
					ds[i].Level, next = next, next+1
				}
			}
			return l.BulkCreate(c.ctx(), ds)
		},
		delete: func(c *call, ks []string) ([]gamify.Issue, error) {
			l, err := levels(c)
			if err != nil {
				return nil, err
			}
			return l.BulkDelete(c.ctx(), ks)
		},
		patch: func(c *call, k string, e func(*gamify.Level)) (gamify.Level, error) {
			l, err := levels(c)
			if err != nil {
				return gamify.Level{}, err
			}
			return l.Patch(c.ctx(), k, e)
		},
		status: func(c *call, k, s string) (gamify.Level, error) {
			l, err := levels(c)
			if err != nil {
				return gamify.Level{}, err
			}
			return editStatus(l.Activate, l.Deactivate, nil)(c, k, s)
		},
	}
}

type levelIn struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	BadgeURL    *string   `json:"badgeUrl"`
	Points      *numberIn `json:"points"`
	Level       *int      `json:"level"` // a gamify extension: the level's number
	Status      string    `json:"status"`
}

func (in *levelIn) apply(l *gamify.Level) error {
	setIf(&l.Name, in.Name)
	setIf(&l.Description, in.Description)
	setIf(&l.ImageURL, in.BadgeURL)
	if in.Level != nil {
		l.Level = *in.Level
	}
	if in.Points != nil {
		p, err := amountOf("points", *in.Points)
		if err != nil {
			return err
		}
		l.Threshold = p
	}
	return nil
}

type adminLevelOut struct {
	levelOut
	Level   int        `json:"level"`
	Status  string     `json:"status"`
	Created *time.Time `json:"created"`
	Updated *time.Time `json:"updated"`
}

var levelsResource = resource[gamify.Level]{levelOps((*call).pathLevels), codec[gamify.Level]{
	decode: func(c *call, raw json.RawMessage) (gamify.Level, error) {
		var in levelIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Level{}, err
		}
		l := gamify.Level{Key: in.Key, Status: gamify.Status(in.Status)}
		return l, in.apply(&l)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Level), string, error) {
		var in levelIn
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		edit, err := checked(in.apply)
		return in.ID, edit, in.Status, err
	},
	out: func(l gamify.Level) any {
		return adminLevelOut{levelOut: levelJSON(l), Level: l.Level, Status: string(l.Status), Created: instant(l.Created), Updated: instant(l.Updated)}
	},
}}
