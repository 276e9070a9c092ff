package gamify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// Reminders (Trophy's streak_reminder, reactivation and recap) are
// notifications the engine emits on its own, at each user's local reminder
// hour. Users wait in a due-queue (user → the next instant a reminder may be
// due), so a RunDue costs O(users due). The queue is not stored: Open
// rebuilds it by one scan of the users, and every command that may bring a
// reminder closer (a user's first event of a local day, a change of a
// user's streak deadline, a profile change) queues its users again, earlier
// only. An entry that turns out early costs a look.
//
// Exactly once comes from markers kept in the user's profile, written in the
// same commit as the notification they record: the deadline last reminded,
// the reactivation messages sent since the last activity, the last week
// recapped. Processing a user twice, or replaying the command, finds the
// markers set and sends nothing more. Processing only reads the command's
// time, so it is the same at every replay.

// ReminderHourDefault is the local hour of reminders when neither
// ReminderOptions.Hour nor the user's Preferences.ReminderHour sets one:
// Trophy sends streak reminders 4 hours before local midnight.
const ReminderHourDefault = 20

// ReactivationDaysDefault returns the default ReminderOptions.ReactivationDays
// (Trophy's: 3, 5, 7, 14 and 30 days).
func ReactivationDaysDefault() []int { return []int{3, 5, 7, 14, 30} }

// ReminderOptions turn on reminders (Options.Reminders).
type ReminderOptions struct {
	// Hour is the local hour, 1–24 (24 is midnight), at which a user's
	// reminders go out unless Preferences.ReminderHour sets another.
	// Default: 20.
	Hour int
	// ReactivationDays are the idle days (24-hour days since the user's
	// latest event) after which the reactivation messages go out, in
	// increasing order, each 1–365, at most 10. Default: 3, 5, 7, 14, 30.
	ReactivationDays []int
	// Types are the reminders sent, among NotifyStreakReminder,
	// NotifyReactivation and NotifyRecap (each a user may still turn off
	// with the channel preferences of its type). Empty: all three.
	Types []NotificationType
}

// sends reports whether reminders of type typ go out.
func (o *ReminderOptions) sends(typ NotificationType) bool {
	return len(o.Types) == 0 || slices.Contains(o.Types, typ)
}

func (o *ReminderOptions) withDefaults() *ReminderOptions {
	c := *o
	if c.Hour == 0 {
		c.Hour = ReminderHourDefault
	}
	if len(c.ReactivationDays) == 0 {
		c.ReactivationDays = ReactivationDaysDefault()
	}
	c.ReactivationDays = slices.Clone(c.ReactivationDays)
	c.Types = slices.Clone(c.Types)
	return &c
}

func (o *ReminderOptions) validate() error {
	var errs []error
	if o.Hour < 0 || o.Hour > 24 {
		errs = append(errs, gamifytype.Invalid("Options.Reminders.Hour", o.Hour, "must be between 1 and 24"))
	}
	for i, typ := range o.Types {
		field := "Options.Reminders.Types[" + strconv.Itoa(i) + "]"
		switch {
		case typ != NotifyStreakReminder && typ != NotifyReactivation && typ != NotifyRecap:
			errs = append(errs, gamifytype.Invalid(field, typ, "must be streak_reminder, reactivation or recap"))
		case slices.Contains(o.Types[:i], typ):
			errs = append(errs, gamifytype.Invalid(field, typ, "is listed twice"))
		}
	}
	if len(o.ReactivationDays) > 10 {
		errs = append(errs, gamifytype.Invalid("Options.Reminders.ReactivationDays", len(o.ReactivationDays), "must hold at most 10 days"))
	}
	for i, d := range o.ReactivationDays {
		field := "Options.Reminders.ReactivationDays[" + strconv.Itoa(i) + "]"
		switch {
		case d < 1 || d > 365:
			errs = append(errs, gamifytype.Invalid(field, d, "must be between 1 and 365"))
		case i > 0 && d <= o.ReactivationDays[i-1]:
			errs = append(errs, gamifytype.Invalid(field, d, "must be greater than the day before it"))
		}
	}
	return errors.Join(errs...)
}

