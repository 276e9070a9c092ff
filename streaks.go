package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// StreakFrequency is the length of a streak's periods: calendar days, weeks
// or months in the user's time zone.
type StreakFrequency string

// The streak frequencies.
const (
	StreakDaily   StreakFrequency = "daily"
	StreakWeekly  StreakFrequency = "weekly"
	StreakMonthly StreakFrequency = "monthly"
)

// StreakMode says how a streak's metric rules combine in a period.
type StreakMode string

// The modes: every rule's minimum must be reached (all, the default) or one
// of them (any).
const (
	StreakModeAll StreakMode = "all"
	StreakModeAny StreakMode = "any"
)

// Weekday is the first day of a weekly streak's periods. The empty Weekday
// means Monday, so that an unset field cannot silently mean Sunday.
type Weekday string

// The days of the week.
const (
	Monday    Weekday = "monday"
	Tuesday   Weekday = "tuesday"
	Wednesday Weekday = "wednesday"
	Thursday  Weekday = "thursday"
	Friday    Weekday = "friday"
	Saturday  Weekday = "saturday"
	Sunday    Weekday = "sunday"
)

var (
	streakFrequencies = map[StreakFrequency]streak.Frequency{StreakDaily: streak.Daily, StreakWeekly: streak.Weekly, StreakMonthly: streak.Monthly}
	streakModes       = map[StreakMode]streak.Mode{"": streak.ModeAll, StreakModeAll: streak.ModeAll, StreakModeAny: streak.ModeAny}
	weekdays          = map[Weekday]streak.Weekday{"": streak.DefaultWeekStart, Monday: streak.Monday, Tuesday: streak.Tuesday,
		Wednesday: streak.Wednesday, Thursday: streak.Thursday, Friday: streak.Friday, Saturday: streak.Saturday, Sunday: streak.Sunday}
)

// StreakFreezes configures a streak's freezes, which keep a run alive over
// an unmet period.
type StreakFreezes struct {
	Initial       int // granted when a user is first seen, at most Max
	Max           int // most freezes auto-earning tops up to, 0–100
	EarnAmount    int // freezes auto-earned each EarnEveryDays, 0–100
	EarnEveryDays int // 24-hour days between earns, from a user's earliest activity; 1–3660 when EarnAmount is set
}

// StreakKind is the kind of a StreakChanged notification. The
// notifications of one call (a Track, a whole TrackBatch, a restore, a
// scheduled period end) describe its net change per user and streak: at
// most one of started, extended and repaired, and lost only when time
// passing ended a streak the user had (docs/behaviour.md, "Streak
// notifications").
type StreakKind string

// The kinds of StreakChanged.
const (
	// StreakStarted: an on-time event of the call raised the length from 0;
	// Length is the length after the call.
	StreakStarted StreakKind = "started"
	// StreakExtended: an on-time event of the call raised a length above 0.
	StreakExtended StreakKind = "extended"
	// StreakLost: time passing settled a period unmet (no freeze, no pause)
	// and ended the streak the user had; Length is the lost length. Never
	// sent for a run only a late event rewrote in the past, nor for a loss
	// that a later event of the same call repaired.
	StreakLost StreakKind = "lost"
	// StreakFreezeConsumed: a freeze kept the streak over an unmet period.
	StreakFreezeConsumed StreakKind = "freeze_consumed"
	// StreakFreezeEarned: Amount freezes were auto-earned.
	StreakFreezeEarned StreakKind = "freeze_earned"
	// StreakFreezeRefunded: a late event met a frozen period: its freeze came back.
	StreakFreezeRefunded StreakKind = "freeze_refunded"
	// StreakRepaired: only late events of the call raised the length;
	// Period is the earliest period they repaired.
	StreakRepaired StreakKind = "repaired"
	// StreakRestored: StreaksAPI.Restore raised the length.
	StreakRestored StreakKind = "restored"
)

// String returns the kind's name, e.g. "freeze_consumed".
func (k StreakKind) String() string { return string(k) }

// StreakStatus is a user's streak as of now, computed from the clock.
type StreakStatus struct {
	Length       int       // met periods in the current run
	Longest      int       // longest run ever
	Started      time.Time // start of the run's first period; zero when Length is 0
	PeriodStart  time.Time // the current period, in the user's current zone
	PeriodEnd    time.Time
	Met          bool      // the current period is met
	Paused       bool      // a pause covers the current period, or the streak is inactive
	AtRisk       bool      // alive, and the current (or a previous, in grace) period is unmet
	Expires      time.Time // end of the current period while at risk, of the next once met; zero when Length is 0
	GraceEnds    time.Time // when a previous unmet period in its grace window will be missed; else zero
	LastExtended time.Time // the latest event counted in a met period; zero if none
	Freezes      int       // freezes held
}

// StreakPeriod is one period of a user's streak history.
type StreakPeriod struct {
	First      Date // first day of the period
	Start, End time.Time
	Length     int  // streak length at the end of the period (so far, for the current one)
	Met        bool // met, on its own or with its grace window
	UsedFreeze bool
	UsedPause  bool // unmet and covered by a pause or by the streak's inactive time
	Missed     bool // the streak was lost at this period
}

// StreakPause is a pause of a user's streak over the local dates From..To
// inclusive.
type StreakPause struct {
	ID       uint32
	From, To Date
}

func pauseOf(p streak.Pause) StreakPause {
	return StreakPause{ID: p.ID, From: Date(p.From), To: Date(p.To)}
}

// StreakMetric is one counting metric of a streak: its positive change within
// a period must reach Min.
type StreakMetric struct {
	Metric string
	Min    Amount
}

