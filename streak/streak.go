package streak

import (
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// MaxFuture is how far after now an activity may be dated (clock skew between
// devices); later activities are rejected by Apply.
const MaxFuture = 48 * time.Hour

// Activity is one change of a metric for a user. Loc is the user's time zone
// at the time of the activity (nil means UTC): the activity belongs to the
// period of its local date there.
type Activity struct {
	Metric string
	Delta  gamifytype.Amount
	At     time.Time
	Loc    *time.Location
}

// Kind is the kind of a Notification.
type Kind uint8

// The notification kinds.
//
// Lost is reported only when time passing (Advance, or the advance at the
// start of Apply) settles an unmet period of a streak that was alive: a
// replay caused by a late activity never reports one, and Apply drops a
// loss its own advance found when its activity repairs it. Several Applies
// of one call can be merged with Missed (see the engine's batches).
const (
	Started        Kind = iota + 1 // an on-time activity started a streak (length was 0)
	Extended                       // an on-time activity extended a streak
	Lost                           // time passing ended a live streak: Length is the lost length
	FreezeConsumed                 // a freeze kept the streak over an unmet period
	FreezeEarned                   // Amount freezes were auto-earned
	FreezeRefunded                 // a late activity met a frozen period: its freeze came back
	Repaired                       // a late activity raised the length (filled a gap)
	Restored                       // Restore raised the length
)

var kindNames = [...]string{"", "started", "extended", "lost", "freeze_consumed", "freeze_earned", "freeze_refunded", "repaired", "restored"}

// String returns the snake_case name of k, e.g. "freeze_consumed".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Notification is something to tell the user.
type Notification struct {
	Kind    Kind
	Period  Date // first day of the period concerned (zero for FreezeEarned)
	Length  int  // the length after the change; for Lost, the length lost
	From    int  // Started, Extended, Repaired, Restored: the length before the change
	Freezes int  // freezes held after the change
	Amount  int  // FreezeEarned: freezes earned
}

// Transition is a change of the reported streak length (for boards and the
// engine's StreakLengthChanged); rewards tied to lengths use Reach.
type Transition struct {
	From, To int
}

// Warning flags a call that did something other than asked, without failing.
type Warning uint8

// The warnings.
const (
	NoWarning        Warning = iota
	ExceedsMax               // GrantFreeze: the user now holds more than Freezes.Max
	NothingToRestore         // Restore: no longer streak in the window, nothing changed
)

// Effects is what a transition caused, in order.
type Effects struct {
	// Extended is true only for the on-time activity that made the current
	// period met (or the previous period met within its grace window).
	Extended      bool
	Notifications []Notification
	// Transitions holds the net change of the reported length over the
	// call (at most one, From != To): the hook for streak boards and
	// StreakLengthChanged.
	Transitions []Transition
	// Reached lists the runs of the history the call changed, for the
	// rewards tied to lengths (see Reach).
	Reached []Reach
	Warning Warning
}

// Status is a user's streak as of an instant, computed from the clock alone.
type Status struct {
	Length       int
	Longest      int
	Started      time.Time // start of the run's first period; zero when Length is 0
	PeriodStart  time.Time // the current period, in the user's current zone
	PeriodEnd    time.Time
	Met          bool      // the current period is met
	Paused       bool      // a pause covers the current period
	AtRisk       bool      // alive, and the current (or a previous, in grace) period is unmet
	Expires      time.Time // end of the current period while at risk, of the next once met; zero when Length is 0
	GraceEnds    time.Time // when a previous unmet period in its grace window will be missed; else zero
	LastExtended time.Time // the latest activity counted in a met period; zero if none
	Freezes      int
}

// Period is one period of History.
type Period struct {
	First      Date // first day of the period
	Start, End time.Time
	Length     int  // streak length at the end of the period (so far, for open ones)
	Met        bool // met, on its own or with its grace window
	UsedFreeze bool
	UsedPause  bool // unmet and covered by a pause
	Missed     bool // the streak was lost at this period
}

// Pause is a pause of the streak over the local dates From..To inclusive.
type Pause struct {
	ID       uint32
	From, To Date
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// prepare initialises a never-seen state (first sight: the initial
// freezes, and a provisional auto-earn anchor until an activity counts) and
// restarts one whose definition changed its period shape (period indexes
// would mean something else).
func (s State) prepare(d *Definition, now time.Time, loc *time.Location) State {
	ws := d.weekStart()
	if s.seen && s.freq == d.Frequency && (d.Frequency != Weekly || s.ws == ws) {
		return s
	}
	curP := d.periodAt(now, loc)
	base := curP - d.Frequency.retain()
	c := cursor{p: base - 1, freezes: int64(d.Freezes.Initial), at: now.UnixNano()}
	n := State{seen: true, freq: d.Frequency, ws: ws, anchor: now.UnixNano(), provisional: true, base: base}
	if s.seen {
		// Frequency changed: the run cannot be mapped; keep what the user owns.
		c.freezes, c.longest, c.earned, c.at = s.cur.freezes, s.cur.longest, s.cur.earned, max(s.cur.at, c.at)
		n.anchor, n.provisional, n.pauses, n.nextPause, n.lastExt, n.shown = s.anchor, s.provisional, s.pauses, s.nextPause, s.lastExt, s.shown
	}
	n.baseCur, n.cur = c, c
	return n
}

// advance brings the cursor to now (notifying closings and earns) and folds
// the window when it has run far enough ahead of the base.
func (s State) advance(d *Definition, now time.Time, loc *time.Location, fx *Effects) State {
	s = s.prepare(d, now, loc)
	s.run(d, &s.cur, now, loc, maxPeriod, now, &notifier{d: d, fx: fx}, nil)
	if curP := d.periodAt(now, loc); curP-s.base > d.Frequency.retain()+d.Frequency.slack() {
		s = s.fold(d, now, loc, curP-d.Frequency.retain())
	}
	return s
}

// baseCursor is the cursor a replay of the retained window starts from.
// Every retained grant is one the base cursor has not credited (fold drops
// those it credits), but a grant given at the instant of first sight shares
// the base cursor's instant, which would mark it credited: the replay
// starts just before the first grant.
func (s *State) baseCursor() cursor {
	c := s.baseCur
	if len(s.grants) > 0 {
		c.at = min(c.at, s.grants[0]-1)
	}
	return c
}

// fold moves the base to nb, replaying the facts before nb into the base
// cursor and dropping them.
func (s State) fold(d *Definition, now time.Time, loc *time.Location, nb int64) State {
	c := s.baseCursor()
	until := d.end(nb-1, loc).Add(time.Duration(d.GraceHours) * time.Hour)
	if until.After(now) {
		return s
	}
	s.run(d, &c, now, loc, nb-1, until, nil, nil)
	if c.p < nb-1 {
		return s // cannot happen for periods this old; keep the facts rather than guess
	}
	s.baseCur, s.base = c, nb
	var met []span
	for _, sp := range s.met {
		if sp.to >= nb {
			met = append(met, span{max(sp.from, nb), sp.to})
		}
	}
	s.met = met
	i, _ := s.progIndex(nb)
	s.prog = slices.Clone(s.prog[i:])
	first := d.firstDay(nb)
	s.pauses = slices.DeleteFunc(slices.Clone(s.pauses), func(p pauseRec) bool { return p.to < first })
	s.grants = slices.DeleteFunc(slices.Clone(s.grants), func(g int64) bool { return g <= c.at })
	s.restores = slices.DeleteFunc(slices.Clone(s.restores), func(r restoreRec) bool { return r.period < nb })
	return s
}

// report records a Transition when the length differs from the one last
// reported, merged with one this call already recorded.
func (s *State) report(d *Definition, now time.Time, loc *time.Location, fx *Effects) {
	l := s.project(d, s.cur, d.periodAt(now, loc), loc).length
	if l == s.shown {
		return
	}
	if n := len(fx.Transitions); n > 0 {
		fx.Transitions[n-1].To = int(l)
		if fx.Transitions[n-1].From == int(l) {
			fx.Transitions = fx.Transitions[:n-1]
		}
	} else {
		fx.Transitions = append(fx.Transitions, Transition{From: int(s.shown), To: int(l)})
	}
	s.shown = l
}

// reportTime is report after time alone moved: the length can then rise
// only by an activity dated ahead of its time (clock skew) whose period has
// begun, which the run it extends (or starts) newly reaches.
func (s *State) reportTime(d *Definition, now time.Time, loc *time.Location, fx *Effects) {
	pr := s.project(d, s.cur, d.periodAt(now, loc), loc)
	if pr.length > 0 && pr.length != s.shown {
		r := Reach{Start: d.firstDate(pr.started), Length: int(pr.length)}
		if pr.length > s.shown && s.shown > 0 {
			r.Before, r.Starts = []int{int(s.shown)}, []Date{r.Start}
		}
		fx.Reached = append(fx.Reached, r)
	}
	s.report(d, now, loc, fx)
}

// notifier turns settled periods into notifications on the incremental path.
type notifier struct {
	d  *Definition
	fx *Effects
}

func (n *notifier) settled(from, to int64, o outcome, c *cursor, lost int64) {
	switch o {
	case oFrozen:
		n.fx.Notifications = append(n.fx.Notifications, Notification{Kind: FreezeConsumed, Period: n.d.firstDate(from), Length: int(c.length), Freezes: int(c.freezes)})
	case oLost:
		n.fx.Notifications = append(n.fx.Notifications, Notification{Kind: Lost, Period: n.d.firstDate(from), Length: int(lost), Freezes: int(c.freezes)})
	}
}

func (n *notifier) earned(k, amount int64, c *cursor) {
	n.fx.Notifications = append(n.fx.Notifications, Notification{Kind: FreezeEarned, Length: int(c.length), Freezes: int(c.freezes), Amount: int(amount)})
}

func (d *Definition) firstDate(p int64) Date { return dateOfDay(d.firstDay(p)) }

// Advance processes every period end (plus grace) and auto-earn up to now in
// loc, the user's current zone: freezes consumed, pauses applied, losses
// reported once. It is idempotent, and calling it once after a long gap gives
// the same state as calling it at every period end. d must have passed
// Validate. A now outside the years 1900 to 2200 changes nothing: the State
// it would give could not be decoded again.
func Advance(d Definition, s State, now time.Time, loc *time.Location) (State, Effects) {
	if checkNow(now) != nil {
		return s, Effects{}
	}
	loc = orUTC(loc)
	var fx Effects
	s = s.advance(&d, now, loc, &fx)
	s.reportTime(&d, now, loc, &fx)
	return s, fx
}

// checkNow refuses a now outside the years activities may have (1900 to
// 2200): a State advanced to it holds periods UnmarshalBinary refuses.
func checkNow(now time.Time) error {
	if y := now.Year(); y < 1900 || y > 2200 {
		return gamifytype.Invalid("Now", now, "must be between the years 1900 and 2200")
	}
	return nil
}

func (a *Activity) validate(now time.Time) error {
	if err := checkNow(now); err != nil {
		return err
	}
	if a.At.IsZero() {
		return gamifytype.Invalid("Activity.At", nil, "must be set")
	}
	if y := a.At.Year(); y < 1900 || y > 2200 {
		// Instants are kept as int64 nanoseconds (years 1678..2262).
		return gamifytype.Invalid("Activity.At", a.At, "must be between the years 1900 and 2200")
	}
	if a.At.After(now.Add(MaxFuture)) {
		return gamifytype.Invalid("Activity.At", a.At, "must not be more than 48h after now")
	}
	return nil
}

// Apply advances s to now and counts the activity toward the period of its
// local date (and, with grace hours, toward the previous period while the
// activity is in that period's grace window). Activities of other metrics,
// non-positive deltas and activities older than the retained window change
// nothing. A late activity that changes a period already settled makes the
// streak be recomputed from the retained facts, as if it had arrived on time.
// d must have passed Validate (and be personalized with Personalize). A now
// outside the years 1900 to 2200 fails with a *ValidationError for Now.
func Apply(d Definition, s State, a Activity, now time.Time) (State, Effects, error) {
	if err := a.validate(now); err != nil {
		return s, Effects{}, err
	}
	loc := orUTC(a.Loc)
	var fx Effects
	s = s.advance(&d, now, loc, &fx)
	s.reportTime(&d, now, loc, &fx)
	m := d.metricIndex(a.Metric)
	if m < 0 || a.Delta.Sign() <= 0 {
		return s, fx, nil
	}
	q := d.periodAt(a.At, loc)
	if q < s.base {
		return s, fx, nil
	}
	curP := d.periodAt(now, loc)
	before := s.project(&d, s.cur, curP, loc)
	old := s
	at := a.At.UnixNano()
	replay := s.credit(&d, q, m, a.Delta, at, false) && q <= s.cur.p
	if s.provisional || at < s.anchor {
		// Freezes are earned from the earliest activity, whenever it
		// arrives: a late first sync earns on the schedule it would have
		// earned on live. Earns due by now under the new anchor need the
		// history replayed.
		wasProvisional := s.provisional
		s.anchor, s.provisional = at, false
		if every := d.Freezes.earnEvery(); every > 0 && (!wasProvisional || at+every <= now.UnixNano()) {
			replay = true
		}
	}
	if d.GraceHours > 0 {
		if g := d.periodAt(a.At.Add(-time.Duration(d.GraceHours)*time.Hour), loc); g < q && g >= s.base && !s.isMet(g) {
			was := s.graceMet(&d, g)
			s.credit(&d, g, m, a.Delta, at, true)
			// Only a period the grace activity newly meets changes the history.
			replay = replay || (g <= s.cur.p && !was && s.graceMet(&d, g))
		}
	}
	var after projection
	from := before.length // the length the user saw before the call
	if replay {
		rb := s.replay(&d, &old, now, loc, &fx)
		// A loss this call's advance reported and its activity repaired
		// is no news (docs/behaviour.md, streak notifications).
		fx.Notifications = slices.DeleteFunc(fx.Notifications, func(n Notification) bool {
			if n.Kind == Lost && !rb.missed(&d, n.Period) {
				from = int64(n.Length)
				return true
			}
			return false
		})
		rb.release()
		after = s.project(&d, s.cur, curP, loc)
	} else {
		// Only the periods after the cursor changed: the run in progress.
		s.run(&d, &s.cur, now, loc, maxPeriod, now, &notifier{d: &d, fx: &fx}, nil)
		after = s.project(&d, s.cur, curP, loc)
		if after.length > 0 && after.length != before.length {
			r := Reach{Start: d.firstDate(after.started), Length: int(after.length)}
			if before.length > 0 && before.started == after.started {
				r.Before, r.Starts = []int{int(before.length)}, []Date{r.Start}
			}
			fx.Reached = append(fx.Reached, r)
		}
	}
	if after.length > before.length {
		k := Repaired
		if q == curP {
			fx.Extended = true
			k = Extended
			if before.length == 0 {
				k = Started
			}
		}
		fx.Notifications = append(fx.Notifications, Notification{Kind: k, Period: d.firstDate(q), Length: int(after.length), From: int(from), Freezes: int(s.cur.freezes)})
	}
	s.report(&d, now, loc, &fx)
	return s, fx, nil
}

// replay recomputes the cursor of s from its base after a change of facts in
// periods old had already settled, and notifies the differences: freezes
// consumed or refunded, earns not credited before, and the runs changed
// (Reached). A loss found in the rewritten past is not notified: only time
// passing loses a streak the user had (see Lost). It returns the new
// history, for the caller to release.
func (s *State) replay(d *Definition, old *State, now time.Time, loc *time.Location, fx *Effects) *recorder {
	ra, _, _ := old.history(d, now, loc)
	rb, cb, _ := s.history(d, now, loc)
	for i := range rb.out {
		p := s.base + int64(i)
		oa, ob := ra.out[i], rb.out[i]
		if p > old.cur.p {
			oa = oPending
		}
		switch {
		case ob == oFrozen && oa != oFrozen:
			fx.Notifications = append(fx.Notifications, Notification{Kind: FreezeConsumed, Period: d.firstDate(p), Length: int(rb.length[i]), Freezes: int(rb.freezes[i])})
		case oa == oFrozen && ob != oFrozen:
			fx.Notifications = append(fx.Notifications, Notification{Kind: FreezeRefunded, Period: d.firstDate(p), Length: int(rb.length[i]), Freezes: int(rb.freezes[i])})
		}
	}
	for _, e := range rb.earns {
		if e.k > old.cur.earned {
			fx.Notifications = append(fx.Notifications, Notification{Kind: FreezeEarned, Freezes: int(e.freezes), Amount: int(e.amount)})
		}
	}
	fx.Reached = append(fx.Reached, d.reached(ra.runs(), rb.runs())...)
	ra.release()
	s.cur = cb
	return rb
}

// missed reports whether the period whose first day is first was lost in
// the history of r.
func (r *recorder) missed(d *Definition, first Date) bool {
	i := d.periodOfDay(first.dayNumber()) - r.base
	return i >= 0 && i < int64(len(r.out)) && r.out[i] == oLost
}

// Missed reports whether, in the history at now, the streak was lost at the
// period whose first day is first (see Notification Lost). The engine uses
// it to drop a loss that a later activity of the same call repaired.
func Missed(d Definition, s State, now time.Time, loc *time.Location, first Date) bool {
	loc = orUTC(loc)
	s = s.advance(&d, now, loc, &Effects{})
	rec, _, _ := s.history(&d, now, loc)
	defer rec.release()
	return rec.missed(&d, first)
}

// View returns the status at now in loc, the user's current zone. It equals
// the status after Advance(d, s, now, loc), so it is right even when no
// scheduled Advance has run.
func View(d Definition, s State, now time.Time, loc *time.Location) Status {
	loc = orUTC(loc)
	s = s.advance(&d, now, loc, &Effects{})
	curP := d.periodAt(now, loc)
	pr := s.project(&d, s.cur, curP, loc)
	st := Status{
		Length:      int(pr.length),
		Longest:     int(max(s.cur.longest, pr.length)),
		PeriodStart: d.start(curP, loc),
		PeriodEnd:   d.end(curP, loc),
		Met:         pr.curMet,
		Paused:      s.paused(&d, curP, loc),
		Freezes:     int(s.cur.freezes),
	}
	if s.lastExt != 0 {
		st.LastExtended = time.Unix(0, s.lastExt).In(loc)
	}
	if pr.length == 0 {
		return st
	}
	st.Started = d.start(pr.started, loc)
	if pr.pending >= 0 {
		st.GraceEnds = d.end(pr.pending, loc).Add(time.Duration(d.GraceHours) * time.Hour)
	}
	st.AtRisk = pr.pending >= 0 || (!pr.curMet && !st.Paused)
	q := curP
	if pr.curMet {
		q++
	}
	// A paused (or skipped) period cannot be missed: the deadline is the end
	// of the first one that can.
	for i := 0; i < maxPauseLen+1 && (s.paused(&d, q, loc) || d.start(q, loc).Equal(d.end(q, loc))); i++ {
		q++
	}
	st.Expires = d.end(q, loc)
	return st
}

// NextDue returns the instant at which Advance next has something to do for
// s in loc: the end plus grace of the first unmet period while a streak is
// alive, or the next auto-earn while fewer than Max freezes are held. It is
// zero when nothing is due. The engine keeps users in a due-queue by it.
func NextDue(d Definition, s State, loc *time.Location) time.Time {
	loc = orUTC(loc)
	if !s.seen {
		return time.Time{}
	}
	var due int64 = maxPeriod
	fz := d.Freezes
	if every := fz.earnEvery(); every > 0 && s.cur.freezes < int64(fz.Max) {
		due = s.earnAt(s.cur.earned+1, every)
	}
	l := s.cur.length
	q := s.cur.p + 1
	for range maxPauseLen + 8 {
		if r, ok := s.restoreAt(q); ok && l < r.length {
			l = r.length
		}
		if s.isMet(q) || (l > 0 && s.graceMet(&d, q)) {
			l++
			q++
			continue
		}
		if s.forgiven(q) {
			q++
			continue
		}
		if l > 0 {
			due = min(due, d.end(q, loc).Add(time.Duration(d.GraceHours)*time.Hour).UnixNano())
			break
		}
		nm := min(s.nextMet(q), s.nextRestore(q+1))
		if nm == maxPeriod {
			break
		}
		q = nm
	}
	if due == maxPeriod {
		return time.Time{}
	}
	return time.Unix(0, due).In(loc)
}

// history replays the retained window and returns a recorder covering
// base..curP, with the open periods filled in as projected.
func (s *State) history(d *Definition, now time.Time, loc *time.Location) (*recorder, cursor, int64) {
	curP := d.periodAt(now, loc)
	rec := newRecorder(s.base, curP)
	c := s.baseCursor()
	s.run(d, &c, now, loc, maxPeriod, now, nil, rec)
	l, st := c.length, c.started
	for q := c.p + 1; q <= curP; q++ {
		if r, ok := s.restoreAt(q); ok && l < r.length {
			l, st = r.length, r.started
		}
		o := oPending
		if s.isMet(q) || (l > 0 && s.graceMet(d, q)) {
			if l == 0 {
				st = q
			}
			l++
			o = oMet
		}
		rec.settled(q, q, o, &cursor{length: l, started: st, freezes: c.freezes}, 0)
	}
	return rec, c, curP
}

// History returns the last n periods up to the current one (oldest first),
// at most RetainedPeriods(d.Frequency)+1.
func History(d Definition, s State, now time.Time, loc *time.Location, n int) []Period {
	loc = orUTC(loc)
	s = s.advance(&d, now, loc, &Effects{})
	rec, _, curP := s.history(&d, now, loc)
	from := max(s.base, curP-int64(n)+1, curP-d.Frequency.retain())
	out := make([]Period, 0, max(curP-from+1, 0))
	for p := from; p <= curP; p++ {
		i := p - s.base
		o := rec.out[i]
		met := o == oMet || o == oGraceMet
		out = append(out, Period{
			First:      d.firstDate(p),
			Start:      d.start(p, loc),
			End:        d.end(p, loc),
			Length:     int(rec.length[i]),
			Met:        met,
			UsedFreeze: o == oFrozen,
			UsedPause:  !met && s.paused(&d, p, loc) && o != oPending || o == oPaused,
			Missed:     o == oLost,
		})
	}
	rec.release()
	return out
}

// GrantFreeze gives the user one freeze (an admin grant). It is not capped:
// when the user then holds more than Freezes.Max, Effects.Warning is
// ExceedsMax. It fails with ErrConflict when too many grants are retained,
// and with a *ValidationError for Now outside the years 1900 to 2200.
func GrantFreeze(d Definition, s State, now time.Time, loc *time.Location) (State, Effects, error) {
	if err := checkNow(now); err != nil {
		return s, Effects{}, err
	}
	loc = orUTC(loc)
	var fx Effects
	s = s.advance(&d, now, loc, &fx)
	if len(s.grants) >= maxGrants {
		return s, fx, fmt.Errorf("%w: too many freeze grants in the retained window", gamifytype.ErrConflict)
	}
	// The grant's instant orders it among closings and earns in a replay; it is
	// never before what the cursor has already processed.
	at := max(now.UnixNano(), s.cur.at)
	if n := len(s.grants); n > 0 {
		at = max(at, s.grants[n-1])
	}
	s.grants = append(slices.Clip(s.grants), at)
	s.cur.freezes++
	s.cur.at = at
	if s.cur.freezes > int64(d.Freezes.Max) {
		fx.Warning = ExceedsMax
	}
	s.reportTime(&d, now, loc, &fx)
	return s, fx, nil
}

// RetainedPeriods is how many periods before the current one a State keeps
// (and History can return): 410 days, 62 weeks or 27 months.
func RetainedPeriods(f Frequency) int { return int(f.retain()) }

// restoreWindow is the first period of the Restore window: daily the last 90
// days, weekly since the week containing 1 January of the current year,
// monthly since 1 January of the previous year.
func (d *Definition) restoreWindow(now time.Time, loc *time.Location, curP int64) int64 {
	y := now.In(loc).Year()
	switch d.Frequency {
	case Weekly:
		return d.periodOfDay(Date{y, time.January, 1}.dayNumber())
	case Monthly:
		return int64(y-1) * 12
	}
	return curP - 89
}

// Restore raises the streak back to the longest length reached within the
// restore window (see restoreWindow); unmet periods still in their grace
// window are forgiven. When no longer length was reached, nothing changes and
// Effects.Warning is NothingToRestore. It fails with ErrConflict when too
// many restores are retained, and with a *ValidationError for Now outside
// the years 1900 to 2200.
func Restore(d Definition, s State, now time.Time, loc *time.Location) (State, Effects, error) {
	if err := checkNow(now); err != nil {
		return s, Effects{}, err
	}
	loc = orUTC(loc)
	var fx Effects
	s = s.advance(&d, now, loc, &fx)
	s.reportTime(&d, now, loc, &fx)
	rec, _, curP := s.history(&d, now, loc)
	var best, started int64
	for p := max(d.restoreWindow(now, loc, curP), s.base); p <= curP; p++ {
		if i := p - s.base; rec.length[i] > best {
			best, started = rec.length[i], rec.started[i]
		}
	}
	rec.release()
	if best <= s.shown {
		fx.Warning = NothingToRestore
		return s, fx, nil
	}
	if len(s.restores) >= maxRestores {
		return s, fx, fmt.Errorf("%w: too many restores in the retained window", gamifytype.ErrConflict)
	}
	old := s
	s.restores = append(slices.Clip(s.restores), restoreRec{at: now.UnixNano(), period: curP, from: min(s.cur.p+1, curP), length: best, started: started})
	from := s.project(&d, s.cur, curP, loc).length
	s.replay(&d, &old, now, loc, &fx).release()
	l := s.project(&d, s.cur, curP, loc).length
	fx.Notifications = append(fx.Notifications, Notification{Kind: Restored, Period: d.firstDate(curP), Length: int(l), From: int(from), Freezes: int(s.cur.freezes)})
	s.report(&d, now, loc, &fx)
	return s, fx, nil
}

// AddPause pauses the streak over the local dates from..to (inclusive, at
// most 366 days). from must not be before today in loc. A pause overlapping
// another fails with ErrConflict; a now outside the years 1900 to 2200 with
// a *ValidationError.
func AddPause(d Definition, s State, now time.Time, loc *time.Location, from, to Date) (State, Pause, error) {
	if err := checkNow(now); err != nil {
		return s, Pause{}, err
	}
	loc = orUTC(loc)
	var errs []error
	today := localDay(now, loc)
	switch {
	case !from.valid():
		errs = append(errs, gamifytype.Invalid("Pause.From", from, "must be a calendar date"))
	case from.dayNumber() < today:
		errs = append(errs, gamifytype.Invalid("Pause.From", from, "must not be before today ("+dateOfDay(today).String()+")"))
	}
	switch {
	case !to.valid():
		errs = append(errs, gamifytype.Invalid("Pause.To", to, "must be a calendar date"))
	case from.valid() && to.dayNumber() < from.dayNumber():
		errs = append(errs, gamifytype.Invalid("Pause.To", to, "must not be before From"))
	case from.valid() && to.dayNumber()-from.dayNumber() >= maxPauseLen:
		errs = append(errs, gamifytype.Invalid("Pause.To", to, "must be within 366 days of From"))
	}
	if len(errs) > 0 {
		return s, Pause{}, joinErrs(errs)
	}
	// Not advanced: that would swallow the notifications of period ends. A
	// pause starts today at the earliest, so no settled period changes.
	s = s.prepare(&d, now, loc)
	f, t := from.dayNumber(), to.dayNumber()
	live := 0
	for _, p := range s.pauses {
		if p.from <= t && p.to >= f {
			return s, Pause{}, fmt.Errorf("%w: pause overlaps pause %d", gamifytype.ErrConflict, p.id)
		}
		if p.to >= today {
			live++
		}
	}
	if len(s.pauses) >= maxPauses || live >= 8 {
		return s, Pause{}, fmt.Errorf("%w: too many pauses", gamifytype.ErrConflict)
	}
	s.nextPause++
	p := pauseRec{id: s.nextPause, from: f, to: t}
	s.pauses = append(slices.Clip(s.pauses), p)
	slices.SortFunc(s.pauses, func(a, b pauseRec) int { return int(a.from - b.from) })
	return s, p.public(), nil
}

func (p pauseRec) public() Pause {
	return Pause{ID: p.id, From: dateOfDay(p.from), To: dateOfDay(p.to)}
}

// RemovePause deletes pause id. A pause that has not started is removed; one
// in progress is cut to end yesterday (the days already paused stay paused);
// one that has ended cannot be removed (ErrConflict). An unknown id is
// ErrNotFound; a now outside the years 1900 to 2200 a *ValidationError.
func RemovePause(d Definition, s State, now time.Time, loc *time.Location, id uint32) (State, error) {
	if err := checkNow(now); err != nil {
		return s, err
	}
	loc = orUTC(loc)
	s = s.prepare(&d, now, loc) // see AddPause: periods before today keep their pauses
	today := localDay(now, loc)
	i := slices.IndexFunc(s.pauses, func(p pauseRec) bool { return p.id == id })
	if i < 0 {
		return s, fmt.Errorf("%w: pause %d", gamifytype.ErrNotFound, id)
	}
	p := s.pauses[i]
	switch {
	case p.to < today:
		return s, fmt.Errorf("%w: pause %d has ended", gamifytype.ErrConflict, id)
	case p.from >= today:
		s.pauses = slices.Delete(slices.Clone(s.pauses), i, i+1)
	default:
		s.pauses = slices.Clone(s.pauses)
		s.pauses[i].to = today - 1
	}
	return s, nil
}

// Pauses lists the retained pauses (past, current and future), by start.
func Pauses(s State) []Pause {
	out := make([]Pause, len(s.pauses))
	for i, p := range s.pauses {
		out[i] = p.public()
	}
	return out
}
