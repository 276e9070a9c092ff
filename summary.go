package gamify

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// maxSummaryDays bounds a summary's range.
const maxSummaryDays = 400

func (q *SummaryQuery) validate() (from, to int32, err error) {
	var errs []error
	switch q.Aggregation {
	case AggregateDaily, AggregateWeekly, AggregateMonthly:
	default:
		errs = append(errs, gamifytype.Invalid("SummaryQuery.Aggregation", q.Aggregation, "must be daily, weekly or monthly"))
	}
	if !validDate(q.Start) {
		errs = append(errs, gamifytype.Invalid("SummaryQuery.Start", q.Start, "is not a date"))
	}
	if !validDate(q.End) {
		errs = append(errs, gamifytype.Invalid("SummaryQuery.End", q.End, "is not a date"))
	}
	from, to = dayOf(q.Start), dayOf(q.End)
	if len(errs) == 0 && from >= to {
		errs = append(errs, gamifytype.Invalid("SummaryQuery.End", q.End, "must be after Start"))
	}
	if len(errs) == 0 && to-from > maxSummaryDays {
		errs = append(errs, gamifytype.Invalid("SummaryQuery.End", q.End, "must be at most 400 days after Start"))
	}
	return from, to, errors.Join(errs...)
}

func dayOf(d Date) int32 {
	return int32(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateOf(day int32) Date {
	y, m, d := dayDate(day).Date()
	return Date{Year: y, Month: m, Day: d}
}

// periodStart returns the first day of the period containing day.
func (a Aggregation) periodStart(day int32) int32 {
	switch a {
	case AggregateWeekly:
		wd := (int32(dayDate(day).Weekday()) + 6) % 7 // Monday = 0
		return day - wd
	case AggregateMonthly:
		d := dateOf(day)
		return dayOf(Date{Year: d.Year, Month: d.Month, Day: 1})
	}
	return day
}

func (a Aggregation) next(start int32) int32 {
	switch a {
	case AggregateWeekly:
		return start + 7
	case AggregateMonthly:
		d := dateOf(start)
		return dayOf(Date{Year: d.Year, Month: d.Month + 1, Day: 1})
	}
	return start + 1
}

// pointsDayRef is the day-aggregate ref of a points system: system refs and
// metric refs share the Daily keyspace, told apart by the top bit.
func pointsDayRef(ref uint32) uint32 { return ref | 1<<31 }

// summarize builds summary rows for one day-aggregate ref from the state's
// unspilled day and the Daily keyspace.
func (e *Engine) summarize(p *profile, s *userState, ref uint32, total Amount, q SummaryQuery, from, to int32) ([]SummaryRow, error) {
	changes := map[int32]Amount{} // day → change, for days ≥ the first period's start
	first := q.Aggregation.periodStart(from)
	for _, d := range s.Days {
		if d.Ref == ref && d.Day >= first {
			changes[d.Day] = changes[d.Day].Add(d.Change)
		}
	}
	err := e.db.View(func(tx *store.Tx) error {
		prefix := binary.BigEndian.AppendUint32(uidKey(p.UID), ref)
		return tx.Scan(store.Daily, prefix, func(k, v []byte) error {
			_, _, day, _ := parseDailyKey(k)
			if day < first {
				return nil
			}
			x, n := binary.Varint(v)
			if n <= 0 {
				return errors.New("gamify: corrupt day aggregate")
			}
			changes[day] = changes[day].Add(AmountFromMicros(x))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var rows []SummaryRow
	for start := first; start < to; start = q.Aggregation.next(start) {
		rows = append(rows, SummaryRow{Start: dateOf(start)})
	}
	// Walk back from the current total: a period's total at its end is the
	// total now minus every change after it.
	var after Amount
	for day, c := range changes {
		if day >= q.Aggregation.next(rows[len(rows)-1].dayStart()) {
			after = after.Add(c)
		}
	}
	for i := len(rows) - 1; i >= 0; i-- {
		start, end := rows[i].dayStart(), q.Aggregation.next(rows[i].dayStart())
		var change Amount
		for day := start; day < end; day++ {
			change = change.Add(changes[day])
		}
		rows[i].Change = change
		rows[i].Total = total.Sub(after)
		after = after.Add(change)
	}
	return rows, nil
}

func (r SummaryRow) dayStart() int32 { return dayOf(r.Start) }