// Streak defines a streak: consecutive periods in which users meet the
// metric rules. See docs/behaviour.md#streaks for the rules.
type Streak struct {
	Key         string // immutable, [A-Za-z0-9_-]{1,64}
	Name        string // display name, required
	Description string // optional
	// Order is the streak's position for the game's own displays; the engine
	// keeps it and does not sort by it (List is in creation order).
	Order     int
	Frequency StreakFrequency // daily, weekly or monthly; a change restarts every user's run
	WeekStart Weekday         // weekly streaks; empty means Monday; a change restarts every run
	Metrics   []StreakMetric  // 1–16 active metrics, each once
	Mode      StreakMode      // all (the default) or any
	// GraceHours after a period's end still count toward it (at most 22 for
	// daily, 166 for weekly, 670 for monthly streaks).
	GraceHours     int
	Freezes        StreakFreezes
	Personalizable bool // users may set their own minimums (Preferences.Streak)
	// Default marks the streak that event results report; only an active
	// streak can be it. Setting it clears it on the others; Deactivate and
	// Delete clear it. Without one, results report the first created active
	// streak.
	Default bool
	// Milestones are run lengths that pay an achievement, a reward or
	// points, once per run (see StreakMilestone); at most 32.
	Milestones []StreakMilestone `json:",omitempty"`
	// Status is active (the default), inactive or archived; see Activate,
	// Deactivate, Delete.
	Status  Status
	Created time.Time
	Updated time.Time
	// Inactive lists when the streak was inactive, oldest first; the last
	// is open (zero To) while it is inactive. The engine keeps it (Activate
	// and Deactivate change it; Patch refuses a change): an event is judged
	// by the status at its own time. Create takes it from an export (see
	// StreaksAPI.Create); left empty, a streak created inactive was
	// inactive since ever.
	Inactive []Interval `json:",omitempty"`

	ref uint32
	def streak.Definition // the validated pure definition
}

// storedStreak keeps the streak's Inactive under "off", its name since the
// intervals were kept (the embedded Inactive is left empty).
type storedStreak struct {
	Streak
	Ref uint32            `json:"ref"`
	Off []streak.Interval `json:"off,omitempty"`
}

func (s *Streak) stored() storedStreak {
	st := storedStreak{Streak: *s, Ref: s.ref, Off: s.Inactive}
	st.Streak.Inactive = nil
	return st
}

// definition converts s to the pure definition; field errors name "Streak.…".
func (s *Streak) definition() (streak.Definition, error) {
	var errs []error
	seen := map[string]bool{}
	invalid := func(field string, v any, reason string) {
		errs = append(errs, gamifytype.Invalid(field, v, reason))
		seen[field] = true
	}
	freq, ok := streakFrequencies[s.Frequency]
	if !ok {
		invalid("Streak.Frequency", s.Frequency, "must be daily, weekly or monthly")
	}
	ws, ok := weekdays[s.WeekStart]
	if !ok {
		invalid("Streak.WeekStart", s.WeekStart, "must be a weekday such as monday")
	}
	mode, ok := streakModes[s.Mode]
	if !ok {
		invalid("Streak.Mode", s.Mode, "must be all or any")
	}
	fz := s.Freezes
	d := streak.Definition{
		Key: s.Key, Name: s.Name, Frequency: freq, WeekStart: ws, Mode: mode, GraceHours: s.GraceHours,
		Freezes:        streak.Freezes{Initial: fz.Initial, Max: fz.Max, EarnAmount: fz.EarnAmount, EarnEveryDays: fz.EarnEveryDays},
		Personalizable: s.Personalizable, Off: s.Inactive,
	}
	for _, m := range s.Metrics {
		d.Metrics = append(d.Metrics, streak.MetricRule{Metric: m.Metric, Min: m.Min})
	}
	if err := d.Validate(); err != nil {
		for _, e := range flatten(err) {
			if ve, ok := e.(*gamifytype.ValidationError); !ok || !seen[ve.Field] {
				errs = append(errs, e)
			}
		}
	}
	return d, errors.Join(errs...)
}

// flatten returns the errors joined in err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Validate reports every bad field of a streak to create.
func (s *Streak) Validate() error {
	_, err := s.definition()
	errs := []error{validateMilestones(s.Milestones)}
	if err != nil {
		for _, e := range flatten(err) {
			if ve, ok := e.(*gamifytype.ValidationError); !ok || ve.Field != "Streak.Name" {
				errs = append(errs, e)
			}
		}
	}
	return errors.Join(append(errs, validateName("Streak", s.Name),
		gamifytype.CheckText("Streak.Description", s.Description, gamifytype.MaxTextLen))...)
}

// normalize fills the defaults a stored streak spells out.
func (s *Streak) normalize() {
	s.Mode = cmp.Or(s.Mode, StreakModeAll)
	if s.Frequency == StreakWeekly {
		s.WeekStart = cmp.Or(s.WeekStart, Monday)
	}
}

// userStreak is one user's state for one streak, with when it next needs
// Advance (persisted so that Open rebuilds the due-queue without profiles).
type userStreak struct {
	Ref uint32
	Due int64 // Unix ns, 0 for nothing due
	St  streak.State
}

// scanStreaks calls fn with the ref and due time of each streak of an
// encoded userState, and its encoded streak.State, without decoding the
// rest (Open reads these of every user), until fn stops it. It returns the
// user's LastEvent.
func scanStreaks(b []byte, fn func(x userStreak, st []byte) (stop bool, err error)) (lastEvent int64, err error) {
	if len(b) < 1 || b[0] != stateVersion {
		return 0, errCorruptState
	}
	r := decoder{b: b[1:]}
	r.uvarint()
	r.varint()
	lastEvent = r.varint()
	for n := r.uvarint(); n > 0 && !r.err; n-- {
		r.uvarint()
		r.varint()
		r.uvarint()
	}
	for n := r.uvarint(); n > 0 && !r.err; n-- {
		x := userStreak{Ref: uint32(r.uvarint()), Due: r.varint()}
		if r.err || len(r.b) < 4 {
			return lastEvent, errCorruptState
		}
		l := binary.BigEndian.Uint32(r.b)
		if uint64(l) > uint64(len(r.b)-4) {
			return lastEvent, errCorruptState
		}
		if stop, err := fn(x, r.b[4:4+l]); stop || err != nil {
			return lastEvent, err
		}
		r.b = r.b[4+l:]
	}
	if r.err {
		return lastEvent, errCorruptState
	}
	return lastEvent, nil
}

