package gamify

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/streak"
)

// triggerPaid records what a streak trigger paid one run of a user's
// streak, for as long as a late event could still cut the run short (move
// a freeze to an earlier gap, so that a later gap is lost): the multiples
// the shorter run no longer reaches are then taken back, in proportion to
// what the run's multiples paid. Multiples a trigger let pass (inactive,
// gated out) are not recorded, so they are never taken back.
type triggerPaid struct {
	Streak    uint32 // the streak's ref
	Start     int32  // the run's first day (dateKey)
	Trigger   uint64 // the trigger's seq
	System    uint32 // the points system's ref
	EveryN    uint32 // the trigger's EveryN when it last paid
	Multiples int64  // the multiples paid, > 0
	Points    Amount // what they paid in all, > 0
	At        int64  // Unix ns the last payment was attributed to
}

func compareTriggerPaid(a, b triggerPaid) int {
	if c := cmp.Compare(a.Streak, b.Streak); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	return cmp.Compare(a.Trigger, b.Trigger)
}

// triggerPaidRange returns the span of ps recording the run of streak ref
// that starts on day start.
func triggerPaidRange(ps []triggerPaid, ref uint32, start int32) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(ps, triggerPaid{Streak: ref, Start: start}, compareTriggerPaid)
	hi, _ = slices.BinarySearchFunc(ps, triggerPaid{Streak: ref, Start: start + 1}, compareTriggerPaid)
	return lo, hi
}

// addTriggerPaid returns ps with p added to the record of its run and
// trigger (a copy: records are shared with the committed version of the
// user). A record of another EveryN (the trigger was patched since) is
// replaced: multiples of two sizes cannot be weighed against one length,
// and forgetting the older ones only means they are never taken back.
func addTriggerPaid(ps []triggerPaid, p triggerPaid) []triggerPaid {
	i, ok := slices.BinarySearchFunc(ps, p, compareTriggerPaid)
	ps = slices.Clone(ps)
	if !ok {
		return slices.Insert(ps, i, p)
	}
	q := &ps[i]
	if q.EveryN != p.EveryN {
		*q = p
		return ps
	}
	q.Multiples += p.Multiples
	q.Points = q.Points.Add(p.Points)
	q.System, q.At = p.System, max(q.At, p.At)
	return ps
}

// settleTriggerRuns brings the records of what streak triggers paid the
// runs of s in line with r, one run a call changed, before the triggers
// pay what it newly reaches: the records of the runs it joins move to its
// start, and the multiples of a record that the run no longer reaches
// (cut short) are taken back, or only dropped from the record if forgive
// (a restore).
func (t *txn) settleTriggerRuns(u *userRec, s *Streak, r streak.Reach, forgive bool) error {
	if len(u.s.TrigPaid) == 0 {
		return nil
	}
	start := dateKey(r.Start)
	for _, ps := range r.Starts {
		k := dateKey(ps)
		if k == start {
			continue
		}
		lo, hi := triggerPaidRange(u.s.TrigPaid, s.ref, k)
		if lo == hi {
			continue
		}
		moved := slices.Clone(u.s.TrigPaid[lo:hi])
		u.s.TrigPaid = slices.Delete(slices.Clone(u.s.TrigPaid), lo, hi)
		for _, p := range moved {
			p.Start = start
			u.s.TrigPaid = addTriggerPaid(u.s.TrigPaid, p)
		}
	}
	lo, hi := triggerPaidRange(u.s.TrigPaid, s.ref, start)
	var cut []triggerPaid
	for _, p := range u.s.TrigPaid[lo:hi] {
		if owed := int64(r.Length / int(p.EveryN)); p.Multiples > owed {
			cut = append(cut, p)
		}
	}
	if len(cut) == 0 {
		return nil
	}
	u.s.TrigPaid = slices.Clone(u.s.TrigPaid)
	for _, p := range cut {
		owed := int64(r.Length / int(p.EveryN))
		lost := p.Multiples - owed
		// What the lost multiples paid, in proportion (boosts may have made
		// the run's multiples pay differently): all of it when none is left.
		back := p.Points
		if owed > 0 {
			m := new(big.Int).Mul(big.NewInt(p.Points.Micros()), big.NewInt(lost))
			back = AmountFromMicros(m.Quo(m, big.NewInt(p.Multiples)).Int64())
		}
		i, _ := slices.BinarySearchFunc(u.s.TrigPaid, p, compareTriggerPaid)
		if owed == 0 {
			u.s.TrigPaid = slices.Delete(u.s.TrigPaid, i, i+1)
		} else {
			u.s.TrigPaid[i].Multiples, u.s.TrigPaid[i].Points = owed, p.Points.Sub(back)
		}
		if forgive {
			continue
		}
		if err := t.takeBackTrigger(u, s, p, lost, back); err != nil {
			return err
		}
	}
	return nil
}

