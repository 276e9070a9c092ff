package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gamifykit/gamify"
)

// Trophy's wrapped (year in review), from Users().YearInReview. The engine
// keeps per-metric and per-system numbers for the whole year only, so the
// most active day, week and month carry their dates and the entire year
// carries the numbers.

type wrappedTotalOut struct {
	Name                 string       `json:"name"`
	Units                *string      `json:"units,omitempty"`
	CurrentTotal         json.Number  `json:"currentTotal"`
	ChangeThisPeriod     json.Number  `json:"changeThisPeriod"`
	PercentChange        *json.Number `json:"percentChange"`
	PercentileThisPeriod json.Number  `json:"percentileThisPeriod"`
}

type wrappedBoardOut struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
	Rank int    `json:"rank"`
}

type wrappedYearOut struct {
	LongestStreak int                        `json:"longestStreak"`
	Metrics       map[string]wrappedTotalOut `json:"metrics"`
	Points        map[string]wrappedTotalOut `json:"points"`
	Achievements  []achievementOut           `json:"achievements"`
	Leaderboards  map[string]wrappedBoardOut `json:"leaderboards"`
}

type wrappedDayOut struct {
	Date string `json:"date"`
}

type wrappedWeekOut struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type wrappedMonthOut struct {
	Month int `json:"month"` // 0 (January) to 11, as Trophy counts
}

type wrappedActivityOut struct {
	DaysActive      int              `json:"daysActive"`
	WeeksActive     int              `json:"weeksActive"`
	MonthsActive    int              `json:"monthsActive"`
	MostActiveDay   *wrappedDayOut   `json:"mostActiveDay"`
	MostActiveWeek  *wrappedWeekOut  `json:"mostActiveWeek"`
	MostActiveMonth *wrappedMonthOut `json:"mostActiveMonth"`
	EntireYear      wrappedYearOut   `json:"entireYear"`
}

type wrappedOut struct {
	User     userOut            `json:"user"`
	Activity wrappedActivityOut `json:"activity"`
}

func percent(f float64) json.Number { return json.Number(formatPercent(f)) }

func (h *handler) userWrapped(c *call) (int, any, error) {
	year, err := c.queryInt("year", 0, 1, 9999)
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	u, err := c.eng.Users().Get(c.ctx(), id)
	if err != nil {
		return 0, nil, err
	}
	yr, err := c.eng.Users().YearInReview(c.ctx(), id, year)
	if err != nil {
		return 0, nil, err
	}
	act := wrappedActivityOut{DaysActive: yr.DaysActive, WeeksActive: yr.WeeksActive, MonthsActive: yr.MonthsActive}
	if d := yr.MostActiveDay; d != nil {
		act.MostActiveDay = &wrappedDayOut{Date: d.Start.String()}
	}
	if w := yr.MostActiveWeek; w != nil {
		end := time.Date(w.Start.Year, w.Start.Month, w.Start.Day+6, 0, 0, 0, 0, time.UTC)
		act.MostActiveWeek = &wrappedWeekOut{Start: w.Start.String(), End: end.Format(time.DateOnly)}
	}
	if m := yr.MostActiveMonth; m != nil {
		act.MostActiveMonth = &wrappedMonthOut{Month: int(m.Start.Month) - 1}
	}
	ey := wrappedYearOut{LongestStreak: yr.LongestStreak, Metrics: map[string]wrappedTotalOut{}, Points: map[string]wrappedTotalOut{},
		Achievements: []achievementOut{}, Leaderboards: map[string]wrappedBoardOut{}}
	total := func(t gamify.YearTotal, name string, units *string) wrappedTotalOut {
		o := wrappedTotalOut{Name: name, Units: units, CurrentTotal: num(t.Total), ChangeThisPeriod: num(t.Change), PercentileThisPeriod: percent(t.Percentile)}
		if t.PercentChange != nil {
			p := percent(*t.PercentChange)
			o.PercentChange = &p
		}
		return o
	}
	for _, t := range yr.Metrics {
		m, err := c.eng.Metrics().Get(c.ctx(), t.Key)
		if err != nil {
			return 0, nil, err
		}
		ey.Metrics[t.Key] = total(t, m.Name, &m.Units)
	}
	for _, t := range yr.Points {
		s, err := c.eng.Points().Get(c.ctx(), t.Key)
		if err != nil {
			return 0, nil, err
		}
		ey.Points[t.Key] = total(t, s.Name, nil)
	}
	for _, ac := range yr.Achievements {
		a, err := c.achievementJSON(ac.Key)
		if err != nil {
			return 0, nil, err
		}
		a.AchievedAt = instant(ac.CompletedAt)
		ey.Achievements = append(ey.Achievements, a)
	}
	for _, r := range yr.Leaderboards {
		b, err := c.eng.Leaderboards().Get(c.ctx(), r.Leaderboard)
		if err != nil {
			return 0, nil, err
		}
		ey.Leaderboards[r.Leaderboard] = wrappedBoardOut{ID: b.Key, Key: b.Key, Name: b.Name, Rank: r.Best}
	}
	act.EntireYear = ey
	return http.StatusOK, wrappedOut{User: userJSON(u), Activity: act}, nil
}
