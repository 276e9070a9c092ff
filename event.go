package gamify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/streak"
)

// Event is one change of a metric for a user.
type Event struct {
	Metric string // key of an active metric
	User   string // the user's id; the user is created on first sight
	// Profile, if set, upserts these fields of the user with the event.
	// Its ID must be empty or equal User. Its values belong to the event's
	// Time: a field that changed at a later time keeps its value.
	Profile *UserInput
	// Value is added to the user's total: signed, finite, at most 6
	// fractional digits. A float64 computed at run time may carry binary
	// noise (a+b with a, b := 0.1, 0.2) and be rejected: round it, or use
	// Amount.
	Value float64
	// Amount, when not zero, is the exact value to add instead of Value
	// (which must then be 0), e.g. MustParseAmount("4.4") or ParseAmount(s).
	Amount Amount
	// Attributes are declared event attributes; they filter achievements
	// and triggers.
	Attributes map[string]string
	// IdempotencyKey makes a retry safe. Its scope is (user, metric): a
	// second event with the key there must be the same event — same value
	// (Value or Amount), same attributes and, if the retry gives a Time, the
	// time the event was recorded at — and then changes nothing and reports
	// IdempotentReplayed. A different event under the key is ErrConflict and
	// changes nothing. Profile is not compared, and a replay does not apply
	// it.
	IdempotencyKey string
	// Time is when the event happened. Zero means now. It may be up to
	// Options.MaxEventAge in the past and Options.MaxClockSkew in the future.
	Time time.Time
}

// EventResult is what an event changed.
type EventResult struct {
	EventID string // the ledger sequence of the event (of the original, on replay)
	User    string
	Metric  string
	Total   Amount // the user's metric total after the event (current total, on replay)
	// IdempotentReplayed is true when the idempotency key had been seen: the
	// event was not applied again, and the result reports the user's state
	// now — Total, Streak (as it is now, Extended false) and Leaderboards
	// (the current rank in the run the event counted in, none once that run
	// is finished; PreviousRank equal to Rank) — while Achievements and
	// Points stay empty: completions and awards are reported once, by the
	// original call.
	IdempotentReplayed bool
	IdempotencyKey     string
	// Achievements completed by this event.
	Achievements []AchievementCompletion
	// Streak is the default streak after the event, if one is defined.
	Streak *StreakResult
	// Points lists the points systems whose balance changed.
	Points []PointsChange
	// Leaderboards lists the boards where the user's entry changed.
	Leaderboards []LeaderboardChange
	// Milestones lists the streak milestones this event's runs reached,
	// and those it took back (Reversed: the event joined two runs that had
	// each been paid one).
	Milestones []MilestoneReached `json:",omitempty"`
	// Challenges lists the user's challenges whose progress this event
	// changed (or that it enrolled the user in).
	Challenges []ChallengeChange `json:",omitempty"`
}

// AchievementCompletion reports an achievement completed by an event.
type AchievementCompletion struct {
	Key         string
	Name        string
	CompletedAt time.Time
	Backdated   bool // completed by backdating, not by this call (never in event results)
}

// StreakResult reports the default streak after an event.
type StreakResult struct {
	Key      string
	Length   int
	Extended bool      // this event met the current period
	Expires  time.Time // when the streak is lost unless extended
	AtRisk   bool
	Freezes  int
}

// PointsChange reports a points system whose balance an event changed.
type PointsChange struct {
	System string
	Total  Amount
	Added  Amount
	Awards []Award      // each with its trigger, boosts and total after
	Level  *LevelChange // set only when the level changed
}

// LeaderboardChange reports a board where an event moved the user.
type LeaderboardChange struct {
	Key          string
	Rank         int
	PreviousRank int // 0 when the user was not ranked before
	Threshold    Amount
	Group        string // breakdown group ("country:DE"), empty for none
}

// maxBatchEvents bounds TrackBatch.
const maxBatchEvents = 1000

// validEvent is an Event checked at the boundary, with its value parsed.
type validEvent struct {
	Event
	value Amount
	at    time.Time
}