// takeBackTrigger takes back amount, what lost multiples of p's trigger
// paid, in the trigger's name (points.TakeBackStreak), attributed to the
// time of the last payment (points boards lose it from that run). The
// system's status is judged at that time, as the payment was: one inactive
// now gives back what it paid while active; one archived since leaves the
// points paid (nothing is taken back later). An archived trigger's are
// taken back: the shorter run never reached them.
func (t *txn) takeBackTrigger(u *userRec, s *Streak, p triggerPaid, lost int64, amount Amount) error {
	if amount.Sign() <= 0 {
		return nil
	}
	var key string
	for k, tr := range t.w.cat.points.triggers {
		if tr.seq == p.Trigger {
			key = k
			break
		}
	}
	sys := t.w.cat.points.systemByRef[p.System]
	if key == "" || sys == nil {
		return nil
	}
	at := t.eventAt
	t.eventAt = time.Unix(0, p.At).UTC()
	_, err := t.givePoints(u, sys.Key, func(r points.Rules, st points.State) (points.State, points.Effects, error) {
		return points.TakeBackStreak(r, st, key, lost, amount)
	})
	t.eventAt = at
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("streak %s: trigger %s: %w", s.Key, key, err)
	}
	return nil
}

// recordTriggerPaid records the streak trigger awards of fx, paid in
// system sys for run r of streak s.
func (t *txn) recordTriggerPaid(u *userRec, s *Streak, r streak.Reach, sys *PointsSystem, awards []points.AwardRecord) {
	for _, a := range awards {
		tr := t.w.cat.points.triggers[a.Trigger]
		if a.Kind != points.KindStreak || tr == nil || a.Multiple <= 0 || a.Points.Sign() <= 0 {
			continue
		}
		u.s.TrigPaid = addTriggerPaid(u.s.TrigPaid, triggerPaid{Streak: s.ref, Start: dateKey(r.Start), Trigger: tr.seq, System: sys.ref,
			EveryN: uint32(tr.EveryN), Multiples: a.Multiple, Points: a.Points, At: t.attributedAt().UnixNano()})
	}
}

// pruneTriggerPaid drops the records of runs that began too long ago for a
// late event to reach (paidHorizon, as milestone records).
func pruneTriggerPaid(ps []triggerPaid, now time.Time) []triggerPaid {
	return pruneRuns(ps, now, func(p triggerPaid) int32 { return p.Start })
}

func appendTriggerPaid(b []byte, ps []triggerPaid) []byte {
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(p.Streak))
		b = binary.AppendVarint(b, int64(p.Start))
		b = binary.AppendUvarint(b, p.Trigger)
		b = binary.AppendUvarint(b, uint64(p.System))
		b = binary.AppendUvarint(b, uint64(p.EveryN))
		b = binary.AppendVarint(b, p.Multiples)
		b = binary.AppendVarint(b, p.Points.Micros())
		b = binary.AppendVarint(b, p.At)
	}
	return b
}

func decodeTriggerPaid(r *decoder) ([]triggerPaid, error) {
	n := r.uvarint()
	if n == 0 && len(r.b) > 0 {
		return nil, nil // none: a later section follows
	}
	if n == 0 || n > uint64(len(r.b)) {
		return nil, errCorruptState
	}
	ps := make([]triggerPaid, n)
	for i := range ps {
		ps[i] = triggerPaid{Streak: uint32(r.uvarint()), Start: int32(r.varint()), Trigger: r.uvarint(), System: uint32(r.uvarint()),
			EveryN: uint32(r.uvarint()), Multiples: r.varint(), Points: AmountFromMicros(r.varint()), At: r.varint()}
		if p := ps[i]; p.EveryN == 0 || p.Multiples <= 0 || p.Points.Sign() <= 0 {
			return nil, errCorruptState
		}
		if i > 0 && compareTriggerPaid(ps[i-1], ps[i]) >= 0 {
			return nil, errCorruptState // out of order or repeated
		}
	}
	return ps, nil
}