func (s *userState) streak(ref uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Streaks, ref, func(x userStreak, r uint32) int { return cmp.Compare(x.Ref, r) })
}

// StreaksAPI administers streaks and reads them across users. Get it from
// Engine.Streaks.
//
// An inactive streak (Deactivate, or created with Status inactive) is out of
// use for a while: events do not count toward it (not even late events
// dated while it was inactive), its period ends are not processed, and admin
// changes to users' streaks (GrantFreezes, Restore, AddPause, RemovePause)
// are refused with ErrConflict. Users' states are kept and still readable.
// Every period that overlaps the inactive time (its grace window included)
// and that a user had not met is treated as paused for every user: it
// neither adds to nor breaks a run, so Activate resumes runs where they
// were, and reads show those periods as paused (StreakStatus.Paused,
// StreakPeriod.UsedPause). A period met before the streak was deactivated
// still counts.
type StreaksAPI struct{ e *Engine }

// Streaks returns the streaks API.
func (e *Engine) Streaks() StreaksAPI { return StreaksAPI{e} }

const defStreak = "streak/"

// Create defines a streak. Its metrics must be active metrics. A key in
// use, even by an archived streak, is ErrConflict. Inactive, from an
// export, gives the intervals it was inactive (the rules:
// docs/behaviour.md, "Status"); left empty, a streak created inactive is
// inactive since ever.
func (a StreaksAPI) Create(ctx context.Context, s Streak) (Streak, error) {
	if err := a.e.live(); err != nil {
		return Streak{}, err
	}
	if err := s.Validate(); err != nil {
		return Streak{}, err
	}
	c, err := createDef(ctx, a.e, streaks, s)
	if err != nil {
		return Streak{}, fmt.Errorf("create streak %s: %w", s.Key, err)
	}
	return c, nil
}

// createStreak stores a new, validated streak.
func (t *txn) createStreak(s Streak) (Streak, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.streaks[s.Key]; ok {
		return Streak{}, fmt.Errorf("%w: streak %s exists", ErrConflict, s.Key)
	}
	switch s.Status {
	case "":
		s.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Streak{}, gamifytype.Invalid("Streak.Status", s.Status, "must be active (the default) or inactive")
	}
	if s.Default && s.Status != StatusActive {
		return Streak{}, gamifytype.Invalid("Streak.Default", true, "an inactive streak cannot be the default")
	}
	off, err := createdOff("Streak.Inactive", s.Inactive, s.Status, t.now)
	if err = errors.Join(err, cat.checkStreakMetrics(nil, &s), cat.checkMilestoneRefs(nil, &s)); err != nil {
		return Streak{}, err
	}
	s.normalize()
	s.Created, s.Updated = stamp(t.now), stamp(t.now)
	s.Inactive = off
	s.def, _ = s.definition()
	cat.lastStreakRef++
	s.ref = cat.lastStreakRef
	t.putStreak(&s)
	return s, nil
}

// checkStreakMetrics verifies that the metrics of s that old does not count
// already are active metrics (a metric deactivated since does not block
// edits of other fields).
func (c *catalog) checkStreakMetrics(old, s *Streak) error {
	var errs []error
	for i, m := range s.Metrics {
		if old != nil && slices.ContainsFunc(old.Metrics, func(o StreakMetric) bool { return o.Metric == m.Metric }) {
			continue
		}
		if mm, ok := c.metrics[m.Metric]; !ok || mm.Status != StatusActive {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Streak.Metrics[%d].Metric", i), m.Metric, "is not an active metric"))
		}
	}
	return errors.Join(errs...)
}

func (t *txn) putStreak(s *Streak) {
	cat := t.catalogForWrite()
	if s.Default {
		for _, o := range cat.streaks {
			if o.Default && o.Key != s.Key {
				c := *o
				c.Default = false
				cat.streaks[c.Key], cat.streakByRef[c.ref] = &c, &c
				t.putJSON(store.Definitions, []byte(defStreak+c.Key), c.stored())
			}
		}
	}
	cat.streaks[s.Key], cat.streakByRef[s.ref] = s, s
	cat.indexStreaks()
	t.putJSON(store.Definitions, []byte(defStreak+s.Key), s.stored())
}

// indexStreaks recomputes which active streaks count each metric, and the
// streak event results report.
func (c *catalog) indexStreaks() {
	c.metricStreaks = map[string][]*Streak{}
	c.defaultStreak = nil
	for ref := uint32(1); ref <= c.lastStreakRef; ref++ {
		s, ok := c.streakByRef[ref]
		if !ok || s.Status != StatusActive {
			continue
		}
		for _, m := range s.Metrics {
			c.metricStreaks[m.Metric] = append(c.metricStreaks[m.Metric], s)
		}
		if c.defaultStreak == nil || (s.Default && !c.defaultStreak.Default) {
			c.defaultStreak = s
		}
	}
}

// Get returns a streak, archived or not, or ErrNotFound.
func (a StreaksAPI) Get(ctx context.Context, key string) (Streak, error) {
	return getDef(a.e, "streak", key, func(c *catalog) map[string]*Streak { return c.streaks })
}

