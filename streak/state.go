package streak

import (
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// MaxLateDays is how far back (in days before now) an activity is sure to
// still count toward its period: the retained window (RetainedPeriods) is at
// least that long, so Apply may count somewhat older ones too and ignores
// only activities before the window. It matches the engine's default
// MaxEventAge, which refuses older events before they reach Apply.
const MaxLateDays = 400

// Limits on the retained lists, so that a State stays small and a corrupt or
// hostile encoding cannot make the decoder allocate much.
const (
	maxPauses   = 32
	maxGrants   = 256
	maxRestores = 64
	maxPauseLen = 366 // days
	maxProgress = 512
	maxSpans    = 512
)

// retain is the number of periods kept before the current one: enough for
// MaxLateDays of late activities plus the widest restore window (monthly:
// since 1 January of the previous year).
func (f Frequency) retain() int64 {
	switch f {
	case Weekly:
		return 62
	case Monthly:
		return 27
	}
	return MaxLateDays + 10
}

// slack is how far the window may run ahead of the base before it is folded,
// so that folding (a short replay) happens once in a while, not per period.
func (f Frequency) slack() int64 {
	switch f {
	case Weekly:
		return 4
	case Monthly:
		return 1
	}
	return 30
}

// span is an inclusive range of period indexes.
type span struct{ from, to int64 }

// progress is the per-metric positive change of a period that is not (yet)
// met on its own: own sums activities dated in the period, grace sums
// activities dated in the grace window after it. maxAt is the latest activity
// counted in own (for Status.LastExtended once the period is met).
type progress struct {
	p     int64
	own   []gamifytype.Amount
	grace []gamifytype.Amount
	maxAt int64
}

// restoreRec is a Restore: on entering period, the length becomes at least
// length (run started at started); unmet periods in [from, period) that were
// still open at the restore are forgiven.
type restoreRec struct {
	at      int64
	period  int64
	from    int64
	length  int64
	started int64
}

// pauseRec is a pause over the inclusive day numbers [from, to].
type pauseRec struct {
	id       uint32
	from, to int64
}

// cursor is the result of settling every period up to p in order: a period is
// settled when it is met, or when its end plus grace has passed.
type cursor struct {
	p       int64 // last settled period
	length  int64
	started int64 // first period of the current run (when length > 0)
	longest int64
	freezes int64
	earned  int64 // auto-earn instants credited so far
	at      int64 // unix ns: admin grants at or before at are credited
}

// State is one user's state for one streak definition. The zero value is a
// user never seen. States are values: every function returns a new State and
// never modifies the memory of the one passed in, so a caller may keep the
// old one. Use MarshalBinary/UnmarshalBinary to store it.
//
// The state holds facts (met periods, progress of unmet periods, pauses,
// admin grants, restores) over a window of retained periods starting at base,
// the cursor as of base (baseCur), and the current cursor. Everything derived
// (length, freezes, losses) is a deterministic replay of the facts from
// baseCur; the current cursor is that replay kept up to date incrementally.
type State struct {
	seen        bool
	freq        Frequency
	ws          time.Weekday
	anchor      int64 // unix ns of the earliest activity: origin of the auto-earn schedule
	provisional bool  // no activity counted yet: the anchor is the first call's time, and nothing is earned
	base        int64
	baseCur     cursor
	met         []span
	prog        []progress
	pauses      []pauseRec
	grants      []int64
	restores    []restoreRec
	nextPause   uint32
	lastExt     int64 // unix ns of the latest activity counted in a met period; 0 if none
	cur         cursor
	shown       int64 // length last reported in a Transition
}

// isMet reports whether period p is met on its own activities.
func (s *State) isMet(p int64) bool {
	i := sort.Search(len(s.met), func(i int) bool { return s.met[i].to >= p })
	return i < len(s.met) && s.met[i].from <= p
}

// nextMet returns the first met period at or after p, or maxPeriod.
func (s *State) nextMet(p int64) int64 {
	i := sort.Search(len(s.met), func(i int) bool { return s.met[i].to >= p })
	if i == len(s.met) {
		return maxPeriod
	}
	return max(s.met[i].from, p)
}

const maxPeriod = int64(1) << 62

// addMet returns the spans with p added (a new slice; s.met is not modified).
func addMet(met []span, p int64) []span {
	i := sort.Search(len(met), func(i int) bool { return met[i].to >= p-1 })
	out := make([]span, 0, len(met)+1)
	out = append(out, met[:i]...)
	if i < len(met) && met[i].from <= p+1 {
		sp := met[i]
		sp.from, sp.to = min(sp.from, p), max(sp.to, p)
		i++
		if i < len(met) && met[i].from <= sp.to+1 {
			sp.to = met[i].to
			i++
		}
		out = append(out, sp)
	} else {
		out = append(out, span{p, p})
	}
	return append(out, met[i:]...)
}

func (s *State) progIndex(p int64) (int, bool) {
	i := sort.Search(len(s.prog), func(i int) bool { return s.prog[i].p >= p })
	return i, i < len(s.prog) && s.prog[i].p == p
}

// credit adds delta to metric m of period p (own or grace sums) and reports
// whether p's own activity, alone or with its grace window's, meets it now
// and did not before (the history must be replayed from p). It replaces s.prog (copy on write).
func (s *State) credit(d *Definition, p int64, m int, delta gamifytype.Amount, at int64, grace bool) (met bool) {
	if s.isMet(p) {
		if !grace {
			s.lastExt = max(s.lastExt, at)
		}
		return false
	}
	i, ok := s.progIndex(p)
	wasGraceMet := !grace && s.graceMet(d, p)
	var pr progress
	if ok {
		pr = s.prog[i]
	} else {
		pr = progress{p: p}
	}
	n := len(d.Metrics)
	if grace {
		pr.grace = addSum(pr.grace, n, m, delta)
	} else {
		pr.own = addSum(pr.own, n, m, delta)
		pr.maxAt = max(pr.maxAt, at)
	}
	if !grace && d.met(pr.own) {
		s.met = addMet(s.met, p)
		s.lastExt = max(s.lastExt, pr.maxAt)
		if ok {
			s.prog = slices.Delete(slices.Clone(s.prog), i, i+1)
		}
		return true
	}
	if ok {
		s.prog = slices.Clone(s.prog)
		s.prog[i] = pr
	} else {
		s.prog = slices.Insert(slices.Clip(s.prog), i, pr)
	}
	// Its own activity may now meet the period together with its grace
	// window's (a late event before one already in the grace window): the
	// history changed as if it had become met.
	return !grace && !wasGraceMet && s.graceMet(d, p)
}

// addSum returns a copy of sums (resized to n) with delta added to index m,
// saturating at MaxAmount.
func addSum(sums []gamifytype.Amount, n, m int, delta gamifytype.Amount) []gamifytype.Amount {
	out := make([]gamifytype.Amount, max(n, len(sums)))
	copy(out, sums)
	out[m] = out[m].Add(delta)
	return out
}

// graceMet reports whether p is met when the activities of its grace window
// are added to its own.
func (s *State) graceMet(d *Definition, p int64) bool {
	i, ok := s.progIndex(p)
	if !ok || s.prog[i].grace == nil {
		return false
	}
	pr := s.prog[i]
	sums := make([]gamifytype.Amount, max(len(pr.own), len(pr.grace)))
	copy(sums, pr.own)
	for j, v := range pr.grace {
		sums[j] = sums[j].Add(v)
	}
	return d.met(sums)
}

// paused reports whether a pause covers any day of period p, or the
// definition was off during the period or its grace window (see
// Definition.Off).
func (s *State) paused(d *Definition, p int64, loc *time.Location) bool {
	if len(d.Off) > 0 && d.off(p, loc) {
		return true
	}
	if len(s.pauses) == 0 {
		return false
	}
	first, last := d.firstDay(p), d.firstDay(p+1)-1
	for _, ps := range s.pauses {
		if ps.from <= last && ps.to >= first {
			return true
		}
	}
	return false
}

// restoreAt returns the restore applied on entering period p, if any.
func (s *State) restoreAt(p int64) (restoreRec, bool) {
	var best restoreRec
	found := false
	for _, r := range s.restores {
		if r.period == p && (!found || r.length > best.length) {
			best, found = r, true
		}
	}
	return best, found
}

// forgiven reports whether unmet period p lies in a restore's gap.
func (s *State) forgiven(p int64) bool {
	for _, r := range s.restores {
		if p >= r.from && p < r.period {
			return true
		}
	}
	return false
}

// nextRestore returns the first restore period at or after p, or maxPeriod.
func (s *State) nextRestore(p int64) int64 {
	n := maxPeriod
	for _, r := range s.restores {
		if r.period >= p && r.from <= p {
			return p
		}
		if r.period >= p {
			n = min(n, r.from, r.period)
		}
	}
	return n
}

func joinErrs(errs []error) error { return errors.Join(errs...) }
