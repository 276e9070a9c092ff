package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// Year in review.
//
// Each user's state record keeps a few numbers per calendar year (in the
// user's time zone): the change of every metric and points system, the
// number of events, the longest streak run inside the year and the best rank
// per leaderboard. They are updated on the write path, so a review reads one
// state record and one Daily prefix (the per-day event counts), never the
// ledger. Percentiles come from per-year distributions of those changes
// among the users active that year, built by one pass over the users the
// first time a year is asked for and kept current by the writer after that.

// yearKind tells the kinds of per-year numbers apart.
type yearKind uint8

const (
	yearChange yearKind = iota // Ref is a day-aggregate ref (a metric, pointsDayRef, eventsDayRef); Value its change
	yearStreak                 // Ref is a streak; Value the longest run of periods inside the year
	yearRank                   // Ref is a leaderboard; Value the best rank reached
)

// yearAgg is one per-year number of a user.
type yearAgg struct {
	Kind  yearKind
	Ref   uint32
	Year  int32
	Value int64
}

func compareYearAgg(a, b yearAgg) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Ref, b.Ref); c != 0 {
		return c
	}
	return cmp.Compare(a.Year, b.Year)
}

// eventsDayRef is the day-aggregate ref counting a user's events per local
// day: above every metric ref, below every points ref.
const eventsDayRef = 1<<31 - 1

// yearOfDay returns the calendar year of a local day.
func yearOfDay(day int32) int32 { return int32(dayDate(day).Year()) }

// yearAt returns the index of (kind, ref, year) in s.Years and whether it is there.
func (s *userState) yearAt(kind yearKind, ref uint32, year int32) (int, bool) {
	return slices.BinarySearchFunc(s.Years, yearAgg{Kind: kind, Ref: ref, Year: year}, compareYearAgg)
}

// addYear adds delta to a yearly change; the distributions follow once the
// batch commits.
func (t *txn) addYear(u *userRec, ref uint32, day int32, delta Amount) error {
	s := &u.s
	year := yearOfDay(day)
	i, ok := s.yearAt(yearChange, ref, year)
	if !ok {
		s.Years = slices.Insert(s.Years, i, yearAgg{Kind: yearChange, Ref: ref, Year: year})
	}
	sum, ok := AmountFromMicros(s.Years[i].Value).AddChecked(delta)
	if !ok {
		return errChangeOverflow
	}
	s.Years[i].Value = sum.Micros()
	t.yearMoves = append(t.yearMoves, yearMove{uid: u.p.UID, ref: ref, year: year, value: sum.Micros()})
	return nil
}

// bestYear keeps the better of a yearly number and v: the larger for
// streak runs, the smaller for ranks.
func (s *userState) bestYear(kind yearKind, ref uint32, year int32, v int64) {
	i, ok := s.yearAt(kind, ref, year)
	switch {
	case !ok:
		s.Years = slices.Insert(s.Years, i, yearAgg{Kind: kind, Ref: ref, Year: year, Value: v})
	case kind == yearRank && v < s.Years[i].Value, kind == yearStreak && v > s.Years[i].Value:
		s.Years[i].Value = v
	}
}

// recordStreakYears notes, for the last lookback periods of a streak (from
// its history, so late events and restores count where they land), the run
// of each met, frozen or paused period inside the years the period touches:
// at most the number of periods of that year up to it.
func (t *txn) recordStreakYears(u *userRec, def *Streak, st streak.State, loc *time.Location, lookback int) {
	for _, p := range streak.History(def.personalized(&u.p), st, t.now, loc, lookback) {
		if p.Length <= 0 || !(p.Met || p.UsedFreeze || p.UsedPause) {
			continue
		}
		first := dayOf(Date(p.First))
		last := localDay(p.End.Add(-time.Nanosecond), loc)
		for year := yearOfDay(first); year <= yearOfDay(last); year++ {
			periods := def.periodsOfYearUpTo(year, first)
			u.s.bestYear(yearStreak, def.ref, year, int64(min(int32(p.Length), periods)))
		}
	}
}