// List returns streaks in creation order (not by Order), inactive ones
// included, archived ones only with IncludeArchived.
func (a StreaksAPI) List(ctx context.Context, opts ListOptions) ([]Streak, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Streak { return c.streaks },
		func(s *Streak) bool { return s.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *Streak) int { return cmp.Compare(x.ref, y.ref) })
}

// streaks describes streaks for the shared admin verbs.
var streaks = resource[Streak]{
	what: "streak", field: "Streak", kind: "streak", check: (*Streak).Validate,
	defs: func(c *catalog) map[string]*Streak { return c.streaks },
	clone: func(s Streak) Streak {
		s.Metrics = slices.Clone(s.Metrics)
		s.Milestones = slices.Clone(s.Milestones)
		s.Inactive = slices.Clone(s.Inactive)
		return s
	},
	owned: func(s *Streak) owned { return owned{s.Key, s.Status, s.Created, s.Updated, s.Inactive} },
	replace: func(t *txn, old *Streak, s Streak) (Streak, error) {
		if err := s.Validate(); err != nil {
			return Streak{}, err
		}
		cat := t.catalogForWrite()
		if s.Default == old.Default {
			// Untouched by the edit: keep the current flag (an earlier item
			// of the same BulkPatch may have taken it).
			s.Default = cat.streaks[s.Key].Default
		} else if s.Default && old.Status != StatusActive {
			return Streak{}, gamifytype.Invalid("Streak.Default", true, "an inactive streak cannot be the default")
		}
		if err := errors.Join(cat.checkStreakMetrics(old, &s), cat.checkMilestoneRefs(old, &s)); err != nil {
			return Streak{}, err
		}
		s.normalize()
		s.ref, s.Inactive, s.Updated = old.ref, old.Inactive, stamp(t.now)
		s.def, _ = s.definition()
		t.putStreak(&s)
		return s, nil
	},
}