// StreakReminder is sent at the user's reminder hour when the user's default
// streak is at risk (alive, its period not yet met) and would be lost before
// the next reminder hour: once per deadline.
type StreakReminder struct {
	User   string
	Streak string // the default streak's key
	Length int
	// Deadline is when the streak is lost without activity: the end of the
	// current period, or of a previous unmet one's grace window.
	Deadline time.Time
	Channels []Channel // the channels the user's preferences allow, never empty
	At       time.Time // the reminder hour it is for (earlier than the commit after downtime)
}

// UserID implements Notification.
func (n StreakReminder) UserID() string { return n.User }

// Reactivation is sent at the user's reminder hour once the user has been
// idle for each of ReminderOptions.ReactivationDays.
type Reactivation struct {
	User string
	// Message is 1 for the first message since the latest activity, 2 for
	// the second…; after downtime only the latest one due is sent.
	Message      int
	DaysInactive int       // the ReactivationDays entry that fell due
	LastActive   time.Time // the user's latest event
	Channels     []Channel
	At           time.Time
}

// UserID implements Notification.
func (n Reactivation) UserID() string { return n.User }

// Recap is the weekly summary of a user's week (Monday to Monday, local),
// sent at the first reminder hour of the next week to users who had events
// in it.
type Recap struct {
	User      string
	WeekStart Date
	Events    uint64            // events dated in the week
	Points    map[string]Amount // per points system, the change in the week (systems that changed)
	// Streak is the default streak's length when the recap is sent (0 for
	// a user who opted out of streaks).
	Streak       int
	Achievements []string // keys of achievements completed in the week, in completion order
	Channels     []Channel
	At           time.Time
}

// UserID implements Notification.
func (n Recap) UserID() string { return n.User }

// remindRec is a user's reminder markers (see the comment at the top).
type remindRec struct {
	StreakFor int64 `json:"streakFor,omitempty"` // the Deadline last reminded (Unix ns)
	// StreakDay is the local day (days since 1970-01-01) of that deadline's
	// period, its last day: a change of zone moves the deadline's instant,
	// not the period it ends (0: not recorded, before this field).
	StreakDay int32 `json:"streakDay,omitempty"`
	IdleFrom  int64 `json:"idleFrom,omitempty"`  // the LastEvent IdleSent counts from
	IdleSent  int   `json:"idleSent,omitempty"`  // reactivation messages sent since IdleFrom
	RecapWeek int32 `json:"recapWeek,omitempty"` // local day of the last week considered (0: none; never a Monday)
}

var dailySchedules sync.Map // dailySchedKey → *dailySched

type dailySchedKey struct {
	hour int
	loc  *time.Location
}

// dailySched is the schedule of a reminder hour in a zone, shared by its
// users. It remembers its latest answers: the users of one hour and zone
// ask the same questions (their deadlines are the same period ends), and
// a cron step costs microseconds.
type dailySched struct {
	s    schedule.Schedule
	mu   sync.Mutex // guards memo
	memo map[int64]time.Time
}

// Next returns the first occurrence after t.
func (d *dailySched) Next(t time.Time) time.Time {
	k := t.UnixNano()
	d.mu.Lock()
	n, ok := d.memo[k]
	d.mu.Unlock()
	if ok {
		return n
	}
	n = d.s.Next(t)
	d.mu.Lock()
	if len(d.memo) >= 256 {
		clear(d.memo)
	}
	d.memo[k] = n
	d.mu.Unlock()
	return n
}

// daily is the schedule of a user's reminder hour.
func daily(hour int, loc *time.Location) *dailySched {
	k := dailySchedKey{hour % 24, loc}
	if s, ok := dailySchedules.Load(k); ok {
		return s.(*dailySched)
	}
	s, err := schedule.ParseCron(fmt.Sprintf("0 %d * * *", k.hour), loc)
	if err != nil {
		panic(err) // a constant form
	}
	d, _ := dailySchedules.LoadOrStore(k, &dailySched{s: s, memo: map[int64]time.Time{}})
	return d.(*dailySched)
}

// before returns the last occurrence of a daily schedule strictly before t.
func before(s *dailySched, t time.Time) time.Time {
	var last time.Time
	for o := s.Next(t.Add(-50 * time.Hour)); !o.IsZero() && o.Before(t); o = s.Next(o) {
		last = o
	}
	return last
}