// periodsOfYearUpTo counts the periods that touch year, up to the one
// starting on local day first.
func (def *Streak) periodsOfYearUpTo(year, first int32) int32 {
	jan1 := dayOf(Date{Year: int(year), Month: time.January, Day: 1})
	switch def.def.Frequency {
	case streak.Weekly:
		ws := def.def.WeekStart.Weekday()
		startOf := func(day int32) int32 { return day - (int32(dayDate(day).Weekday())-int32(ws)+7)%7 }
		return (startOf(first)-startOf(jan1))/7 + 1
	case streak.Monthly:
		if yearOfDay(first) < year {
			return 1
		}
		return int32(dayDate(first).Month())
	}
	if first < jan1 {
		return 1
	}
	return first - jan1 + 1
}

// yearMove is a change of a user's yearly change of one ref, for the year
// distributions.
type yearMove struct {
	uid   uint64
	ref   uint32
	year  int32
	value int64
}

// yearDists holds the distributions of yearly changes among the users active
// each year, for the years a review has asked for.
type yearDists struct {
	mu    sync.RWMutex
	years map[int32]*yearDist
}

type yearDist struct {
	byRef map[uint32]*leaderboard.Index // by change; eventsDayRef's holds the users active in the year
	// waiting holds the non-zero changes of users not (yet) active in the
	// year (a manual award, a late event of another year's day): they join
	// the distributions with the user's first event of the year.
	waiting map[uint32]map[uint32]int64
}

func newYearDist() *yearDist {
	return &yearDist{byRef: map[uint32]*leaderboard.Index{}, waiting: map[uint32]map[uint32]int64{}}
}

func (d *yearDist) index(ref uint32) *leaderboard.Index {
	x := d.byRef[ref]
	if x == nil {
		x = leaderboard.New(leaderboard.Desc)
		d.byRef[ref] = x
	}
	return x
}

func (d *yearDist) active() int {
	if x := d.byRef[eventsDayRef]; x != nil {
		return x.Len()
	}
	return 0
}

// set records a user's change of ref in the year.
func (d *yearDist) set(uid uint64, ref uint32, value int64) {
	u := uint32(uid)
	if ref == eventsDayRef {
		x := d.index(ref)
		_, was := x.Get(u)
		x.Set(u, value, 0, 0)
		if !was {
			for r, v := range d.waiting[u] {
				d.place(u, r, v)
			}
			delete(d.waiting, u)
		}
		return
	}
	if _, active := d.index(eventsDayRef).Get(u); !active {
		w := d.waiting[u]
		if w == nil {
			w = map[uint32]int64{}
			d.waiting[u] = w
		}
		w[ref] = value
		return
	}
	d.place(u, ref, value)
}

func (d *yearDist) place(u, ref uint32, value int64) {
	if value == 0 {
		if x := d.byRef[ref]; x != nil {
			x.Remove(u)
		}
		return
	}
	d.index(ref).Set(u, value, 0, 0)
}