// Patch changes a streak: edit gets a copy of the stored streak and sets the
// fields to change; the others are kept. Key, Status, Created and Updated
// are the engine's (a change to one is a ValidationError), and an inactive
// streak cannot be made the Default. Changing the frequency or week start
// restarts every user's run (freezes and longest are kept). edit runs
// outside the writer and may run more than once if another write lands
// meanwhile, so it must only edit its argument.
func (a StreaksAPI) Patch(ctx context.Context, key string, edit func(*Streak)) (Streak, error) {
	return streaks.patch(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 streaks in one commit (as Patch does for
// one), reporting failures per item; it returns the streaks it changed.
func (a StreaksAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Streak)) ([]Streak, []Issue, error) {
	return streaks.bulkPatch(ctx, a.e, keys, edit)
}

// Activate puts an inactive streak back in use: events count again and
// users' runs resume where they were (see StreaksAPI). Activating an active
// streak changes nothing.
func (a StreaksAPI) Activate(ctx context.Context, key string) (Streak, error) {
	return a.setStatus(ctx, key, StatusActive)
}

// Deactivate takes a streak out of use until Activate (see StreaksAPI for
// what stops and what is kept). It clears Default. Deactivating an inactive
// streak changes nothing.
func (a StreaksAPI) Deactivate(ctx context.Context, key string) (Streak, error) {
	return a.setStatus(ctx, key, StatusInactive)
}

func (a StreaksAPI) setStatus(ctx context.Context, key string, to Status) (Streak, error) {
	if err := a.e.live(); err != nil {
		return Streak{}, err
	}
	return streaks.setStatus(ctx, a.e, key, to)
}

// setStreakStatus activates or deactivates a streak, keeping the intervals
// it was inactive (see StreaksAPI).
func (t *txn) setStreakStatus(key string, to Status) (Streak, error) {
	old, ok := t.catalogForWrite().streaks[key]
	if !ok || old.Status == StatusArchived {
		return Streak{}, ErrNotFound
	}
	if old.Status == to {
		return *old, nil
	}
	s := *old
	now := stamp(t.now)
	s.Status, s.Updated = to, now
	s.Inactive = offAfter(old.Inactive, now, to == StatusInactive)
	if to == StatusInactive {
		s.Default = false
	} else {
		// Users whose period ends came due while inactive are queued again.
		for _, id := range t.w.parkedStreaks[s.ref] {
			t.streakDue = append(t.streakDue, streakDueItem{id: id, due: t.now})
		}
		delete(t.w.parkedStreaks, s.ref)
	}
	s.def, _ = s.definition()
	t.putStreak(&s)
	return s, nil
}

// Delete archives a streak: it stops counting, disappears from lists and
// users' reads, and its key is never reused; users' states are kept.
func (a StreaksAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, streaks, key); err != nil {
		return fmt.Errorf("delete streak %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

func (t *txn) archiveStreak(key string) error {
	old, ok := t.catalogForWrite().streaks[key]
	if !ok || old.Status == StatusArchived {
		return ErrNotFound
	}
	s := *old
	s.Status, s.Default, s.Updated = StatusArchived, false, stamp(t.now)
	t.putStreak(&s)
	return nil
}

var _ = registerKind("streak", kindOps[Streak]{
	of:      func(string) resource[Streak] { return streaks },
	create:  checkedCreate((*Streak).Validate, (*txn).createStreak),
	status:  func(t *txn, _, key string, to Status) (Streak, error) { return t.setStreakStatus(key, to) },
	archive: func(t *txn, _, key string) error { return t.archiveStreak(key) },
})

// BulkCreate creates up to 100 streaks in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a StreaksAPI) BulkCreate(ctx context.Context, ss []Streak) ([]Streak, []Issue, error) {
	return bulkCreate(ctx, a.e, streaks, "Streaks", ss, func(s *Streak) string { return s.Key })
}

// BulkDelete archives up to 100 streaks in one commit, reporting failures
// per item.
func (a StreaksAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return bulkDelete(ctx, a.e, streaks, keys)
}

// personalized returns the definition to apply for a user: the user's own
// minimums when the streak allows it and the user enabled them.
func (s *Streak) personalized(p *profile) streak.Definition {
	prefs := p.Preferences.Streak
	if !s.Personalizable || !prefs.Enabled || len(prefs.Thresholds) == 0 {
		return s.def
	}
	pz := streak.Personalization{Enabled: true, Min: map[string]Amount{}}
	for _, r := range s.def.Metrics {
		if v, ok := prefs.Thresholds[r.Metric]; ok {
			if v.Sign() > 0 {
				pz.Min[r.Metric] = v
			}
		}
	}
	d, err := s.def.Personalize(pz)
	if err != nil {
		return s.def // validated when set; a streak edited since falls back to its own rules
	}
	return d
}

// StreakChanged is sent for each streak event of a user: started, extended,
// lost (Length is the lost length), freeze consumed/earned/refunded,
// repaired by a late event, restored; one call's notifications are its net
// change (see StreakKind).
type StreakChanged struct {
	User    string
	Streak  string
	Kind    StreakKind
	Period  Date // first day of the period concerned
	Length  int
	Freezes int
	Amount  int // freezes earned
	At      time.Time
}

// UserID implements Notification.
func (n StreakChanged) UserID() string { return n.User }

// StreakLengthChanged reports the change of a user's streak length made by
// one call (a batch included: one per user and streak, From before the call,
// To after it; none when the length is back where it was). Streak
// achievements and points "streak" triggers follow the runs of the history
// instead, so that they do not depend on the arrival order.
type StreakLengthChanged struct {
	User     string
	Streak   string
	From, To int
	At       time.Time
}

// UserID implements Notification.
func (n StreakLengthChanged) UserID() string { return n.User }

// setStreak stores a user's new streak state, queues its next due time and
// turns the effects into notifications.
//
// lookback is how many periods back the year-in-review runs are re-read
// (when the length or a run changed, or always when lookback > 2: a late
// event or a restore may change past periods).
func (t *txn) setStreak(u *userRec, s *Streak, st streak.State, fx *streak.Effects, loc *time.Location, lookback int) error {
	i, ok := u.s.streak(s.ref)
	if !ok {
		u.s.Streaks = slices.Insert(u.s.Streaks, i, userStreak{Ref: s.ref})
	}
	due := streak.NextDue(s.personalized(&u.p), st, loc)
	var dueNs int64
	if !due.IsZero() {
		dueNs = due.UnixNano()
	}
	x := &u.s.Streaks[i]
	x.St = st
	if x.Due != dueNs || !ok { // most events of a period leave it unchanged
		x.Due = dueNs
		t.streakDue = append(t.streakDue, streakDueItem{id: streakDueID(s.ref, u.p.ID), due: due})
		if t.w.remindOn() {
			t.remindUsers = append(t.remindUsers, u.p.ID) // the reminder deadline moved
		}
	}
	for _, n := range fx.Notifications {
		if t.netStreaks && (n.Kind == streak.Started || n.Kind == streak.Extended || n.Kind == streak.Repaired) {
			t.raiseFrom = append(t.raiseFrom, noteFrom{len(t.notes), n.From})
		}
		t.notes = append(t.notes, StreakChanged{User: u.p.ID, Streak: s.Key, Kind: StreakKind(n.Kind.String()), Period: Date(n.Period),
			Length: n.Length, Freezes: n.Freezes, Amount: n.Amount, At: t.now})
	}
	for _, tr := range fx.Transitions {
		t.notes = append(t.notes, StreakLengthChanged{User: u.p.ID, Streak: s.Key, From: tr.From, To: tr.To, At: t.now})
	}
	if lookback > 2 || (lookback > 0 && (len(fx.Transitions) > 0 || len(fx.Reached) > 0)) { // a call may lose and restart a run: no net transition
		t.recordStreakYears(u, s, st, loc, lookback)
	}
	// Rewards tied to lengths follow the runs of the history, not the
	// current length: each is paid once per run, whatever the arrival order.
	longest := 0
	// A restore gives a run back: a run whose latest periods it moves into
	// the restored one is shorter, but keeps what it was paid.
	forgive := len(fx.Reached) > 0 && slices.ContainsFunc(fx.Notifications, func(n streak.Notification) bool { return n.Kind == streak.Restored })
	for _, r := range fx.Reached {
		if err := t.settleTriggerRuns(u, s, r, forgive); err != nil {
			return err
		}
		if err := t.applyPoints(u, func(rs points.Rules, st points.State) (points.State, points.Effects, error) {
			ns, pfx, err := points.OnStreak(rs, st, t.pointsUser(u), s.Key, r, t.attributedAt()) // boosts and status of the event's time
			if err == nil && len(pfx.Awards) > 0 {
				t.recordTriggerPaid(u, s, r, t.w.cat.points.systems[rs.System.Key], pfx.Awards)
			}
			return ns, pfx, err
		}); err != nil {
			return err
		}
		longest = max(longest, r.Length)
	}
	if len(fx.Reached) > 0 {
		u.s.TrigPaid = pruneTriggerPaid(u.s.TrigPaid, t.now)
	}
	if longest > 0 {
		t.streakAchievements(u, s, longest)
	}
	if len(s.Milestones) > 0 && len(fx.Reached) > 0 {
		if err := t.payMilestones(u, s, fx.Reached, forgive); err != nil {
			return err
		}
	}
	if n := len(fx.Transitions); n > 0 && len(t.w.cat.streakBoards[s.Key]) > 0 {
		return t.streakBoardsChanged(u, s, fx.Transitions[n-1].To)
	}
	return nil
}

// noteFrom is the length before a raise note (started, extended,
// repaired) at index i of txn.notes.
type noteFrom struct{ i, from int }

// netStreakNotes rewrites the streak notes of a call of several events so
// that, per user and streak, they describe the call's net change as a
// single event's do (docs/behaviour.md, "Streak notifications"): a lost that
// a later event of the call repaired is dropped; the raises become one
// (started or extended when an on-time event took part, else repaired for
// the earliest period repaired; the length after the call); the length
// changes become one (dropped when the length is back where it was).
func (t *txn) netStreakNotes() {
	type key struct{ user, streak string }
	type group struct {
		lost, raise, length []int
	}
	var groups map[key]*group
	var order []key
	at := func(k key) *group {
		if groups == nil {
			groups = map[key]*group{}
		}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		return g
	}
	for i, n := range t.notes {
		switch n := n.(type) {
		case StreakChanged:
			switch n.Kind {
			case StreakLost:
				at(key{n.User, n.Streak}).lost = append(at(key{n.User, n.Streak}).lost, i)
			case StreakStarted, StreakExtended, StreakRepaired:
				at(key{n.User, n.Streak}).raise = append(at(key{n.User, n.Streak}).raise, i)
			}
		case StreakLengthChanged:
			at(key{n.User, n.Streak}).length = append(at(key{n.User, n.Streak}).length, i)
		}
	}
	if len(order) == 0 {
		return
	}
	drop := make([]bool, len(t.notes))
	for _, k := range order {
		g := groups[k]
		if len(g.raise) == 0 && len(g.length) < 2 {
			continue
		}
		before := -1 // the length before the call, when a loss of the call is dropped
		if len(g.raise) > 0 {
			for _, i := range g.lost {
				if i < g.raise[len(g.raise)-1] && !t.stillMissed(t.notes[i].(StreakChanged)) {
					drop[i] = true
					before = t.notes[i].(StreakChanged).Length
				}
			}
		}
		if len(g.raise) > 1 {
			last := g.raise[len(g.raise)-1]
			n := t.notes[last].(StreakChanged)
			onTime, from := false, -1
			for j, i := range g.raise {
				r := t.notes[i].(StreakChanged)
				if r.Kind != StreakRepaired {
					onTime, n.Period = true, r.Period
				} else if !onTime && dateBefore(r.Period, n.Period) {
					n.Period = r.Period
				}
				if j == 0 {
					from = t.raiseBefore(i)
				}
				if i != last {
					drop[i] = true
				}
			}
			if before >= 0 {
				from = before
			}
			switch {
			case !onTime:
				n.Kind = StreakRepaired
			case from == 0:
				n.Kind = StreakStarted
			default:
				n.Kind = StreakExtended
			}
			t.notes[last] = n
		}
		if len(g.length) > 1 {
			first := t.notes[g.length[0]].(StreakLengthChanged)
			last := g.length[len(g.length)-1]
			n := t.notes[last].(StreakLengthChanged)
			n.From = first.From
			t.notes[last] = n
			for _, i := range g.length[:len(g.length)-1] {
				drop[i] = true
			}
			drop[last] = n.From == n.To
		}
	}
	j := 0
	for i, n := range t.notes {
		if !drop[i] {
			t.notes[j] = n
			j++
		}
	}
	clear(t.notes[j:])
	t.notes = t.notes[:j]
}

// raiseBefore returns the length before the raise note at index i.
func (t *txn) raiseBefore(i int) int {
	for _, r := range t.raiseFrom {
		if r.i == i {
			return r.from
		}
	}
	return 0
}

// stillMissed reports whether the loss n reports is still in the user's
// streak history at the end of the call.
func (t *txn) stillMissed(n StreakChanged) bool {
	u := t.users[n.User]
	s := t.w.cat.streaks[n.Streak]
	if u == nil || s == nil {
		return true
	}
	i, ok := u.s.streak(s.ref)
	if !ok {
		return true
	}
	return streak.Missed(s.personalized(&u.p), u.s.Streaks[i].St, t.now, t.w.userLocation(&u.p), streak.Date(n.Period))
}

type streakDueItem struct {
	id  string
	due time.Time
}

func streakDueID(ref uint32, user string) string {
	return strconv.FormatUint(uint64(ref), 10) + "/" + user
}

func parseStreakDueID(id string) (uint32, string, bool) {
	r, user, ok := strings.Cut(id, "/")
	n, err := strconv.ParseUint(r, 10, 32)
	return uint32(n), user, ok && err == nil
}

// trackStreaks applies an event to every active streak counting its metric.
func (t *txn) trackStreaks(u *userRec, m *Metric, ev *validEvent, res *EventResult) error {
	cat := t.w.cat
	if u.p.Preferences.Streak.OptOut {
		return nil // opted out: the event counts toward no streak
	}
	loc := t.w.userLocation(&u.p)
	for _, s := range cat.metricStreaks[m.Key] {
		if len(s.Inactive) > 0 && s.def.OffAt(ev.at) {
			continue // dated while the streak was inactive
		}
		var old streak.State
		if i, ok := u.s.streak(s.ref); ok {
			old = u.s.Streaks[i].St
		}
		d := s.personalized(&u.p)
		st, fx, err := streak.Apply(d, old, streak.Activity{Metric: m.Key, Delta: ev.value, At: ev.at, Loc: loc}, t.now)
		if err != nil {
			return err
		}
		// Periods back to the event's (an upper bound in days), for the
		// yearly runs: a late event can fill and join past periods.
		lookback := int(localDay(t.now, loc)-localDay(ev.at, loc)) + 2
		switch s.Frequency {
		case StreakWeekly:
			lookback = lookback/7 + 2
		case StreakMonthly:
			lookback = lookback/28 + 2
		}
		if err := t.setStreak(u, s, st, &fx, loc, lookback); err != nil {
			return err
		}
		if s == cat.defaultStreak {
			v := streak.View(d, st, t.now, loc)
			res.Streak = t.streakResult()
			*res.Streak = StreakResult{Key: s.Key, Length: v.Length, Extended: fx.Extended, Expires: v.Expires, AtRisk: v.AtRisk, Freezes: v.Freezes}
		}
	}
	return nil
}

// UserStreak is a user's status in one streak.
type UserStreak struct {
	Key string
	StreakStatus
}

func (e *Engine) readStreak(id, key string) (*Streak, *profile, userStreak, error) {
	s, ok := e.cat.Load().streaks[key]
	if !ok || s.Status == StatusArchived {
		return nil, nil, userStreak{}, fmt.Errorf("streak %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	p, st, err := e.readParticipant(id, true)
	if err != nil {
		return nil, nil, userStreak{}, err
	}
	var us userStreak
	if i, ok := st.streak(s.ref); ok && !p.Preferences.Streak.OptOut {
		us = st.Streaks[i]
	}
	return s, p, us, nil
}

func (e *Engine) location(p *profile) *time.Location {
	if p.TZ != "" {
		if l, err := loadLocation(p.TZ); err == nil {
			return l
		}
	}
	return e.opts.DefaultTimezone
}

// StreakLeader is one row of StreaksAPI.Users.
type StreakLeader struct {
	User string
	StreakStatus
}

// Users returns the status of up to 100 users in a streak, sorted by length
// (longest first, then user id). Unknown users are reported as length 0.
func (a StreaksAPI) Users(ctx context.Context, key string, users []string) ([]StreakLeader, error) {
	if err := checkUserList("Users", users); err != nil {
		return nil, err
	}
	out := make([]StreakLeader, 0, len(users))
	for _, id := range users {
		us, err := a.e.Users().Streak(ctx, id, key)
		switch {
		case errors.Is(err, ErrNotFound) && a.e.cat.Load().streaks[key] != nil:
			out = append(out, StreakLeader{User: id})
		case err != nil:
			return nil, err
		default:
			out = append(out, StreakLeader{User: id, StreakStatus: us.StreakStatus})
		}
	}
	slices.SortStableFunc(out, func(x, y StreakLeader) int {
		return cmp.Or(cmp.Compare(y.Length, x.Length), cmp.Compare(x.User, y.User))
	})
	return out, nil
}

// StreakUserResult is the outcome for one user of a bulk streak operation.
type StreakUserResult struct {
	User    string
	Length  int
	Freezes int
	Warning string // e.g. "exceeds max freezes", "no streak to restore"
}

// GrantFreezes gives one freeze per entry of users (up to 100): a user
// listed n times gets n, each reported in turn. A grant past the streak's
// maximum is made and flagged with a warning. Unknown users are reported as
// issues; an empty id is a ValidationError naming it.
func (a StreaksAPI) GrantFreezes(ctx context.Context, key string, users []string) ([]StreakUserResult, []Issue, error) {
	return a.bulkUsers(ctx, key, users, "grant_freezes")
}

// Restore raises each of up to 100 users' streaks back to the longest length
// reached within the restore window (daily: 90 days; weekly: since the week
// of 1 January; monthly: since 1 January of the previous year). A user with
// nothing to restore gets a warning, not an error.
func (a StreaksAPI) Restore(ctx context.Context, key string, users []string) ([]StreakUserResult, []Issue, error) {
	return a.bulkUsers(ctx, key, users, "restore")
}

// bulkVerbs are the changes of bulkUsers, by the name its command logs.
var bulkVerbs = map[string]func(streak.Definition, streak.State, time.Time, *time.Location) (streak.State, streak.Effects, error){
	"grant_freezes": streak.GrantFreeze,
	"restore":       streak.Restore,
}

func (a StreaksAPI) bulkUsers(ctx context.Context, key string, users []string, verb string) ([]StreakUserResult, []Issue, error) {
	if err := checkUserIDs("Users", users); err != nil {
		return nil, nil, err
	}
	if err := a.e.live(); err != nil {
		return nil, nil, err
	}
	v, err := a.e.exec(ctx, a.e.now(), streakUsersOp.cmd(streakUsersArgs{Streak: key, Verb: verb, Users: users, Seed: newCodeSeed()}))
	if err != nil {
		return nil, nil, err
	}
	r := v.(streakUsersResult)
	return r.out, r.issues, nil
}

type streakUsersArgs struct {
	Streak string
	Verb   string // a key of bulkVerbs
	Users  []string
	Seed   string // for the codes of milestone rewards (txn.newCode)
}

type streakUsersResult struct {
	out    []StreakUserResult
	issues []Issue
}

var streakUsersOp = newOp("streak.bulk_users", func(t *txn, a streakUsersArgs) (streakUsersResult, error) {
	op, ok := bulkVerbs[a.Verb]
	if !ok {
		return streakUsersResult{}, fmt.Errorf("gamify: unknown streak change %s", gamifytype.Quote(a.Verb))
	}
	t.codeSeed = a.Seed
	s, err := t.w.cat.usableStreak(a.Streak)
	if err != nil {
		return streakUsersResult{}, err
	}
	var r streakUsersResult
	for i, id := range a.Users {
		u, err := t.user(id, false)
		if err == nil && u == nil {
			err = fmt.Errorf("user %q: %w", gamifytype.Quote(id), ErrNotFound)
		}
		var st streak.State
		var fx streak.Effects
		if err == nil {
			loc := t.w.userLocation(&u.p)
			if j, ok := u.s.streak(s.ref); ok {
				st = u.s.Streaks[j].St
			}
			d := s.personalized(&u.p)
			if st, fx, err = op(d, st, t.now, loc); err == nil {
				err = t.setStreak(u, s, st, &fx, loc, streak.RetainedPeriods(s.def.Frequency)+1) // a restore fills past periods
			}
			if err == nil {
				v := streak.View(d, st, t.now, loc)
				r.out = append(r.out, StreakUserResult{User: id, Length: v.Length, Freezes: v.Freezes, Warning: warningText(fx.Warning)})
			}
		}
		if err != nil {
			r.issues = append(r.issues, Issue{Index: i, Key: id, Severity: SeverityError, Message: err.Error(), Err: err})
		} else if fx.Warning != streak.NoWarning {
			r.issues = append(r.issues, Issue{Index: i, Key: id, Severity: SeverityWarning, Message: warningText(fx.Warning)})
		}
	}
	return r, nil
})

func warningText(w streak.Warning) string {
	switch w {
	case streak.ExceedsMax:
		return "exceeds max freezes"
	case streak.NothingToRestore:
		return "no streak to restore"
	}
	return ""
}

// AddPause pauses a user's streak over the local dates from..to (inclusive).
// from must not be before today in the user's time zone.
func (a StreaksAPI) AddPause(ctx context.Context, key, user string, from, to Date) (StreakPause, error) {
	v, err := a.userOp(ctx, addPauseOp.cmd(pauseArgs{Streak: key, User: user, From: from, To: to}), key, user)
	if err != nil {
		return StreakPause{}, err
	}
	return v.(StreakPause), nil
}

// RemovePause deletes a pause; one in progress is cut to end yesterday.
func (a StreaksAPI) RemovePause(ctx context.Context, key, user string, id uint32) error {
	_, err := a.userOp(ctx, removePauseOp.cmd(pauseArgs{Streak: key, User: user, ID: id}), key, user)
	return err
}

func (a StreaksAPI) userOp(ctx context.Context, c command, key, user string) (any, error) {
	if err := a.e.live(); err != nil {
		return nil, err
	}
	v, err := a.e.exec(ctx, a.e.now(), c)
	if err != nil {
		return nil, fmt.Errorf("streak %s of %q: %w", gamifytype.Quote(key), gamifytype.Quote(user), err)
	}
	return v, nil
}

type pauseArgs struct {
	Streak, User string
	From, To     Date   `json:",omitzero"`  // AddPause's
	ID           uint32 `json:",omitempty"` // RemovePause's
}

var (
	addPauseOp = newOp("streak.add_pause", func(t *txn, a pauseArgs) (StreakPause, error) {
		var p StreakPause
		err := t.changeStreak(a.Streak, a.User, func(d streak.Definition, st streak.State, now time.Time, loc *time.Location) (streak.State, error) {
			st, sp, err := streak.AddPause(d, st, now, loc, streak.Date(a.From), streak.Date(a.To))
			p = pauseOf(sp)
			return st, err
		})
		return p, err
	})
	removePauseOp = newOp("streak.remove_pause", func(t *txn, a pauseArgs) (any, error) {
		return nil, t.changeStreak(a.Streak, a.User, func(d streak.Definition, st streak.State, now time.Time, loc *time.Location) (streak.State, error) {
			return streak.RemovePause(d, st, now, loc, a.ID)
		})
	})
)

// changeStreak applies f to a user's state in an active streak.
func (t *txn) changeStreak(key, user string, f func(streak.Definition, streak.State, time.Time, *time.Location) (streak.State, error)) error {
	s, err := t.w.cat.usableStreak(key)
	if err != nil {
		return err
	}
	u, err := t.user(user, false)
	if err != nil || u == nil {
		return cmpErr(err, fmt.Errorf("user %q: %w", gamifytype.Quote(user), ErrNotFound))
	}
	var st streak.State
	if j, ok := u.s.streak(s.ref); ok {
		st = u.s.Streaks[j].St
	}
	loc := t.w.userLocation(&u.p)
	st, err = f(s.personalized(&u.p), st, t.now, loc)
	if err != nil {
		return err
	}
	return t.setStreak(u, s, st, &streak.Effects{}, loc, 0) // pauses start today or later
}

// usableStreak returns the active streak with key for a change of users'
// streaks: an inactive one is ErrConflict, an archived or unknown one
// ErrNotFound.
func (c *catalog) usableStreak(key string) (*Streak, error) {
	s, ok := c.streaks[key]
	switch {
	case !ok || s.Status == StatusArchived:
		return nil, fmt.Errorf("streak %s: %w", gamifytype.Quote(key), ErrNotFound)
	case s.Status != StatusActive:
		return nil, fmt.Errorf("%w: streak %s is inactive", ErrConflict, gamifytype.Quote(key))
	}
	return s, nil
}

// advanceStreaks processes the period ends of the given due items.
func (t *txn) advanceStreaks(items []string) error {
	for _, id := range items {
		ref, user, ok := parseStreakDueID(id)
		if !ok {
			continue
		}
		s, ok := t.w.cat.streakByRef[ref]
		if !ok || s.Status == StatusArchived {
			continue
		}
		if s.Status != StatusActive {
			// Kept for Activate, which queues it again; the stored due time
			// is unchanged, so a reopen queues it too.
			if t.w.parkedStreaks == nil {
				t.w.parkedStreaks = map[uint32][]string{}
			}
			t.w.parkedStreaks[ref] = append(t.w.parkedStreaks[ref], id)
			continue
		}
		u, err := t.user(user, false)
		if err != nil {
			return err
		}
		if u == nil || u.p.Preferences.Streak.OptOut {
			continue // an opted-out user's streaks stand still
		}
		j, ok := u.s.streak(ref)
		if !ok {
			continue
		}
		loc := t.w.userLocation(&u.p)
		st, fx := streak.Advance(s.personalized(&u.p), u.s.Streaks[j].St, t.now, loc)
		u.s.Streaks[j].Due = -1 // popped from the queue: make setStreak queue it again
		if err := t.setStreak(u, s, st, &fx, loc, 2); err != nil {
			return err
		}
	}
	return nil
}
