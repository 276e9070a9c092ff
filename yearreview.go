package gamify

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

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