// apply moves the built distributions by a command's yearly changes. The
// writer's lock is held.
func (y *yearDists) apply(moves []yearMove) {
	if len(moves) == 0 {
		return
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	for _, m := range moves {
		if d := y.years[m.year]; d != nil {
			d.set(m.uid, m.ref, m.value)
		}
	}
}

// reset forgets every distribution: after a failed commit or a hard delete
// they are rebuilt when next asked for.
func (y *yearDists) reset() {
	y.mu.Lock()
	y.years = nil
	y.mu.Unlock()
}

// percentile returns the share, in percent, of the users active in year
// whose change of ref is strictly lower than value, and how many were active.
func (y *yearDists) percentile(year int32, ref uint32, value int64) (float64, int, bool) {
	y.mu.RLock()
	defer y.mu.RUnlock()
	d := y.years[year]
	if d == nil {
		return 0, 0, false
	}
	active := d.active()
	if active == 0 {
		return 0, 0, true
	}
	x := d.byRef[ref]
	nonZero, higher := 0, 0 // users with a non-zero change; those with one above value
	below := 0
	if x != nil {
		nonZero = x.Len()
		higher = x.Ahead(value, 0)
		atLeast := higher
		if value > math.MinInt64 {
			atLeast = x.Ahead(value-1, 0)
		}
		below = nonZero - atLeast // non-zero changes under value
	}
	if value > 0 {
		below += active - nonZero // the active users without a change
	}
	return 100 * float64(below) / float64(active), active, true
}

// buildYear builds the distribution of one year holding the writer, so that
// no change is missed: the store once the batch in flight has landed, plus
// the writer's working copies of the users of the open batch. It writes
// nothing, so it is not a command (a command would cost a commit).
func (e *Engine) buildYear(year int32) error {
	y := &e.years
	y.mu.RLock()
	built := y.years[year] != nil
	y.mu.RUnlock()
	if built {
		return nil
	}
	w := e.w
	w.lockLanded()
	defer w.mu.Unlock()
	y.mu.RLock()
	built = y.years[year] != nil // by a concurrent review meanwhile
	y.mu.RUnlock()
	if built {
		return nil
	}
	d := newYearDist()
	add := func(uid uint64, s *userState) {
		lo, _ := s.yearAt(yearChange, 0, 0)
		for _, a := range s.Years[lo:] {
			if a.Kind != yearChange {
				break
			}
			if a.Year == year {
				d.set(uid, a.Ref, a.Value)
			}
		}
	}
	working := map[uint64]*userState{}
	for id := range w.dirtyUsers {
		if u, ok := w.users[id]; ok {
			working[u.p.UID] = &u.s
		}
	}
	err := w.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.State, nil, func(k, v []byte) error {
			uid := binary.BigEndian.Uint64(k)
			if _, ok := working[uid]; ok {
				return nil
			}
			var s userState
			if err := s.unmarshal(v); err != nil {
				return fmt.Errorf("state of uid %d: %w", uid, err)
			}
			add(uid, &s)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for uid, s := range working {
		add(uid, s)
	}
	y.mu.Lock()
	if y.years == nil {
		y.years = map[int32]*yearDist{}
	}
	y.years[year] = d
	y.mu.Unlock()
	return nil
}

// YearReview is a user's year in review, in the user's time zone.
type YearReview struct {
	User string
	Year int

	DaysActive, WeeksActive, MonthsActive int // with at least one event; weeks start on Monday
	Events                                int // events tracked in the year
	MostActiveDay                         *ActivePeriod
	MostActiveWeek                        *ActivePeriod
	MostActiveMonth                       *ActivePeriod
	Weekly                                []ActivePeriod // events per week of the year, quiet weeks included

	// LongestStreak is the longest run of the default streak inside the
	// year (periods before 1 January do not count); Streaks has every
	// streak the user had a run of in the year.
	LongestStreak int
	Streaks       []YearStreak

	Metrics      []YearTotal             // metrics the user changed in the year, by key
	Points       []YearTotal             // points systems the user earned in the year, by key
	Achievements []AchievementCompletion // completed in the year, oldest first
	Leaderboards []YearRank              // best rank per leaderboard in the year, by key
}

// ActivePeriod is a day, a week (starting Monday) or a month and the number
// of events the user tracked in it.
type ActivePeriod struct {
	Start  Date
	Events int
}

// YearStreak is the longest run of a streak inside the year.
type YearStreak struct {
	Streak string
	Length int
}

// YearTotal is a metric's or points system's year.
type YearTotal struct {
	Key    string
	Total  Amount // at the end of the year (now, for the current year)
	Change Amount // during the year
	// PercentChange is Change relative to the magnitude of the total at the
	// start of the year, in percent (from -10 to -5 is +50); nil when that
	// total was zero.
	PercentChange *float64
	// Percentile is the share, in percent, of the users active in the year
	// whose change was strictly lower: ties share a percentile, and active
	// users without a change count as 0.
	Percentile  float64
	ActiveUsers int // users active in the year
}

// YearRank is a user's best rank on a leaderboard in the year, among the
// ranks recorded when the user's own entry changed.
type YearRank struct {
	Leaderboard string
	Best        int
}

// YearInReview returns a user's year in review. year 0 means the current
// year in the user's time zone; a year in the future or before the user's
// first activity (or creation) is a ValidationError. The first review of a
// year builds that year's distributions with one pass over all users
// (holding the writer); later ones read the user's record and one Daily
// prefix.
func (a UsersAPI) YearInReview(ctx context.Context, id string, year int) (YearReview, error) {
	e := a.e
	if err := e.live(); err != nil {
		return YearReview{}, err
	}
	// The user's record and day counts from one snapshot: a commit in
	// between could move a day from one to the other.
	var p *profile
	var s *userState
	var counts map[int32]int64
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		if p, s, err = readUserTx(tx, id, true); err != nil {
			return err
		}
		if year == 0 {
			year = e.now().In(e.location(p)).Year()
		}
		counts, err = eventDays(tx, p.UID, s, int32(year))
		return err
	})
	if err != nil {
		return YearReview{}, err
	}
	loc := e.location(p)
	// The first year is the earliest of the yearly numbers (kept in the
	// zone of each event) and of the creation.
	first := p.Created.In(loc).Year()
	for _, a := range s.Years {
		first = min(first, int(a.Year))
	}
	switch {
	case year > e.now().In(loc).Year():
		return YearReview{}, gamifytype.Invalid("Year", year, "is in the future")
	case year < first:
		return YearReview{}, gamifytype.Invalid("Year", year, fmt.Sprintf("is before the user's first activity in %d", first))
	}
	y := int32(year)
	if err := e.buildYear(y); err != nil {
		return YearReview{}, fmt.Errorf("year in review: %w", err)
	}
	r := YearReview{User: p.ID, Year: year}
	r.activity(counts)
	cat := e.cat.Load()
	var total func(ref uint32) (Amount, bool)
	for _, a := range s.Years {
		if a.Year != y {
			continue
		}
		switch a.Kind {
		case yearChange:
			var key string
			var list *[]YearTotal
			switch ref := a.Ref; {
			case ref == eventsDayRef:
				continue
			case ref&(1<<31) != 0:
				sys := cat.points.systemByRef[ref&^(1<<31)]
				if sys == nil {
					continue
				}
				key, list = sys.Key, &r.Points
				i, _ := s.pointsOf(sys.ref)
				total = func(uint32) (Amount, bool) { return s.Points[i].St.Total(), true }
			default:
				m := cat.metricByRef[ref]
				if m == nil {
					continue
				}
				key, list = m.Key, &r.Metrics
				total = func(ref uint32) (Amount, bool) {
					i, ok := s.metric(ref)
					return s.Metrics[i].Total, ok
				}
			}
			*list = append(*list, e.yearTotal(s, a, key, total))
		case yearStreak:
			if st := cat.streakByRef[a.Ref]; st != nil {
				r.Streaks = append(r.Streaks, YearStreak{Streak: st.Key, Length: int(a.Value)})
				if st == cat.defaultStreak {
					r.LongestStreak = int(a.Value)
				}
			}
		case yearRank:
			if b := cat.boardByRef[a.Ref]; b != nil {
				r.Leaderboards = append(r.Leaderboards, YearRank{Leaderboard: b.Key, Best: int(a.Value)})
			}
		}
	}
	for _, c := range s.Ach.Completions() {
		if c.At.In(loc).Year() == year {
			name := c.Key
			if d := cat.achievements[c.Key]; d != nil {
				name = d.Name
			}
			r.Achievements = append(r.Achievements, AchievementCompletion{Key: c.Key, Name: name, CompletedAt: c.At, Backdated: c.Backdated})
		}
	}
	slices.SortStableFunc(r.Achievements, func(a, b AchievementCompletion) int { return a.CompletedAt.Compare(b.CompletedAt) })
	for _, l := range [][]YearTotal{r.Metrics, r.Points} {
		slices.SortFunc(l, func(a, b YearTotal) int { return cmp.Compare(a.Key, b.Key) })
	}
	slices.SortFunc(r.Streaks, func(a, b YearStreak) int { return cmp.Compare(a.Streak, b.Streak) })
	slices.SortFunc(r.Leaderboards, func(a, b YearRank) int { return cmp.Compare(a.Leaderboard, b.Leaderboard) })
	return r, nil
}

