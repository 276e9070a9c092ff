package streak

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Frequency is the length of a streak period.
type Frequency uint8

// The streak frequencies. Periods are calendar days, weeks or months in the
// user's time zone.
const (
	Daily Frequency = iota + 1
	Weekly
	Monthly
)

// String returns "daily", "weekly" or "monthly".
func (f Frequency) String() string {
	switch f {
	case Daily:
		return "daily"
	case Weekly:
		return "weekly"
	case Monthly:
		return "monthly"
	}
	return fmt.Sprintf("Frequency(%d)", uint8(f))
}

// Mode says how several metric rules combine.
type Mode uint8

// The modes: ModeAll needs every rule's minimum in a period, ModeAny one of them.
const (
	ModeAll Mode = iota
	ModeAny
)

// String returns "all" or "any".
func (m Mode) String() string {
	switch m {
	case ModeAll:
		return "all"
	case ModeAny:
		return "any"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// MaxFreezes is the largest allowed Freezes.Max.
const MaxFreezes = 100

// MaxMetrics is the most metric rules a definition may have.
const MaxMetrics = 16

// MetricRule is one counting metric: the positive change of Metric within a
// period must reach Min.
type MetricRule struct {
	Metric string
	Min    gamifytype.Amount
}

// Freezes configures streak freezes. Initial are granted on a user's first
// sight; EarnAmount are earned every EarnEveryDays (24-hour days from the
// user's earliest activity, whenever it arrives) while fewer than Max are
// held.
type Freezes struct {
	Initial       int
	Max           int
	EarnAmount    int
	EarnEveryDays int
}

// Weekday is the first day of a weekly period. Its zero value means the
// default, Monday, so that an unset field cannot silently mean Sunday (the zero
// time.Weekday).
type Weekday uint8

// The week starts. DefaultWeekStart is Monday.
const (
	DefaultWeekStart Weekday = iota
	Monday
	Tuesday
	Wednesday
	Thursday
	Friday
	Saturday
	Sunday
)

// WeekdayOf converts a time.Weekday.
func WeekdayOf(w time.Weekday) Weekday {
	if w == time.Sunday {
		return Sunday
	}
	return Weekday(w)
}

// Weekday converts w to a time.Weekday (DefaultWeekStart is Monday).
func (w Weekday) Weekday() time.Weekday {
	switch w {
	case DefaultWeekStart:
		return time.Monday
	case Sunday:
		return time.Sunday
	}
	return time.Weekday(w)
}

// String returns the English name of the day.
func (w Weekday) String() string {
	if w > Sunday {
		return fmt.Sprintf("Weekday(%d)", uint8(w))
	}
	return w.Weekday().String()
}

// Definition is a streak definition (see the package doc for the rules).
type Definition struct {
	Key            string
	Name           string
	Frequency      Frequency
	WeekStart      Weekday // weekly periods only; Monday by default
	Metrics        []MetricRule
	Mode           Mode
	GraceHours     int
	Freezes        Freezes
	Personalizable bool
	// Off are the times the definition was out of use (the engine's inactive
	// streaks), oldest first. A period that overlaps one, grace window
	// included, and is unmet is treated as paused for every user: it neither
	// adds to nor breaks the run. Validate does not check Off.
	Off []Interval
}

// Interval is the span of instants [From, To); a zero To means open-ended.
type Interval = gamifytype.Interval

// off reports whether period p, or its grace window, overlaps an Off interval.
func (d *Definition) off(p int64, loc *time.Location) bool {
	start := d.start(p, loc)
	end := d.end(p, loc).Add(time.Duration(d.GraceHours) * time.Hour)
	for _, iv := range d.Off {
		if iv.From.Before(end) && (iv.To.IsZero() || iv.To.After(start)) {
			return true
		}
	}
	return false
}

// OffAt reports whether t falls inside an Off interval.
func (d *Definition) OffAt(t time.Time) bool { return gamifytype.InAny(d.Off, t) }

func (d *Definition) weekStart() time.Weekday { return d.WeekStart.Weekday() }

// maxGraceHours is the longest grace per frequency: shorter than the shortest
// period, so an activity is credited to at most one missed period.
func (f Frequency) maxGraceHours() int {
	switch f {
	case Weekly:
		return 7*24 - 2
	case Monthly:
		return 28*24 - 2
	}
	return 22
}

// Validate reports every invalid field of d, joined.
func (d *Definition) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(gamifytype.ValidateKey("Streak.Key", d.Key))
	add(gamifytype.CheckText("Streak.Name", d.Name, gamifytype.MaxNameLen))
	if d.Frequency < Daily || d.Frequency > Monthly {
		add(gamifytype.Invalid("Streak.Frequency", d.Frequency, "must be daily, weekly or monthly"))
	}
	if d.WeekStart > Sunday {
		add(gamifytype.Invalid("Streak.WeekStart", uint8(d.WeekStart), "must be a weekday"))
	}
	if d.Mode != ModeAll && d.Mode != ModeAny {
		add(gamifytype.Invalid("Streak.Mode", d.Mode, "must be all or any"))
	}
	if len(d.Metrics) == 0 {
		add(gamifytype.Invalid("Streak.Metrics", nil, "must name at least one metric"))
	}
	if len(d.Metrics) > MaxMetrics {
		add(gamifytype.Invalid("Streak.Metrics", len(d.Metrics), fmt.Sprintf("must have at most %d rules", MaxMetrics)))
	}
	seen := make(map[string]bool, len(d.Metrics))
	for i, r := range d.Metrics[:min(len(d.Metrics), MaxMetrics)] {
		f := fmt.Sprintf("Streak.Metrics[%d]", i)
		if err := gamifytype.ValidateKey(f+".Metric", r.Metric); err != nil {
			add(err)
		} else if seen[r.Metric] {
			add(gamifytype.Invalid(f+".Metric", r.Metric, "is listed twice"))
		}
		seen[r.Metric] = true
		if r.Min.Sign() <= 0 {
			add(gamifytype.Invalid(f+".Min", r.Min, "must be positive"))
		}
	}
	if d.GraceHours < 0 || d.GraceHours > d.Frequency.maxGraceHours() {
		add(gamifytype.Invalid("Streak.GraceHours", d.GraceHours, "must be between 0 and "+fmt.Sprint(d.Frequency.maxGraceHours())))
	}
	fz := d.Freezes
	if fz.Max < 0 || fz.Max > MaxFreezes {
		add(gamifytype.Invalid("Streak.Freezes.Max", fz.Max, "must be between 0 and 100"))
	}
	if fz.Initial < 0 || fz.Initial > max(fz.Max, 0) {
		add(gamifytype.Invalid("Streak.Freezes.Initial", fz.Initial, "must be between 0 and Max"))
	}
	if fz.EarnAmount < 0 || fz.EarnAmount > MaxFreezes {
		add(gamifytype.Invalid("Streak.Freezes.EarnAmount", fz.EarnAmount, "must be between 0 and 100"))
	}
	if fz.EarnEveryDays < 0 || fz.EarnEveryDays > 3660 || (fz.EarnAmount > 0 && fz.EarnEveryDays == 0) {
		add(gamifytype.Invalid("Streak.Freezes.EarnEveryDays", fz.EarnEveryDays, "must be between 1 and 3660 when EarnAmount is set"))
	}
	return errors.Join(errs...)
}

// Personalization is one user's streak preference for a definition: when
// Enabled, the user's own minimum replaces the definition's for each metric
// listed in Min (metrics not listed keep the definition's minimum).
type Personalization struct {
	Enabled bool
	Min     map[string]gamifytype.Amount
}

// Personalize returns d with p's thresholds applied. It fails with a
// *ValidationError when d does not allow personalization, a metric is not
// one of d's or a minimum is not positive. A disabled p returns d unchanged.
// The engine passes the personalized definition to Apply.
func (d Definition) Personalize(p Personalization) (Definition, error) {
	if !p.Enabled {
		return d, nil
	}
	var errs []error
	if !d.Personalizable {
		errs = append(errs, gamifytype.Invalid("Personalization.Enabled", true, "streak "+d.Key+" does not allow personalization"))
	}
	rules := make([]MetricRule, len(d.Metrics))
	copy(rules, d.Metrics)
	for _, m := range slices.Sorted(maps.Keys(p.Min)) { // errors in a stable order
		v := p.Min[m]
		f := "Personalization.Min[" + m + "]"
		i := d.metricIndex(m)
		if i < 0 {
			errs = append(errs, gamifytype.Invalid(f, m, "is not a metric of streak "+d.Key))
			continue
		}
		if v.Sign() <= 0 {
			errs = append(errs, gamifytype.Invalid(f, v, "must be positive"))
			continue
		}
		rules[i].Min = v
	}
	if err := errors.Join(errs...); err != nil {
		return d, err
	}
	d.Metrics = rules
	return d, nil
}

func (d *Definition) metricIndex(metric string) int {
	for i := range d.Metrics {
		if d.Metrics[i].Metric == metric {
			return i
		}
	}
	return -1
}

// met reports whether per-metric sums reach d's thresholds under d's mode.
func (d *Definition) met(sums []gamifytype.Amount) bool {
	for i, r := range d.Metrics {
		var v gamifytype.Amount
		if i < len(sums) {
			v = sums[i]
		}
		ok := !v.Less(r.Min)
		if d.Mode == ModeAny && ok {
			return true
		}
		if d.Mode != ModeAny && !ok {
			return false
		}
	}
	return d.Mode != ModeAny && len(d.Metrics) > 0
}
