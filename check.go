package gamify

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
)

// Check verifies the engine's invariants on committed state and returns an
// error describing every violation found (at most the first 20): each user's
// stored metric totals equal the sums of their ledger entries and of their
// day and year aggregates; event counts match; points totals and spends
// equal the ledger and the award log; metric completions are at or past
// their thresholds; claims stay within inventory and each code is given
// once; every leaderboard index equals the stored scores; profiles and the
// uid index agree; outbox entries decode and concern existing users;
// every record's checksum holds; league cohorts, rollovers under way,
// results and tiers agree (each tier is the one the user's newest result
// gave); each points, boost and achievement grant of a reward bundle is
// recorded with its claim and given; and every internal
// reference in state, ledger, day aggregate and award records (users,
// metrics, streaks, boards, points systems, achievements) resolves. A
// damaged record is reported as an error wrapping ErrCorrupt.
// It flushes first, so in Buffered mode it checks everything acknowledged.
// It reads the whole store: use it in tests and offline audits.
func (e *Engine) Check(ctx context.Context) error {
	if err := e.Flush(ctx); err != nil {
		return err
	}
	var problems []error
	report := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	type key struct {
		uid uint64
		ref uint32
	}
	cat := e.cat.Load()
	err := e.db.View(func(tx *store.Tx) error {
		// Checksums first: the scans below would stop at the first damaged
		// record, with nothing else reported.
		damaged := false
		tx.Verify(func(err error) bool {
			damaged = true
			report("%w", err)
			return len(problems) < 20
		})
		if damaged {
			return nil
		}
		ref := refChecker{cat: cat, report: report}
		ids := map[uint64]string{}
		err := tx.Scan(store.Users, nil, func(k, v []byte) error {
			var p profile
			if err := json.Unmarshal(v, &p); err != nil {
				report("user %q: corrupt profile: %v", k, err)
				return nil
			}
			if p.ID != string(k) {
				report("user %q: profile holds id %q", k, p.ID)
			}
			if got := tx.Get(store.UserIDs, uidKey(p.UID)); string(got) != p.ID {
				report("user %q: uid %d maps to %q", p.ID, p.UID, got)
			}
			ids[p.UID] = p.ID
			return nil
		})
		if err != nil {
			return err
		}
		if n := tx.Count(store.UserIDs); n != len(ids) {
			report("uid index holds %d entries for %d users", n, len(ids))
		}
		if err := e.checkLeagues(tx, cat, ids, report); err != nil {
			return err
		}
		if err := checkChallenges(tx, cat, report); err != nil {
			return err
		}
		if err := checkBundles(tx, cat, ids, report); err != nil {
			return err
		}
		ledgerSum := map[key]Amount{}
		ledgerMax := map[key]Amount{} // highest running total, in ledger order
		ledgerCount := map[key]uint64{}
		awarded, spent := map[key]Amount{}, map[key]Amount{}
		var maxSeq uint64
		err = tx.Scan(store.Ledger, nil, func(k, v []byte) error {
			en, err := ledger.Unmarshal(k, v)
			if err != nil {
				report("%v", err)
				return nil
			}
			maxSeq = max(maxSeq, en.Seq)
			what := fmt.Sprintf("ledger entry %d", en.Seq)
			ref.user(ids, what, en.User)
			switch en.Kind {
			case ledger.MetricDelta:
				ref.metric(what, en.Ref)
			case ledgerAward, ledgerSpend:
				ref.system(what, en.Ref)
			default:
				report("%s: %w: kind %d", what, ErrCorrupt, en.Kind)
			}
			if en.Kind == ledger.MetricDelta {
				k := key{en.User, en.Ref}
				ledgerSum[k] = ledgerSum[k].Add(en.Delta)
				if ledgerCount[k] == 0 || ledgerMax[k].Less(ledgerSum[k]) {
					ledgerMax[k] = ledgerSum[k]
				}
				ledgerCount[k]++
			}
			switch en.Kind {
			case ledgerAward:
				awarded[key{en.User, en.Ref}] = awarded[key{en.User, en.Ref}].Add(en.Delta)
			case ledgerSpend:
				spent[key{en.User, en.Ref}] = spent[key{en.User, en.Ref}].Add(en.Delta)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if b := tx.Get(store.Meta, seqKey); maxSeq > 0 && (len(b) != 8 || binary.BigEndian.Uint64(b) < maxSeq) {
			report("ledger sequence counter is behind entry %d", maxSeq)
		}
		// The award log holds one record per award of the ledger.
		logged := map[key]Amount{}
		err = tx.Scan(store.Awards, nil, func(k, v []byte) error {
			var r awardRecord
			if err := r.unmarshal(v); err != nil || len(k) != 8 {
				report("award record %x: %v", k, err)
				return nil
			}
			if _, ok := ids[r.User]; !ok {
				report("award record %d of unknown uid %d", binary.BigEndian.Uint64(k), r.User)
			}
			ref.system(fmt.Sprintf("award record %d", binary.BigEndian.Uint64(k)), r.Ref)
			logged[key{r.User, r.Ref}] = logged[key{r.User, r.Ref}].Add(r.Award.Points)
			return nil
		})
		if err != nil {
			return err
		}
		for k := range logged {
			if _, ok := awarded[k]; !ok {
				awarded[k] = Amount{} // reported below
			}
		}
		for k, v := range awarded {
			if logged[k] != v {
				report("uid %d points system %d: ledger awards %s, award log %s", k.uid, k.ref, v, logged[k])
			}
		}
		dailySum := map[key]Amount{}
		err = tx.Scan(store.Daily, nil, func(k, v []byte) error {
			uid, dref, _, ok := parseDailyKey(k)
			x, n := binary.Varint(v)
			if !ok || n <= 0 {
				report("corrupt day aggregate %x", k)
				return nil
			}
			what := fmt.Sprintf("day aggregate %x", k)
			ref.user(ids, what, uid)
			ref.dayRef(what, dref)
			dailySum[key{uid, dref}] = dailySum[key{uid, dref}].Add(AmountFromMicros(x))
			return nil
		})
		if err != nil {
			return err
		}
		seen := map[key]bool{}
		type runKey struct {
			ref   uint32
			run   int64
			group string
		}
		stored := map[runKey]map[uint32]userBoard{}
		err = tx.Scan(store.State, nil, func(k, v []byte) error {
			uid := binary.BigEndian.Uint64(k)
			id, ok := ids[uid]
			if !ok {
				report("state of unknown uid %d", uid)
			}
			var s userState
			if err := s.unmarshal(v); err != nil {
				report("user %q: %v", id, err)
				return nil
			}
			ref.state(fmt.Sprintf("state of user %q", id), &s)
			for _, d := range s.Days {
				dailySum[key{uid, d.Ref}] = dailySum[key{uid, d.Ref}].Add(d.Change)
			}
			var events uint64
			for _, m := range s.Metrics {
				kk := key{uid, m.Ref}
				seen[kk] = true
				events += m.Events
				if got := ledgerSum[kk]; got != m.Total {
					report("user %q metric %d: total %s, ledger sum %s", id, m.Ref, m.Total, got)
				}
				if got := dailySum[kk]; got != m.Total {
					report("user %q metric %d: total %s, day aggregates sum %s", id, m.Ref, m.Total, got)
				}
				if got := ledgerCount[kk]; got != m.Events {
					report("user %q metric %d: %d events, ledger holds %d", id, m.Ref, m.Events, got)
				}
			}
			if events != s.Events {
				report("user %q: %d events, per-metric counts sum to %d", id, s.Events, events)
			}
			// Points: the total is the sum of awards, spent the sum of spends.
			for _, p := range s.Points {
				k := key{uid, p.Ref}
				if got := awarded[k]; got != p.St.Total() {
					report("user %q points system %d: total %s, ledger awards %s", id, p.Ref, p.St.Total(), got)
				}
				if got := spent[k]; got != p.St.Spent() {
					report("user %q points system %d: spent %s, ledger spends %s", id, p.Ref, p.St.Spent(), got)
				}
				if got := dailySum[key{uid, pointsDayRef(p.Ref)}]; got != p.St.Total() {
					report("user %q points system %d: total %s, day aggregates sum %s", id, p.Ref, p.St.Total(), got)
				}
				if p.St.Available() != p.St.Total().Sub(p.St.Spent()) {
					report("user %q points system %d: available is not total − spent", id, p.Ref)
				}
			}
			// The per-day event counts and the yearly changes add up to the
			// totals they break down.
			if got := dailySum[key{uid, eventsDayRef}]; uint64(got.Micros()) != s.Events {
				report("user %q: %d events, per-day event counts sum to %d", id, s.Events, got)
			}
			yearSum := map[uint32]int64{}
			for _, y := range s.Years {
				if y.Kind == yearChange {
					yearSum[y.Ref] += y.Value
				}
			}
			if got := yearSum[eventsDayRef]; uint64(got) != s.Events {
				report("user %q: %d events, yearly event counts sum to %d", id, s.Events, got)
			}
			for _, m := range s.Metrics {
				if got := AmountFromMicros(yearSum[m.Ref]); got != m.Total {
					report("user %q metric %d: total %s, yearly changes sum to %s", id, m.Ref, m.Total, got)
				}
			}
			for _, p := range s.Points {
				if got := AmountFromMicros(yearSum[pointsDayRef(p.Ref)]); got != p.St.Total() {
					report("user %q points system %d: total %s, yearly changes sum to %s", id, p.Ref, p.St.Total(), got)
				}
			}
			// No metric achievement was completed below its threshold: the
			// user's running total reached it at some point of the ledger.
			for _, c := range s.Ach.Completions() {
				a, ok := cat.achievements[c.Key]
				if !ok || a.Kind != AchievementMetric || len(a.EventFilters) > 0 {
					continue
				}
				m, ok := cat.metrics[a.Metric]
				if !ok {
					continue
				}
				if got := ledgerMax[key{uid, m.ref}]; got.Less(a.Threshold) {
					report("user %q completed %s at a total of at most %s, below its threshold %s", id, c.Key, got, a.Threshold)
				}
			}
			for _, ub := range s.Boards {
				if ub.In {
					rk := runKey{ub.Ref, ub.Run, ub.Group}
					if stored[rk] == nil {
						stored[rk] = map[uint32]userBoard{}
					}
					stored[rk][uint32(uid)] = ub
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for kk := range ledgerSum {
			if !seen[kk] {
				report("ledger entries of uid %d metric %d have no stored total", kk.uid, kk.ref)
			}
		}
		// Claims: no code given twice, no reward claimed past its inventory.
		codes := map[string]string{}
		perReward := map[string]int{}
		err = tx.Scan(store.Claims, nil, func(k, v []byte) error {
			var c Claim
			if err := json.Unmarshal(v, &c); err != nil {
				report("corrupt claim %x: %v", k, err)
				return nil
			}
			perReward[c.Reward]++
			if c.Code != "" {
				ck := c.Reward + "\x00" + c.Code
				if other, dup := codes[ck]; dup {
					report("reward %s code %s claimed by %q and %q", c.Reward, c.Code, other, c.User)
				}
				codes[ck] = c.User
			}
			return nil
		})
		if err != nil {
			return err
		}
		for key, n := range perReward {
			if r, ok := cat.rewards[key]; ok && r.Inventory > 0 && n > r.Inventory {
				report("reward %s: %d claims for an inventory of %d", key, n, r.Inventory)
			}
		}
		// Outbox: entries decode, below the last sequence, about known users;
		// no consumer acknowledged past it.
		last := outboxLast(tx)
		err = tx.Scan(store.Outbox, nil, func(k, v []byte) error {
			en, err := decodeOutbox(k, v)
			switch {
			case err != nil:
				report("%v", err)
			case en.Seq > last:
				report("outbox entry %d is past the last sequence %d", en.Seq, last)
			case en.Notification.UserID() != "" && tx.Get(store.Users, []byte(en.Notification.UserID())) == nil:
				report("outbox entry %d is about unknown user %q", en.Seq, en.Notification.UserID())
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(store.Consumers, nil, func(k, v []byte) error {
			if rec, err := unmarshalConsumer(v); err != nil || rec.acked > last {
				report("outbox consumer %q: acknowledged %d of %d (%v)", k, rec.acked, last, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Leaderboard indexes hold exactly the stored scores of unfinished runs.
		e.boardsMu.RLock()
		defer e.boardsMu.RUnlock()
		for ref, rt := range e.boards {
			rt.mu.RLock()
			for start, run := range rt.runs {
				for g, x := range run.groups {
					if err := x.Check(); err != nil {
						report("board %d run %d group %q: %v", ref, start, g, err)
					}
					want := stored[runKey{ref, start, g}]
					if x.Len() != len(want) {
						report("board %d run %d group %q: index holds %d entries, store %d", ref, start, g, x.Len(), len(want))
					}
					x.Each(0, leaderboard.Unique, func(s leaderboard.Standing) bool {
						ub, ok := want[s.User]
						if !ok || ub.Score != s.Score || ub.Sub != s.Sub || ub.Reached != s.Reached {
							report("board %d run %d group %q: uid %d indexed as %d/%d, stored %+v", ref, start, g, s.User, s.Score, s.Sub, ub)
						}
						return true
					})
					delete(stored, runKey{ref, start, g})
				}
			}
			rt.mu.RUnlock()
		}
		for rk, users := range stored {
			b := e.cat.Load().boardByRef[rk.ref]
			if b == nil || !b.hasRuns() {
				continue
			}
			if _, end, ok := b.runAt(time.Unix(0, rk.run)); ok && !end.IsZero() && end.UnixNano() <= e.boards[rk.ref].finishedTo {
				continue // a finished run: frozen in the store, no index
			}
			report("board %s run %d group %q: %d stored entries missing from the index", b.Key, rk.run, rk.group, len(users))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gamify: check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("gamify: check failed: %w", errors.Join(problems...))
	}
	return nil
}

// refChecker reports internal references that resolve to nothing: a damaged
// record, or one the engine forgot to remove.
type refChecker struct {
	cat    *catalog
	report func(format string, args ...any)
}

func (r refChecker) missing(what, kind string, ref uint32) {
	r.report("%s: %w: %s %d does not exist", what, ErrCorrupt, kind, ref)
}

func (r refChecker) user(ids map[uint64]string, what string, uid uint64) {
	if _, ok := ids[uid]; !ok {
		r.report("%s: %w: uid %d does not exist", what, ErrCorrupt, uid)
	}
}

func (r refChecker) metric(what string, ref uint32) {
	if r.cat.metricByRef[ref] == nil {
		r.missing(what, "metric", ref)
	}
}

func (r refChecker) system(what string, ref uint32) {
	if r.cat.points.systemByRef[ref] == nil {
		r.missing(what, "points system", ref)
	}
}

// dayRef checks the ref of a day aggregate or yearly change: a metric, a
// points system (pointsDayRef) or the event count.
func (r refChecker) dayRef(what string, ref uint32) {
	switch {
	case ref == eventsDayRef:
	case ref&(1<<31) != 0:
		r.system(what, ref&^(1<<31))
	default:
		r.metric(what, ref)
	}
}

// state checks every reference of a user's state record.
func (r refChecker) state(what string, s *userState) {
	for _, m := range s.Metrics {
		r.metric(what, m.Ref)
	}
	for _, st := range s.Streaks {
		if r.cat.streakByRef[st.Ref] == nil {
			r.missing(what, "streak", st.Ref)
		}
	}
	for _, b := range s.Boards {
		if r.cat.boardByRef[b.Ref] == nil {
			r.missing(what, "leaderboard", b.Ref)
		}
	}
	for _, rk := range s.Ranks {
		if r.cat.boardByRef[rk.Ref] == nil {
			r.missing(what, "leaderboard", rk.Ref)
		}
	}
	for _, d := range s.Days {
		r.dayRef(what, d.Ref)
	}
	for _, p := range s.Points {
		r.system(what, p.Ref)
	}
	for _, p := range s.Paid {
		if r.cat.streakByRef[p.Streak] == nil {
			r.missing(what, "streak", p.Streak)
		}
		if p.System != 0 {
			r.system(what, p.System)
		}
		if p.Points.Sign() < 0 || (p.System == 0) != p.Points.IsZero() || (p.Reward == 0) != (p.Claim == 0) || (p.Claim == 0 && p.Points.IsZero()) {
			r.report("%s: %w: milestone %d of streak %d paid %s in system %d, claim %d of reward %d", what, ErrCorrupt, p.Length, p.Streak, p.Points, p.System, p.Claim, p.Reward)
		}
	}
	for _, p := range s.TrigPaid {
		if r.cat.streakByRef[p.Streak] == nil {
			r.missing(what, "streak", p.Streak)
		}
		r.system(what, p.System)
	}
	for _, y := range s.Years {
		switch y.Kind {
		case yearChange:
			r.dayRef(what, y.Ref)
		case yearStreak:
			if r.cat.streakByRef[y.Ref] == nil {
				r.missing(what, "streak", y.Ref)
			}
		case yearRank:
			if r.cat.boardByRef[y.Ref] == nil {
				r.missing(what, "leaderboard", y.Ref)
			}
		default:
			r.report("%s: %w: yearly number of kind %d", what, ErrCorrupt, y.Kind)
		}
	}
	for _, c := range s.Ach.Completions() {
		if r.cat.achievements[c.Key] == nil {
			r.report("%s: %w: achievement %q does not exist", what, ErrCorrupt, c.Key)
		}
	}
}