// yearTotal computes one metric's or system's year: the total at the end of
// the year is the total now minus the changes of later years.
func (e *Engine) yearTotal(s *userState, a yearAgg, key string, total func(uint32) (Amount, bool)) YearTotal {
	now, _ := total(a.Ref &^ (1 << 31))
	end := now
	for _, b := range s.Years {
		if b.Kind == yearChange && b.Ref == a.Ref && b.Year > a.Year {
			end = end.Sub(AmountFromMicros(b.Value))
		}
	}
	t := YearTotal{Key: key, Total: end, Change: AmountFromMicros(a.Value)}
	if start := end.Sub(AmountFromMicros(a.Value)); !start.IsZero() {
		pc := float64(a.Value) / math.Abs(float64(start.Micros())) * 100 // from -10 to -5 is +50 %
		t.PercentChange = &pc
	}
	t.Percentile, t.ActiveUsers, _ = e.years.percentile(a.Year, a.Ref, a.Value)
	return t
}

// eventDays returns a user's events per local day of year, from the state
// record's latest day and the Daily keyspace.
func eventDays(tx *store.Tx, uid uint64, s *userState, year int32) (map[int32]int64, error) {
	from := dayOf(Date{Year: int(year), Month: time.January, Day: 1})
	to := dayOf(Date{Year: int(year) + 1, Month: time.January, Day: 1})
	counts := map[int32]int64{}
	for _, d := range s.Days {
		if d.Ref == eventsDayRef && d.Day >= from && d.Day < to {
			counts[d.Day] += d.Change.Micros()
		}
	}
	prefix := binary.BigEndian.AppendUint32(uidKey(uid), eventsDayRef)
	err := tx.Scan(store.Daily, prefix, func(k, v []byte) error {
		_, _, day, _ := parseDailyKey(k)
		if day < from {
			return nil
		}
		if day >= to {
			return store.ErrStop
		}
		x, n := binary.Varint(v)
		if n <= 0 {
			return errors.New("gamify: corrupt day aggregate")
		}
		counts[day] += x
		return nil
	})
	return counts, err
}