// atOrAfter returns the first occurrence at or after t.
func atOrAfter(s *dailySched, t time.Time) time.Time { return s.Next(t.Add(-time.Nanosecond)) }

// reminderChannels returns the channels typ may use for p: the
// preference's list (all channels when the type is not set), without email
// when the user does not subscribe to e-mails. Empty means not sent.
func reminderChannels(p *profile, typ NotificationType) []Channel {
	chans, ok := p.Preferences.Notifications[typ]
	if !ok {
		chans = []Channel{ChannelEmail, ChannelPush}
	}
	var out []Channel
	for _, c := range chans {
		if c == ChannelEmail && !p.SubscribeToEmails || slices.Contains(out, c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// reminderView is what a reminder decision reads about one user.
type reminderView struct {
	ro    *ReminderOptions
	cat   *catalog
	p     *profile
	s     *userState
	loc   *time.Location
	sched *dailySched
}

func newReminderView(ro *ReminderOptions, cat *catalog, p *profile, s *userState, loc *time.Location) reminderView {
	return reminderView{ro: ro, cat: cat, p: p, s: s, loc: loc, sched: reminderSchedule(ro, p, loc)}
}

// reminderSchedule is the schedule of p's reminder hour.
func reminderSchedule(ro *ReminderOptions, p *profile, loc *time.Location) *dailySched {
	return daily(cmp.Or(p.Preferences.ReminderHour, ro.Hour), loc)
}

// eligible reports whether the user gets reminders at all: active users
// outside the control group.
func (v *reminderView) eligible() bool { return v.p.Active && !v.p.Control }

// defaultStreak returns the user's status in the default streak, if the
// user takes part in it.
func (v *reminderView) defaultStreak(now time.Time) (*Streak, streak.Status, bool) {
	s := v.cat.defaultStreak
	if s == nil || s.Status != StatusActive || v.p.Preferences.Streak.OptOut {
		return nil, streak.Status{}, false
	}
	var us userStreak
	if i, ok := v.s.streak(s.ref); ok {
		us = v.s.Streaks[i]
	}
	return s, streak.View(s.personalized(v.p), us.St, now, v.loc), true
}

// riskDeadline is when an at-risk streak is lost without activity.
func riskDeadline(st streak.Status) time.Time {
	if !st.GraceEnds.IsZero() {
		return st.GraceEnds
	}
	return st.Expires
}

// weekOf returns the local day of the Monday starting the week of day.
func weekOf(day int32) int32 { return day - int32((dayDate(day).Weekday()+6)%7) }

// dayStartIn is the first instant of a local day.
func dayStartIn(day int32, loc *time.Location) time.Time {
	y, m, d := dayDate(day).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// recapAt is when the recap of the week starting on local day week is due:
// the first reminder hour at or after the next week's start.
func (v *reminderView) recapAt(week int32) time.Time {
	return atOrAfter(v.sched, dayStartIn(week+7, v.loc))
}

// reactivationAt is when reactivation message i (0-based) is due.
func (v *reminderView) reactivationAt(i int) time.Time {
	idle := time.Duration(v.ro.ReactivationDays[i]) * 24 * time.Hour
	return atOrAfter(v.sched, time.Unix(0, v.s.LastEvent).Add(idle))
}

func (v *reminderView) idleSent(r remindRec) int {
	if r.IdleFrom == v.s.LastEvent {
		return r.IdleSent
	}
	return 0
}

// next returns the first instant after now at which a reminder may be due
// for the user with markers r, or zero for none until something changes.
func (v *reminderView) next(r remindRec, now time.Time) time.Time {
	if !v.eligible() {
		return time.Time{}
	}
	var due time.Time
	add := func(t time.Time) {
		if !t.IsZero() && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	if _, st, ok := v.defaultStreak(now); ok && st.Length > 0 {
		if d := riskDeadline(st); st.AtRisk && !v.reminded(r, d) {
			add(before(v.sched, d))
		} else {
			// Met (the next deadline is the end of the next period), or
			// reminded: look again after the deadline.
			add(before(v.sched, st.Expires))
			add(v.sched.Next(d))
		}
	}
	if v.s.LastEvent != 0 {
		if i := v.idleSent(r); i < len(v.ro.ReactivationDays) {
			add(v.reactivationAt(i))
		}
		if w := weekOf(localDay(time.Unix(0, v.s.LastEvent), v.loc)); r.RecapWeek < w {
			add(v.recapAt(w))
		}
	}
	if !due.IsZero() && !due.After(now) {
		due = v.sched.Next(now) // never due again at once: a drain must end
	}
	return due
}

// remindOn reports whether reminders are on.
func (w *writer) remindOn() bool { return w.opts.Reminders != nil }

// noteActivity queues u's reminders again on its first event of local day
// day (a streak may have started, a week become active).
func (t *txn) noteActivity(u *userRec, day int32) {
	i, ok := slices.BinarySearchFunc(u.s.Days, eventsDayRef, func(d dayAgg, r uint32) int {
		return int(int64(d.Ref) - int64(r))
	})
	if !ok || u.s.Days[i].Day < day {
		t.remindUsers = append(t.remindUsers, u.p.ID)
	}
}

// queueReminders, part of commit, queues the users whose next reminder may
// have moved earlier: those named by the command (remindUsers) and those
// whose profile changed, at their next reminder hour, a lower bound of
// reminderView.next (every reminder falls on a reminder hour) that costs
// the write path one schedule step; the processing there computes the
// exact next one. The users a reminder command processed are queued at
// that exact one (remindDue). An entry only moves earlier.
func (t *txn) queueReminders() {
	w := t.w
	push := func(id string, due time.Time) {
		if cur, ok := w.remindQueue.Due(id); due.IsZero() || ok && !due.Before(cur) {
			return
		}
		w.remindQueue.Push(id, due)
	}
	soon := func(u *userRec) {
		if !u.p.Active || u.p.Control {
			return
		}
		push(u.p.ID, reminderSchedule(w.opts.Reminders, &u.p, w.userLocation(&u.p)).Next(t.now))
	}
	for _, id := range t.remindUsers {
		if u := t.users[id]; u != nil {
			soon(u)
		}
	}
	if len(t.remindDue) == 0 { // a reminder command's own marker changes need no look sooner
		for _, u := range t.users {
			if u.profileDirty {
				soon(u)
			}
		}
	}
	for _, d := range t.remindDue {
		push(d.id, d.due)
	}
}

// remindProfile is the part of a stored profile the rebuild reads;
// encoding/json skips the rest without building it.
type remindProfile struct {
	ID          string `json:"id"`
	TZ          string `json:"tz"`
	Active      bool   `json:"active"`
	Control     bool   `json:"control"`
	Preferences struct {
		ReminderHour int
		Streak       StreakPreferences
	} `json:"preferences"`
	Remind remindRec `json:"remind"`
}

// remindState decodes, from an encoded userState, what reminders read: the
// latest event and the state of the streak ref (ref 0: none), without
// decoding the rest (a user's boards and yearly numbers are most of it).
func remindState(b []byte, ref uint32) (userState, error) {
	var s userState
	last, err := scanStreaks(b, func(x userStreak, st []byte) (bool, error) {
		if ref == 0 || x.Ref != ref {
			return false, nil
		}
		if err := x.St.UnmarshalBinary(st); err != nil {
			return true, err
		}
		s.Streaks = []userStreak{x}
		return true, nil
	})
	s.LastEvent = last
	return s, err
}

// rebuildRemindQueue queues the next reminder of every user who may have
// one: a user with an event in the reactivation window (the last
// ReactivationDays entry, plus the 7 days a late message may still go and
// two weeks for the recap), or whose default streak has work due. It reads
// each user's state, and the profile only of those users. It reads
// committed state outside the writer; entries only move earlier, so what
// the writer queued meanwhile is kept.
func (e *Engine) rebuildRemindQueue() error {
	ro := e.opts.Reminders
	if ro == nil {
		return nil
	}
	cat, now := e.cat.Load(), e.now()
	recent := now.Add(-time.Duration(ro.ReactivationDays[len(ro.ReactivationDays)-1])*24*time.Hour - reactivationStale - 14*24*time.Hour).UnixNano()
	var items []streakDueItem
	err := e.db.View(func(tx *store.Tx) error {
		var ref uint32
		if cat.defaultStreak != nil {
			ref = cat.defaultStreak.ref
		}
		return tx.Scan(store.State, nil, func(k, v []byte) error {
			s, err := remindState(v, ref)
			if err != nil {
				return fmt.Errorf("uid %x: %w", k, err)
			}
			if s.LastEvent < recent && (len(s.Streaks) == 0 || s.Streaks[0].Due == 0) {
				return nil
			}
			id := tx.Get(store.UserIDs, k)
			pv := tx.Get(store.Users, id)
			if pv == nil {
				return nil
			}
			var rp remindProfile
			if err := json.Unmarshal(pv, &rp); err != nil {
				return fmt.Errorf("gamify: corrupt profile of %q: %w", id, err)
			}
			p := &profile{ID: rp.ID, TZ: rp.TZ, Active: rp.Active, Control: rp.Control, Remind: rp.Remind,
				Preferences: Preferences{ReminderHour: rp.Preferences.ReminderHour, Streak: rp.Preferences.Streak}}
			rv := newReminderView(ro, cat, p, &s, e.location(p))
			if due := rv.next(p.Remind, now); !due.IsZero() {
				items = append(items, streakDueItem{p.ID, due})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	e.queueEarlier(&e.w.remindQueue, items)
	return nil
}

// sendDueReminders processes the users whose reminders fell due, in chunks.
func (e *Engine) sendDueReminders(ctx context.Context, now time.Time) (int, error) {
	if !e.w.remindOn() {
		return 0, nil
	}
	return e.drainQueue(ctx, now, &e.w.remindQueue, sendRemindersOp)
}

var sendRemindersOp = newOp("reminder.send", func(t *txn, a dueArgs) (any, error) {
	return nil, t.sendReminders(a.IDs)
})

// sendReminders emits what is due at the command's time for each user and
// queues the user's next reminder. After downtime each kind sends at most
// one message, the latest that is still relevant: a streak reminder while
// its deadline is ahead, the latest reactivation message due (if at most 7
// days late), the recap of the latest week due.
func (t *txn) sendReminders(ids []string) error {
	ro := t.w.opts.Reminders
	if ro == nil {
		return nil
	}
	for _, id := range ids {
		// Read without a copy: most users looked at have nothing to send,
		// and a copy would rewrite their records.
		u, ok := t.users[id]
		if !ok {
			var err error
			if u, err = t.w.loadUser(id); err != nil {
				return err
			}
		}
		if u == nil {
			continue
		}
		v := newReminderView(ro, t.w.cat, &u.p, &u.s, t.w.userLocation(&u.p))
		if !v.eligible() {
			continue
		}
		r := u.p.Remind
		t.remindStreak(&v, &r)
		t.remindIdle(&v, &r)
		if err := t.remindRecap(&v, u.p.UID, &r); err != nil {
			return err
		}
		if r != u.p.Remind {
			w, err := t.user(id, false)
			if err != nil {
				return err
			}
			w.p.Remind = r
			w.profileDirty = true
		}
		t.remindDue = append(t.remindDue, streakDueItem{id, v.next(r, t.now)})
	}
	return nil
}

// channels are the channels a reminder of type typ goes out on: none if
// the engine does not send that type.
func (v *reminderView) channels(typ NotificationType) []Channel {
	if !v.ro.sends(typ) {
		return nil
	}
	return reminderChannels(v.p, typ)
}

// periodDay is the last local day of the period deadline d ends.
func (v *reminderView) periodDay(d time.Time) int32 { return localDay(d.Add(-time.Nanosecond), v.loc) }

// reminded says r holds the reminder of the period deadline d ends: the
// same instant, or the same period after the user's zone moved it.
func (v *reminderView) reminded(r remindRec, d time.Time) bool {
	return d.UnixNano() == r.StreakFor || (r.StreakDay != 0 && r.StreakDay == v.periodDay(d))
}

func (t *txn) remindStreak(v *reminderView, r *remindRec) {
	s, st, ok := v.defaultStreak(t.now)
	if !ok || st.Length == 0 || !st.AtRisk {
		return
	}
	d := riskDeadline(st)
	at := before(v.sched, d)
	if v.reminded(*r, d) || !d.After(t.now) || at.IsZero() || at.After(t.now) {
		return
	}
	r.StreakFor, r.StreakDay = d.UnixNano(), v.periodDay(d)
	if ch := v.channels(NotifyStreakReminder); len(ch) > 0 {
		t.notes = append(t.notes, StreakReminder{User: v.p.ID, Streak: s.Key, Length: st.Length, Deadline: d, Channels: ch, At: at})
	}
}

// reactivationStale is how late a reactivation message may still go out
// after downtime (or after reminders were turned on).
const reactivationStale = 7 * 24 * time.Hour

func (t *txn) remindIdle(v *reminderView, r *remindRec) {
	if v.s.LastEvent == 0 {
		return
	}
	sent, last := v.idleSent(*r), -1
	for i := sent; i < len(v.ro.ReactivationDays) && !v.reactivationAt(i).After(t.now); i++ {
		last = i
	}
	if last < 0 {
		return
	}
	r.IdleFrom, r.IdleSent = v.s.LastEvent, last+1
	at := v.reactivationAt(last)
	if t.now.Sub(at) >= reactivationStale {
		return // reminders turned on (or the engine back) long after: not news any more
	}
	if ch := v.channels(NotifyReactivation); len(ch) > 0 {
		t.notes = append(t.notes, Reactivation{User: v.p.ID, Message: last + 1, DaysInactive: v.ro.ReactivationDays[last],
			LastActive: time.Unix(0, v.s.LastEvent).UTC(), Channels: ch, At: at})
	}
}

func (t *txn) remindRecap(v *reminderView, uid uint64, r *remindRec) error {
	week := weekOf(localDay(t.now, v.loc)) - 7 // the week before this one
	if v.recapAt(week).After(t.now) {
		week -= 7 // this week's recap hour has not come: the latest due is the week before
	}
	if r.RecapWeek >= week {
		return nil
	}
	r.RecapWeek = week
	sum := func(ref uint32) (Amount, error) {
		var total Amount
		for _, d := range v.s.Days {
			if d.Ref == ref && d.Day >= week && d.Day < week+7 {
				total = total.Add(d.Change)
			}
		}
		for day := week; day < week+7; day++ {
			x, err := t.w.dailyValue(dailyKey(uid, ref, day))
			if err != nil {
				return Amount{}, err
			}
			total = total.Add(x)
		}
		return total, nil
	}
	events, err := sum(eventsDayRef)
	if err != nil || events.IsZero() {
		return err
	}
	rc := Recap{User: v.p.ID, WeekStart: dateOf(week), Events: uint64(events.Micros()), At: v.recapAt(week)}
	for _, ps := range v.s.Points {
		sys, ok := v.cat.points.systemByRef[ps.Ref]
		if !ok {
			continue
		}
		c, err := sum(pointsDayRef(ps.Ref))
		if err != nil {
			return err
		}
		if !c.IsZero() {
			if rc.Points == nil {
				rc.Points = map[string]Amount{}
			}
			rc.Points[sys.Key] = c
		}
	}
	if _, st, ok := v.defaultStreak(t.now); ok {
		rc.Streak = st.Length
	}
	from, to := dayStartIn(week, v.loc), dayStartIn(week+7, v.loc)
	done := v.s.Ach.Completions()
	slices.SortStableFunc(done, func(a, b achievement.Completion) int { return a.At.Compare(b.At) })
	for _, c := range done {
		if !c.At.Before(from) && c.At.Before(to) {
			rc.Achievements = append(rc.Achievements, c.Key)
		}
	}
	if rc.Channels = v.channels(NotifyRecap); len(rc.Channels) > 0 {
		t.notes = append(t.notes, rc)
	}
	return nil
}

// AtRiskQuery selects the users of StreaksAPI.AtRisk.
type AtRiskQuery struct {
	// Streak is the streak's key; empty means the default streak (none:
	// an empty page).
	Streak string
	// Within is how far ahead a deadline may be: positive, at most 31 days
	// (JSON in nanoseconds).
	Within time.Duration
	// Limit is the page size, 1–100. Default: 100.
	Limit int
	// After is the Next of the previous page; empty for the first page.
	After string
}

// AtRiskUser is one row of StreaksAPI.AtRisk.
type AtRiskUser struct {
	User   string
	Length int
	// Deadline is when the streak is lost without activity: the end of the
	// current period, or of a previous unmet one's grace window (as in
	// StreakReminder).
	Deadline time.Time
	Freezes  int // a held freeze would keep the streak past the deadline
}

// AtRiskPage is a page of StreaksAPI.AtRisk.
type AtRiskPage struct {
	Users []AtRiskUser
	// Next continues the walk in AtRiskQuery.After; empty when it is done.
	// A page may hold fewer than Limit users while Next is set.
	Next string
}

// atRiskScan bounds the queued users one AtRisk call looks at, so that a
// walk through many streaks that turn out safe holds nothing for long.
const atRiskScan = 2000

// AtRisk lists the users whose streak is at risk (alive, its period not yet
// met) with a deadline within q.Within from now, read from the streak's
// per-user due-queue: the cost is the users due in that window, not all
// users. Users come in the order the engine settles their periods (the
// deadline, plus the grace hours for a current period), then by id; a user
// whose streak changes between pages may be missed or listed twice. Users
// who opted out of streaks are never listed; control users are (they are
// tracked as usual), though reminders skip them. An inactive streak lists
// nobody; an unknown or archived one is ErrNotFound (a ValidationError
// naming AtRiskQuery.Streak).
func (a StreaksAPI) AtRisk(ctx context.Context, q AtRiskQuery) (AtRiskPage, error) {
	e := a.e
	if err := e.live(); err != nil {
		return AtRiskPage{}, err
	}
	var errs []error
	if q.Within <= 0 || q.Within > 31*24*time.Hour {
		errs = append(errs, gamifytype.Invalid("AtRiskQuery.Within", q.Within, "must be positive and at most 31 days"))
	}
	if q.Limit < 0 || q.Limit > 100 {
		errs = append(errs, gamifytype.Invalid("AtRiskQuery.Limit", q.Limit, "must be between 1 and 100"))
	}
	var after schedule.Item
	if q.After != "" {
		ns, id, ok := strings.Cut(q.After, ":")
		n, err := strconv.ParseInt(ns, 10, 64)
		if !ok || err != nil || id == "" {
			errs = append(errs, gamifytype.Invalid("AtRiskQuery.After", q.After, "is not a Next of AtRisk"))
		}
		after = schedule.Item{ID: id, Due: time.Unix(0, n)}
	}
	cat := e.cat.Load()
	s := cat.defaultStreak
	if q.Streak != "" {
		s = cat.streaks[q.Streak]
		if s == nil || s.Status == StatusArchived {
			errs = append(errs, gamifytype.NotFound("AtRiskQuery.Streak", q.Streak, "streak"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return AtRiskPage{}, err
	}
	if s == nil || s.Status != StatusActive {
		return AtRiskPage{Users: []AtRiskUser{}}, nil // [] in JSON, as every list read
	}
	limit := cmp.Or(q.Limit, 100)
	now := e.now()
	until := now.Add(q.Within)
	horizon := until.Add(time.Duration(s.GraceHours) * time.Hour)
	prefix := streakDueID(s.ref, "")
	page := AtRiskPage{Users: []AtRiskUser{}}
	var ids []schedule.Item
	more := false
	e.w.mu.Lock()
	e.w.streakQueue.AscendAfter(after.Due, after.ID, func(it schedule.Item) bool {
		if it.Due.After(horizon) {
			return false
		}
		if len(ids) == atRiskScan {
			more = true
			return false
		}
		if strings.HasPrefix(it.ID, prefix) {
			ids = append(ids, it)
		}
		return true
	})
	e.w.mu.Unlock()
	next := func(it schedule.Item) string { return strconv.FormatInt(it.Due.UnixNano(), 10) + ":" + it.ID }
	for _, it := range ids {
		if err := ctx.Err(); err != nil {
			return AtRiskPage{}, err
		}
		p, st, err := e.readUser(it.ID[len(prefix):], true)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return AtRiskPage{}, err
		}
		i, ok := st.streak(s.ref)
		if !ok || p.Preferences.Streak.OptOut {
			continue
		}
		v := streak.View(s.personalized(p), st.Streaks[i].St, now, e.location(p))
		d := riskDeadline(v)
		if v.Length == 0 || !v.AtRisk || !d.After(now) || d.After(until) {
			continue
		}
		page.Users = append(page.Users, AtRiskUser{User: p.ID, Length: v.Length, Deadline: d, Freezes: v.Freezes})
		if len(page.Users) == limit {
			page.Next = next(it)
			return page, nil
		}
	}
	if more {
		page.Next = next(ids[len(ids)-1])
	}
	return page, nil
}