// metricRefused names field.Metric for an event of a metric that is not
// active: one unknown or archived is ErrNotFound (as an unknown reward is
// to Claim), one inactive ErrConflict (as an inactive reward or points
// system is); both stay ValidationErrors naming the field.
func metricRefused(field, key string, m *Metric) error {
	if m == nil || m.Status == StatusArchived {
		return gamifytype.NotFound(field+".Metric", key, "metric")
	}
	return gamifytype.Conflict(field+".Metric", key, "is not an active metric")
}

func (e *Engine) validateEvent(field string, ev *Event, now time.Time, cat *catalog) (validEvent, error) {
	var errs []error // stays nil, unallocated, for a valid event
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if m, ok := cat.metrics[ev.Metric]; !ok || m.Status != StatusActive {
		add(metricRefused(field, ev.Metric, m))
	}
	// Field names are built only on failure: this is the hot path.
	if validateUserID("", ev.User) != nil {
		add(validateUserID(field+".User", ev.User))
	}
	v, err := gamifytype.ParseFloat("", ev.Value)
	switch {
	case err != nil:
		add(gamifytype.Invalid(field+".Value", ev.Value, err.(*gamifytype.ValidationError).Reason))
	case !ev.Amount.IsZero() && ev.Value != 0:
		add(gamifytype.Invalid(field+".Amount", ev.Amount, "must not be set together with Value"))
	case ev.Amount == gamifytype.MinAmount:
		add(gamifytype.Invalid(field+".Amount", ev.Amount, "is out of range"))
	case !ev.Amount.IsZero():
		v = ev.Amount
	}
	if len(ev.Attributes) > 0 {
		add(cat.checkAttributes(field+".Attributes", EventAttribute, ev.Attributes))
	}
	add(checkIdemKey(field, ev.IdempotencyKey))
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	if !gamifytype.EncodableTime(ev.Time) { // a clock beyond them is refused for every call, naming the clock
		add(gamifytype.CheckTime(field+".Time", ev.Time))
	} else if at.After(now.Add(e.opts.MaxClockSkew)) {
		add(gamifytype.Invalid(field+".Time", at, "is more than Options.MaxClockSkew in the future"))
	}
	if at.Before(now.Add(-e.opts.MaxEventAge)) {
		add(gamifytype.Invalid(field+".Time", at, "is older than Options.MaxEventAge"))
	}
	if ev.Profile != nil {
		if ev.Profile.ID != "" && ev.Profile.ID != ev.User {
			add(gamifytype.Invalid(field+".Profile.ID", ev.Profile.ID, "must be empty or equal Event.User"))
		}
		add(ev.Profile.validate(field+".Profile", cat, false))
	}
	if err := errors.Join(errs...); err != nil {
		return validEvent{}, err
	}
	return validEvent{Event: *ev, value: v, at: at.UTC()}, nil
}

// Track applies one event and returns what it changed. In Durable mode it
// returns once the event is on disk; in Buffered mode once it is applied.
// A ctx that has already ended is refused with its error and nothing is
// applied, in either mode. If ctx ends while a Durable Track waits for its
// commit, Track returns ctx's error and the event may still be applied and
// committed: retry it with the same IdempotencyKey.
//
// Bad fields are ValidationErrors naming them (Event.Value). An unknown or
// archived metric is also ErrNotFound, an inactive one ErrConflict (both
// naming Event.Metric); either way nothing changes, no user is created.
func (e *Engine) Track(ctx context.Context, ev Event) (EventResult, error) {
	if err := e.live(); err != nil {
		return EventResult{}, err
	}
	now := e.now()
	v, err := e.validateEvent("Event", &ev, now, e.cat.Load())
	if err != nil && e.resynced(ctx, err) {
		v, err = e.validateEvent("Event", &ev, now, e.cat.Load())
	}
	if err != nil {
		return EventResult{}, err
	}
	c := &trackCall{cmd: trackCmd{one: [1]validEvent{v}}}
	c.cmd.events = c.cmd.one[:]
	c.req = request{cmd: &c.cmd, now: now, durable: e.opts.Durability == Durable}
	res, err := e.submit(ctx, &c.req)
	if err != nil {
		return EventResult{}, fmt.Errorf("track %s for %q: %w", ev.Metric, ev.User, err)
	}
	return res.(*trackResults).all[0], nil
}