// activity fills the activity figures from the per-day event counts.
func (r *YearReview) activity(counts map[int32]int64) {
	from := dayOf(Date{Year: r.Year, Month: time.January, Day: 1})
	to := dayOf(Date{Year: r.Year + 1, Month: time.January, Day: 1})
	weekOf := AggregateWeekly.periodStart
	monthOf := AggregateMonthly.periodStart
	weeks, months := map[int32]int64{}, map[int32]int64{}
	for day, n := range counts {
		if n <= 0 {
			continue
		}
		r.DaysActive++
		r.Events += int(n)
		weeks[weekOf(day)] += n
		months[monthOf(day)] += n
	}
	r.WeeksActive, r.MonthsActive = len(weeks), len(months)
	r.MostActiveDay = mostActive(counts)
	r.MostActiveWeek = mostActive(weeks)
	r.MostActiveMonth = mostActive(months)
	for w := weekOf(from); w < to; w += 7 {
		r.Weekly = append(r.Weekly, ActivePeriod{Start: dateOf(w), Events: int(weeks[w])})
	}
}

// mostActive returns the period with the most events, the earliest of equals.
func mostActive(counts map[int32]int64) *ActivePeriod {
	best, bestN := int32(0), int64(0)
	for day, n := range counts {
		if n > bestN || (n == bestN && n > 0 && day < best) {
			best, bestN = day, n
		}
	}
	if bestN == 0 {
		return nil
	}
	return &ActivePeriod{Start: dateOf(best), Events: int(bestN)}
}