// trackCall is what a Track allocates: its request, its command and the
// command's result in one object.
type trackCall struct {
	req request
	cmd trackCmd
}

// TrackBatch applies up to 1000 events atomically, in order: if any event is
// invalid or cannot be applied, none is, and the error names its index.
// Idempotency applies per event, also between events of the batch: a key
// reused with a different event, even by an earlier event of the batch, is
// ErrConflict for the whole batch. An event's metric is refused as Track
// refuses it, named by index (Events[3].Metric).
func (e *Engine) TrackBatch(ctx context.Context, evs []Event) ([]EventResult, error) {
	if err := e.live(); err != nil {
		return nil, err
	}
	if len(evs) == 0 || len(evs) > maxBatchEvents {
		return nil, gamifytype.Invalid("Events", len(evs), "must hold 1 to 1000 events")
	}
	now := e.now()
	vs := make([]validEvent, len(evs))
	validate := func() error {
		cat := e.cat.Load()
		var errs []error
		for i := range evs {
			var err error
			vs[i], err = e.validateEvent(fmt.Sprintf("Events[%d]", i), &evs[i], now, cat)
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	err := validate()
	if err != nil && e.resynced(ctx, err) {
		err = validate()
	}
	if err != nil {
		return nil, err
	}
	res, err := e.do(ctx, &trackCmd{events: vs}, now, e.opts.Durability == Durable)
	if err != nil {
		return nil, fmt.Errorf("track batch of %d: %w", len(evs), err)
	}
	return res.(*trackResults).all, nil
}

type trackCmd struct {
	events []validEvent
	// seed makes the codes the command may generate (a streak milestone's
	// reward): drawn by the writer before the command is logged.
	seed uint64
	one  [1]validEvent // the event of a Track: one allocation for the command
	res  trackResults  // the result of a one-event command, allocated with it
	room resultRoom    // and the lists of that result
}

// resultRoom is storage for the lists of one event's result, allocated with
// its command: each list taken from it is an allocation fewer per event.
// Each is taken at most once; a list that outgrows it moves to the heap.
type resultRoom struct {
	streak     StreakResult
	boards     [4]LeaderboardChange
	points     [1]PointsChange
	usedStreak bool
	usedBoards bool
	usedPoints bool
}

// streakResult returns a StreakResult for the event's result.
func (t *txn) streakResult() *StreakResult {
	if r := t.room; r != nil && !r.usedStreak {
		r.usedStreak = true
		return &r.streak
	}
	return new(StreakResult)
}

// boardChanges returns an empty list of capacity n for the event's board
// changes.
func (t *txn) boardChanges(n int) []LeaderboardChange {
	if r := t.room; r != nil && !r.usedBoards && n <= len(r.boards) {
		r.usedBoards = true
		return r.boards[:0:n]
	}
	return make([]LeaderboardChange, 0, n)
}

// pointsChanges returns an empty list for the event's points rows (nil when
// there is no room: append allocates it).
func (t *txn) pointsChanges() []PointsChange {
	if r := t.room; r != nil && !r.usedPoints {
		r.usedPoints = true
		return r.points[:0:len(r.points)]
	}
	return nil
}

// trackResults is what a track command returns: with one, a single event's
// result costs one allocation (a []EventResult in an any would cost two).
type trackResults struct {
	all []EventResult
	one [1]EventResult
}

func (c *trackCmd) weight() int { return len(c.events) }

func (c *trackCmd) apply(w *writer, now time.Time) (any, error) {
	t := w.begin(now)
	t.seedNum = c.seed
	t.netStreaks = len(c.events) > 1
	out := &c.res
	out.all = out.one[:min(len(c.events), 1)]
	if len(c.events) > 1 {
		out.all = make([]EventResult, len(c.events))
	} else {
		t.room = &c.room
	}
	for i := range c.events {
		field := "Event"
		if len(c.events) > 1 {
			field = fmt.Sprintf("Events[%d]", i)
		}
		if err := t.track(field, &c.events[i], &out.all[i]); err != nil {
			t.rollback()
			return nil, err
		}
	}
	if t.netStreaks {
		t.netStreakNotes()
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	return out, nil
}

func (t *txn) track(field string, ev *validEvent, res *EventResult) error {
	cat := t.w.cat
	m, ok := cat.metrics[ev.Metric]
	if !ok || m.Status != StatusActive { // archived since the boundary check
		return metricRefused(field, ev.Metric, m)
	}
	res.User, res.Metric, res.IdempotencyKey = ev.User, ev.Metric, ev.IdempotencyKey

	// A replay must have no side effects, not even the profile upsert, so the
	// key is checked before the user is created or changed.
	var fp uint64
	if ev.IdempotencyKey != "" {
		fp = eventFingerprint(ev)
		if u, err := t.user(ev.User, false); err != nil {
			return err
		} else if u != nil {
			rec, found, err := t.idemRecord(idemKey(u.p.UID, m.ref, ev.IdempotencyKey))
			if err != nil {
				return err
			}
			if found {
				if !rec.matchesEvent(fp, ev) {
					return idemConflict(field+".IdempotencyKey", ev.IdempotencyKey, "event of "+m.Key+" (value, time or attributes)")
				}
				at := ev.at // the time the event was recorded at: the run it counted in
				if rec.timed {
					at = time.Unix(0, rec.eventAt).UTC()
				}
				t.replayResult(u, m, at, rec.seq, res)
				return nil
			}
		}
	}

	// The result collects from here on: creating the user may already award
	// points (user_creation triggers) and move points boards.
	t.achResults, t.pointsRes, t.boardsRes, t.eventAt = &res.Achievements, &res.Points, &res.Leaderboards, ev.at
	defer func() { t.achResults, t.pointsRes, t.boardsRes, t.eventAt = nil, nil, nil, time.Time{} }()
	if ev.Profile != nil {
		if err := cat.checkAttributes(field+".Profile.Attributes", UserAttribute, ev.Profile.Attributes); err != nil {
			return err
		}
	}
	u, err := t.createWith(ev.User, ev.Profile)
	if err != nil {
		return err
	}
	t.milestones = &res.Milestones // (creating a user reaches none)
	defer func() { t.milestones = nil }()
	if ev.Profile != nil {
		if u.p.merge(ev.Profile, ev.at, false, t.now, &u.s.Seen) {
			u.profileDirty = true
			if err := t.regroup(u); err != nil {
				return err
			}
		}
	}
	if len(ev.Attributes) > 0 { // no field name built for an event without attributes
		if err := cat.checkAttributes(field+".Attributes", EventAttribute, ev.Attributes); err != nil {
			return err
		}
	}

	s := &u.s
	i, ok := s.metric(m.ref)
	if !ok {
		s.Metrics = append(s.Metrics, metricTotal{})
		copy(s.Metrics[i+1:], s.Metrics[i:])
		s.Metrics[i] = metricTotal{Ref: m.ref}
	}
	total, ok := s.Metrics[i].Total.AddChecked(ev.value)
	if !ok {
		if !ev.Amount.IsZero() {
			return gamifytype.Invalid(field+".Amount", ev.Amount, "would overflow the metric total")
		}
		return gamifytype.Invalid(field+".Value", ev.Value, "would overflow the metric total")
	}
	s.Metrics[i].Total = total
	s.Metrics[i].Events++
	s.Events++
	at := ev.at.UnixNano()
	if s.FirstEvent == 0 || at < s.FirstEvent {
		s.FirstEvent = at
	}
	s.LastEvent = max(s.LastEvent, at)

	seq := t.nextSeq()
	t.entries = append(t.entries, ledger.Entry{
		Seq: seq, At: at, User: u.p.UID, Kind: ledger.MetricDelta, Ref: m.ref, Delta: ev.value, IdemKey: ev.IdempotencyKey,
	})
	day := localDay(ev.at, t.w.userLocation(&u.p))
	if t.w.remindOn() {
		t.noteActivity(u, day)
	}
	if err := t.addDay(u, m.ref, day, ev.value); errors.Is(err, errChangeOverflow) {
		if !ev.Amount.IsZero() {
			return gamifytype.Invalid(field+".Amount", ev.Amount, err.Error())
		}
		return gamifytype.Invalid(field+".Value", ev.Value, err.Error())
	} else if err != nil {
		return err
	}
	if err := t.addDay(u, eventsDayRef, day, AmountFromMicros(1)); err != nil { // a count, not an amount
		return err
	}
	if ev.IdempotencyKey != "" {
		t.recordEventIdem(idemKey(u.p.UID, m.ref, ev.IdempotencyKey), seq, fp, ev)
	}
	res.EventID = strconv.FormatUint(seq, 10)
	res.Total = total
	if err := t.trackAchievements(u, m, ev, total, res); err != nil {
		return err
	}
	if err := t.applyPoints(u, func(r points.Rules, s points.State) (points.State, points.Effects, error) {
		return points.OnMetric(r, s, t.pointsUser(u), points.MetricChange{Metric: m.Key, Delta: ev.value, Attrs: ev.Attributes, At: ev.at})
	}); err != nil {
		return err
	}
	if len(cat.chals.byMetric[m.Key]) > 0 {
		if err := t.trackChallenges(u, m, ev, res); err != nil {
			return err
		}
	}
	if len(cat.metricStreaks[m.Key]) > 0 {
		if err := t.trackStreaks(u, m, ev, res); err != nil {
			return err
		}
	}
	if len(cat.metricBoards[m.Key]) > 0 {
		return t.trackBoards(u, m, ev, res)
	}
	return nil
}

// replayResult fills the result of a replayed event with the user's state
// as it is now, shaped like the original result so that a client which
// retried shows the same things: the metric total, the default streak (when
// the metric feeds it; Extended false, as this call extended nothing) and
// the user's standing on each board the metric feeds, in the run of the
// event's recorded time at, the run it counted in (PreviousRank equals
// Rank: nothing moved). Achievements and Points stay empty: completions and
// awards are reported once, by the call that made them.
func (t *txn) replayResult(u *userRec, m *Metric, at time.Time, seq uint64, res *EventResult) {
	res.EventID = strconv.FormatUint(seq, 10)
	res.IdempotentReplayed = true
	if i, ok := u.s.metric(m.ref); ok {
		res.Total = u.s.Metrics[i].Total
	}
	cat := t.w.cat
	if s := cat.defaultStreak; s != nil && slices.Contains(cat.metricStreaks[m.Key], s) {
		var st streak.State
		if i, ok := u.s.streak(s.ref); ok {
			st = u.s.Streaks[i].St
		}
		v := streak.View(s.personalized(&u.p), st, t.now, t.w.userLocation(&u.p))
		res.Streak = &StreakResult{Key: s.Key, Length: v.Length, Expires: v.Expires, AtRisk: v.AtRisk, Freezes: v.Freezes}
	}
	for _, b := range cat.metricBoards[m.Key] {
		if b.pausedAt(at) {
			continue // the event counted nowhere on it
		}
		if c, ok := t.standing(u, b, at); ok {
			res.Leaderboards = append(res.Leaderboards, c)
		}
	}
}

// userLocation is the user's time zone, else the default.
func (w *writer) userLocation(p *profile) *time.Location {
	if p.TZ != "" {
		if l, err := loadLocation(p.TZ); err == nil {
			return l
		}
	}
	return w.opts.DefaultTimezone
}
