package gamify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// Challenge is a program a user enrolls in: objectives to reach inside a
// window, milestones paid on the way and a payout on completion. Progress
// is kept per participant and objective and moves inside the event that
// causes it (docs/behaviour.md, "Challenges").
type Challenge struct {
	Key         string // immutable, [A-Za-z0-9_-]{1,64}
	Name        string // display name, required
	Description string // optional
	// Window is when events count: fixed (Start to End), rolling (Days
	// from the enrollment) or perpetual. Immutable, with Start, End and Days.
	Window ChallengeWindow
	// Start and End bound a fixed window [Start, End); zero otherwise
	// (left out of JSON, as every optional time).
	Start time.Time `json:",omitzero"`
	End   time.Time `json:",omitzero"`
	Days  int       `json:",omitempty"` // a rolling window's length in days of 24 hours, 1 to 366
	// Enrollment is explicit (ChallengesAPI.Enroll, the default) or
	// automatic (the first event that would count enrolls the user; Enroll
	// works too). Immutable.
	Enrollment ChallengeEnrollment
	// Objectives are what the challenge asks, 1 to 16, immutable once
	// created (progress refers to them by position).
	Objectives []ChallengeObjective
	// Milestones pay on the way, at most 16; each pays once per
	// participation. Their number, Share and Objective are immutable; what
	// they pay may change.
	Milestones []ChallengeMilestone `json:",omitempty"`
	// Completion is paid once when every objective is complete (optional).
	Completion ChallengePayout
	// Status is active (the default), inactive or archived. A challenge
	// created inactive is inactive since ever: no event dated before its
	// first Activate counts toward it.
	Status  Status
	Created time.Time
	Updated time.Time
	// Inactive lists when the challenge was inactive, oldest first; the
	// last is open (zero To) while it is inactive. The engine keeps it
	// (Activate and Deactivate change it; Patch refuses a change): an
	// event is judged by the status at its own time. Create takes it from
	// an export (see ChallengesAPI.Create); left empty, a challenge created
	// inactive was inactive since ever.
	Inactive []Interval `json:",omitempty"`

	ref uint32
}

// ChallengeWindow is when a challenge's events count.
type ChallengeWindow string

const (
	// ChallengeFixed counts events in [Start, End): with explicit
	// enrollment only those from the enrollment on, with automatic enrollment
	// the whole window.
	ChallengeFixed ChallengeWindow = "fixed"
	// ChallengeRolling counts events in the Days after each participant's
	// enrollment (automatic: the time of the enrolling event).
	ChallengeRolling ChallengeWindow = "rolling"
	// ChallengePerpetual counts events from the enrollment on (automatic:
	// from the challenge's creation), for ever.
	ChallengePerpetual ChallengeWindow = "perpetual"
)

// ChallengeEnrollment is how users join a challenge.
type ChallengeEnrollment string

const (
	// ChallengeExplicit challenges are joined by ChallengesAPI.Enroll.
	ChallengeExplicit ChallengeEnrollment = "explicit"
	// ChallengeAutomatic challenges are joined by the first event that
	// counts toward one of their objectives (and by Enroll).
	ChallengeAutomatic ChallengeEnrollment = "automatic"
)

// ChallengeCount is what an objective adds up.
type ChallengeCount string

const (
	// ChallengeCountValue adds up the values of the metric's events;
	// negative values add nothing (progress is never taken back).
	ChallengeCountValue ChallengeCount = "value"
	// ChallengeCountEvents counts the metric's events.
	ChallengeCountEvents ChallengeCount = "events"
)

// ChallengeObjective is one goal of a challenge: the metric's values (or
// events) that match EventFilters, counted inside the participant's window,
// reaching Target.
type ChallengeObjective struct {
	Key    string // unique in the challenge, [A-Za-z0-9_-]{1,64}
	Name   string // optional
	Metric string // an existing metric
	// Count is value (the default, also when empty) or events.
	Count ChallengeCount
	// EventFilters are event attributes an event must carry, all of them, to
	// count (declared event attributes).
	EventFilters map[string]string `json:",omitempty"`
	// Target is the progress that completes the objective: positive; a
	// whole number of events for ChallengeCountEvents.
	Target Amount
	// Prerequisites lists objectives (keys of earlier ones) that must be
	// complete before this one completes: its events are counted all along,
	// and it completes once they are all complete and its Target is reached.
	Prerequisites []string `json:",omitempty"`
}

// ChallengePayout is what a milestone or a completion pays: a manual
// achievement completed (already held: nothing more), a reward claimed at
// no cost (past its PerUserLimit; inventory, codes, status and expiry
// apply) and points awarded in System (boosts do not apply). All optional.
type ChallengePayout struct {
	Achievement string `json:",omitempty"`
	Reward      string `json:",omitempty"`
	System      string `json:",omitempty"`
	Points      Amount
}

func (p ChallengePayout) empty() bool {
	return p.Achievement == "" && p.Reward == "" && p.System == "" && p.Points.IsZero()
}

// ChallengeMilestone pays when a share of the objectives is complete
// (Share, a percentage) or when one objective is (Objective): exactly one
// of the two is set.
type ChallengeMilestone struct {
	Share     int    `json:",omitempty"` // 1 to 100: complete objectives × 100 ≥ Share × objectives
	Objective string `json:",omitempty"` // the key of an objective
	Pay       ChallengePayout
}

// Bounds of a challenge definition.
const (
	maxObjectives         = 16
	maxChallengeMilestone = 16
	maxRollingDays        = 366
	defChallenge          = "challenge/"
	challengeField        = "Challenge"
)

// storedChallenge keeps the challenge's Inactive under "off", its name
// since the intervals were kept (the embedded Inactive is left empty).
type storedChallenge struct {
	Challenge
	Ref uint32                `json:"ref"`
	Off []gamifytype.Interval `json:"off,omitempty"` // absent: never inactive
}

// UnmarshalJSON reads a storedChallenge: the embedded Challenge's
// UnmarshalJSON (which reads old key names) would otherwise be promoted
// and drop Ref and Off. Each field storedChallenge adds to Challenge is
// read here.
func (s *storedChallenge) UnmarshalJSON(b []byte) error {
	var w struct {
		Ref uint32                `json:"ref"`
		Off []gamifytype.Interval `json:"off,omitempty"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &s.Challenge); err != nil {
		return err
	}
	s.Ref, s.Off = w.Ref, w.Off
	return nil
}

// UnmarshalJSON reads a Challenge, also one stored or logged before
// Enrollment had its name ("Enrolment"); its objectives read their old
// name of EventFilters ("Filters") too.
func (c *Challenge) UnmarshalJSON(b []byte) error {
	type plain Challenge // without this method
	var v struct {
		plain
		Enrolment ChallengeEnrollment
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Challenge(v.plain)
	c.Enrollment = cmp.Or(c.Enrollment, v.Enrolment)
	return nil
}

// oldKeys maps the JSON keys of a Challenge renamed since to the names
// they had ("Objectives.[].": in each objective): a patch digest is taken
// over the JSON with them (see digest).
func (*Challenge) oldKeys() map[string]string {
	return map[string]string{"Enrollment": "Enrolment", "Objectives.[].EventFilters": "Filters"}
}

// UnmarshalJSON reads a ChallengeObjective, also one stored or logged
// before EventFilters had its name ("Filters").
func (o *ChallengeObjective) UnmarshalJSON(b []byte) error {
	type plain ChallengeObjective // without this method
	var v struct {
		plain
		Filters map[string]string
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = ChallengeObjective(v.plain)
	if o.EventFilters == nil {
		o.EventFilters = v.Filters
	}
	return nil
}

// Validate reports every bad field of a challenge to create.
func (c *Challenge) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("Challenge.Key", c.Key); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateName(challengeField, c.Name),
		gamifytype.CheckText("Challenge.Description", c.Description, gamifytype.MaxTextLen))
	switch c.Window {
	case ChallengeFixed:
		switch {
		case c.Start.IsZero():
			errs = append(errs, gamifytype.Invalid("Challenge.Start", c.Start, "is required for a fixed window"))
		case !c.End.After(c.Start):
			errs = append(errs, gamifytype.Invalid("Challenge.End", c.End, "must be after Start"))
		}
		errs = append(errs, gamifytype.CheckTime("Challenge.Start", c.Start), gamifytype.CheckTime("Challenge.End", c.End))
	case ChallengeRolling, ChallengePerpetual:
		if !c.Start.IsZero() {
			errs = append(errs, gamifytype.Invalid("Challenge.Start", c.Start, "is only for a fixed window"))
		}
		if !c.End.IsZero() {
			errs = append(errs, gamifytype.Invalid("Challenge.End", c.End, "is only for a fixed window"))
		}
	default:
		errs = append(errs, gamifytype.Invalid("Challenge.Window", c.Window, "must be fixed, rolling or perpetual"))
	}
	if c.Window == ChallengeRolling {
		if c.Days < 1 || c.Days > maxRollingDays {
			errs = append(errs, gamifytype.Invalid("Challenge.Days", c.Days, "must be 1 to 366 for a rolling window"))
		}
	} else if c.Days != 0 {
		errs = append(errs, gamifytype.Invalid("Challenge.Days", c.Days, "is only for a rolling window"))
	}
	switch c.Enrollment {
	case "", ChallengeExplicit, ChallengeAutomatic:
	default:
		errs = append(errs, gamifytype.Invalid("Challenge.Enrollment", c.Enrollment, "must be explicit (the default) or automatic"))
	}
	errs = append(errs, c.validateObjectives()...)
	if len(c.Milestones) > maxChallengeMilestone {
		errs = append(errs, gamifytype.Invalid("Challenge.Milestones", len(c.Milestones), "must hold at most 16 milestones"))
	}
	for i, m := range c.Milestones {
		f := fmt.Sprintf("Challenge.Milestones[%d]", i)
		switch {
		case (m.Share != 0) == (m.Objective != ""):
			errs = append(errs, gamifytype.Invalid(f+".Share", m.Share, "must be set, or Objective, exactly one of the two"))
		case m.Share < 0 || m.Share > 100:
			errs = append(errs, gamifytype.Invalid(f+".Share", m.Share, "must be 1 to 100"))
		case m.Objective != "" && !slices.ContainsFunc(c.Objectives, func(o ChallengeObjective) bool { return o.Key == m.Objective }):
			errs = append(errs, gamifytype.Invalid(f+".Objective", m.Objective, "names no objective of the challenge"))
		}
		if m.Pay.empty() {
			errs = append(errs, gamifytype.Invalid(f+".Pay", m.Pay, "must pay an achievement, a reward or points"))
		}
		errs = append(errs, validatePayout(f+".Pay", m.Pay))
	}
	errs = append(errs, validatePayout("Challenge.Completion", c.Completion))
	return errors.Join(errs...)
}

func (c *Challenge) validateObjectives() []error {
	var errs []error
	if n := len(c.Objectives); n < 1 || n > maxObjectives {
		errs = append(errs, gamifytype.Invalid("Challenge.Objectives", n, "must hold 1 to 16 objectives"))
	}
	seen := map[string]bool{}
	for i, o := range c.Objectives {
		f := fmt.Sprintf("Challenge.Objectives[%d]", i)
		if err := gamifytype.ValidateKey(f+".Key", o.Key); err != nil {
			errs = append(errs, err)
		} else if seen[o.Key] {
			errs = append(errs, gamifytype.Invalid(f+".Key", o.Key, "is another objective's key"))
		}
		errs = append(errs, gamifytype.CheckText(f+".Name", o.Name, gamifytype.MaxNameLen))
		if err := gamifytype.ValidateKey(f+".Metric", o.Metric); err != nil {
			errs = append(errs, err)
		}
		switch o.Count {
		case "", ChallengeCountValue:
		case ChallengeCountEvents:
			if o.Target.Micros()%gamifytype.AmountScale != 0 {
				errs = append(errs, gamifytype.Invalid(f+".Target", o.Target, "must be a whole number of events"))
			}
		default:
			errs = append(errs, gamifytype.Invalid(f+".Count", o.Count, "must be value (the default) or events"))
		}
		if o.Target.Sign() <= 0 {
			errs = append(errs, gamifytype.Invalid(f+".Target", o.Target, "must be positive"))
		}
		for _, k := range slices.Sorted(maps.Keys(o.EventFilters)) {
			errs = append(errs, gamifytype.CheckText(f+".EventFilters["+k+"]", o.EventFilters[k], gamifytype.MaxTextLen))
		}
		if err := checkSet(f+".Prerequisites", o.Prerequisites, gamifytype.MaxListLen); err != nil {
			errs = append(errs, err)
		}
		for j, p := range o.Prerequisites[:min(len(o.Prerequisites), gamifytype.MaxListLen)] {
			if !seen[p] {
				errs = append(errs, gamifytype.Invalid(fmt.Sprintf("%s.Prerequisites[%d]", f, j), p, "must name an earlier objective"))
			}
		}
		seen[o.Key] = true
	}
	return errs
}

func validatePayout(f string, p ChallengePayout) error {
	var errs []error
	if p.Achievement != "" {
		errs = append(errs, gamifytype.ValidateKey(f+".Achievement", p.Achievement))
	}
	if p.Reward != "" {
		errs = append(errs, gamifytype.ValidateKey(f+".Reward", p.Reward))
	}
	if p.Points.Sign() < 0 || (p.Points.Sign() > 0) != (p.System != "") {
		errs = append(errs, gamifytype.Invalid(f+".Points", p.Points, "must be positive with System, zero without"))
	}
	return errors.Join(errs...)
}

// checkChallengeRefs verifies, against the command's catalogue, what a
// challenge names that old (the stored version, nil on create) did not:
// metrics not archived, declared event attributes, manual achievements,
// rewards and active points systems.
func (cat *catalog) checkChallengeRefs(old, c *Challenge) error {
	var errs []error
	for i, o := range c.Objectives {
		if old != nil {
			break // objectives are immutable: checked when created
		}
		f := fmt.Sprintf("Challenge.Objectives[%d]", i)
		if m, ok := cat.metrics[o.Metric]; !ok || m.Status == StatusArchived {
			errs = append(errs, gamifytype.Invalid(f+".Metric", o.Metric, "is not a metric"))
		}
		if len(o.EventFilters) > 0 {
			errs = append(errs, cat.checkAttributes(f+".EventFilters", EventAttribute, o.EventFilters))
		}
	}
	check := func(f string, p, was ChallengePayout) {
		if p.Achievement != "" && p.Achievement != was.Achievement {
			if a, ok := cat.achievements[p.Achievement]; !ok || a.Status == StatusArchived || a.Kind != AchievementManual {
				errs = append(errs, gamifytype.Invalid(f+".Achievement", p.Achievement, "is not a manual achievement"))
			}
		}
		if p.Reward != "" && p.Reward != was.Reward {
			if r, ok := cat.rewards[p.Reward]; !ok || r.Status == StatusArchived {
				errs = append(errs, gamifytype.Invalid(f+".Reward", p.Reward, "is not a reward"))
			}
		}
		if p.System != "" && p.System != was.System {
			if s, ok := cat.points.systems[p.System]; !ok || s.Status != StatusActive {
				errs = append(errs, gamifytype.Invalid(f+".System", p.System, "is not an active points system"))
			}
		}
	}
	for i, m := range c.Milestones {
		var was ChallengePayout
		if old != nil && i < len(old.Milestones) {
			was = old.Milestones[i].Pay
		}
		check(fmt.Sprintf("Challenge.Milestones[%d].Pay", i), m.Pay, was)
	}
	var was ChallengePayout
	if old != nil {
		was = old.Completion
	}
	check("Challenge.Completion", c.Completion, was)
	return errors.Join(errs...)
}

// challengeDefs are the challenges of a catalog.
type challengeDefs struct {
	byKey    map[string]*Challenge
	byRef    map[uint32]*Challenge
	lastRef  uint32
	byMetric map[string][]*Challenge // derived: challenges not archived with an objective on a metric, by ref
}

func (d *challengeDefs) init() {
	d.byKey, d.byRef, d.byMetric = map[string]*Challenge{}, map[uint32]*Challenge{}, map[string][]*Challenge{}
}

func (d challengeDefs) clone() challengeDefs {
	return challengeDefs{byKey: maps.Clone(d.byKey), byRef: maps.Clone(d.byRef), lastRef: d.lastRef, byMetric: d.byMetric}
}

// offAt reports whether c was inactive at at.
func (c *Challenge) offAt(at time.Time) bool {
	return len(c.Inactive) > 0 && gamifytype.InAny(c.Inactive, at)
}

// index derives byMetric. Inactive challenges are in it: a late event
// dated while one was active counts toward it (trackChallenges).
func (d *challengeDefs) index() {
	by := map[string][]*Challenge{}
	for _, c := range d.byKey {
		if c.Status == StatusArchived {
			continue
		}
		seen := map[string]bool{}
		for _, o := range c.Objectives {
			if !seen[o.Metric] {
				seen[o.Metric] = true
				by[o.Metric] = append(by[o.Metric], c)
			}
		}
	}
	for _, cs := range by {
		slices.SortFunc(cs, func(x, y *Challenge) int { return cmp.Compare(x.ref, y.ref) })
	}
	d.byMetric = by
}

// checkRefs reports a stored challenge naming a metric that does not exist.
func (d *challengeDefs) checkRefs(cat *catalog, missing func(key, field, what, name string)) {
	for _, c := range d.byKey {
		for _, o := range c.Objectives {
			if cat.metrics[o.Metric] == nil {
				missing(defChallenge+c.Key, "Objectives", "metric", o.Metric)
			}
		}
	}
}

// loadChallenge decodes and checks one stored challenge and adds it to c.
func loadChallenge(c *catalog, key string, v []byte) error {
	var sc storedChallenge
	if err := json.Unmarshal(v, &sc); err != nil {
		return err
	}
	ch := sc.Challenge
	if err := storedDef(key, defChallenge+ch.Key, ch.Status, sc.Ref, c.chals.byRef, ch.Validate()); err != nil {
		return err
	}
	ch.ref = sc.Ref
	ch.Inactive = loadedOff(sc.Off, ch.Status == StatusInactive, ch.Created, ch.Updated)
	c.chals.byKey[ch.Key], c.chals.byRef[ch.ref] = &ch, &ch
	c.chals.lastRef = max(c.chals.lastRef, ch.ref)
	return nil
}

func (t *txn) putChallenge(c *Challenge) {
	cat := t.catalogForWrite()
	cat.chals.byKey[c.Key], cat.chals.byRef[c.ref] = c, c
	cat.chals.index()
	sc := storedChallenge{Challenge: *c, Ref: c.ref, Off: c.Inactive}
	sc.Challenge.Inactive = nil
	t.putJSON(store.Definitions, []byte(defChallenge+c.Key), sc)
}

func (t *txn) createChallenge(c Challenge) (Challenge, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.chals.byKey[c.Key]; ok {
		return Challenge{}, fmt.Errorf("%w: challenge %s exists", ErrConflict, c.Key)
	}
	if err := cat.checkChallengeRefs(nil, &c); err != nil {
		return Challenge{}, err
	}
	switch c.Status {
	case "":
		c.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Challenge{}, gamifytype.Invalid("Challenge.Status", c.Status, "must be active (the default) or inactive")
	}
	if c.Enrollment == "" {
		c.Enrollment = ChallengeExplicit
	}
	// Created inactive with none given, no event dated before its first
	// Activate counts (gamify import relies on it).
	off, err := createdOff("Challenge.Inactive", c.Inactive, c.Status, t.now)
	if err != nil {
		return Challenge{}, err
	}
	c = cloneChallenge(c)
	c.Inactive = off
	c.Start, c.End = stampZero(c.Start), stampZero(c.End)
	c.Created, c.Updated = stamp(t.now), stamp(t.now)
	cat.chals.lastRef++
	c.ref = cat.chals.lastRef
	t.putChallenge(&c)
	return c, nil
}

// stampZero is stamp keeping the zero time zero.
func stampZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return stamp(t)
}

func cloneChallenge(c Challenge) Challenge {
	c.Objectives = slices.Clone(c.Objectives)
	for i := range c.Objectives {
		c.Objectives[i].EventFilters = maps.Clone(c.Objectives[i].EventFilters)
		c.Objectives[i].Prerequisites = slices.Clone(c.Objectives[i].Prerequisites)
	}
	c.Milestones = slices.Clone(c.Milestones)
	c.Inactive = slices.Clone(c.Inactive)
	return c
}

// challenges describes challenges for the shared admin verbs.
var challenges = resource[Challenge]{
	what: "challenge", field: challengeField, kind: "challenge", check: (*Challenge).Validate,
	defs:  func(c *catalog) map[string]*Challenge { return c.chals.byKey },
	clone: cloneChallenge,
	owned: func(c *Challenge) owned { return owned{c.Key, c.Status, c.Created, c.Updated, c.Inactive} },
	replace: func(t *txn, old *Challenge, c Challenge) (Challenge, error) {
		if err := c.Validate(); err != nil {
			return Challenge{}, err
		}
		// Participations refer to the window, the objectives and the
		// milestones by position: none of them can change under them.
		switch {
		case c.Window != old.Window || c.Days != old.Days:
			return Challenge{}, gamifytype.Invalid("Challenge.Window", c.Window, "is immutable (with Days)")
		case !c.Start.Equal(old.Start) || !c.End.Equal(old.End):
			return Challenge{}, gamifytype.Invalid("Challenge.Start", c.Start, "is immutable (with End)")
		case c.Enrollment != old.Enrollment:
			return Challenge{}, gamifytype.Invalid("Challenge.Enrollment", c.Enrollment, "is immutable")
		case !sameObjectives(c.Objectives, old.Objectives):
			return Challenge{}, gamifytype.Invalid("Challenge.Objectives", len(c.Objectives), "are immutable")
		case !slices.EqualFunc(c.Milestones, old.Milestones, func(x, y ChallengeMilestone) bool { return x.Share == y.Share && x.Objective == y.Objective }):
			return Challenge{}, gamifytype.Invalid("Challenge.Milestones", len(c.Milestones), "must keep their number, Share and Objective")
		}
		if err := t.catalogForWrite().checkChallengeRefs(old, &c); err != nil {
			return Challenge{}, err
		}
		c = cloneChallenge(c)
		c.ref, c.Inactive, c.Updated = old.ref, old.Inactive, stamp(t.now) // the intervals are the engine's
		t.putChallenge(&c)
		return c, nil
	},
}

func sameObjectives(a, b []ChallengeObjective) bool {
	return slices.EqualFunc(a, b, func(x, y ChallengeObjective) bool {
		return x.Key == y.Key && x.Name == y.Name && x.Metric == y.Metric && x.Count == y.Count &&
			maps.Equal(x.EventFilters, y.EventFilters) && x.Target == y.Target && slices.Equal(x.Prerequisites, y.Prerequisites)
	})
}

// ChallengesAPI administers challenges, enrolls users and reads their
// progress. Get it from Engine.Challenges.
type ChallengesAPI struct{ e *Engine }

// Challenges returns the challenge API.
func (e *Engine) Challenges() ChallengesAPI { return ChallengesAPI{e} }

// Create defines a new challenge. A key in use, even by an archived
// challenge, is ErrConflict; a bad field is a ValidationError naming it.
func (a ChallengesAPI) Create(ctx context.Context, c Challenge) (Challenge, error) {
	if err := c.Validate(); err != nil {
		return Challenge{}, err
	}
	out, err := createDef(ctx, a.e, challenges, c)
	if err != nil {
		return Challenge{}, fmt.Errorf("create challenge %s: %w", c.Key, err)
	}
	return out, nil
}

// Get returns the challenge with key, archived or not, or ErrNotFound.
func (a ChallengesAPI) Get(ctx context.Context, key string) (Challenge, error) {
	c, err := getDef(a.e, "challenge", key, func(c *catalog) map[string]*Challenge { return c.chals.byKey })
	return cloneChallenge(c), err
}

// List returns challenges in creation order.
func (a ChallengesAPI) List(ctx context.Context, opts ListOptions) ([]Challenge, error) {
	cs, err := listDefs(a.e, opts, func(c *catalog) map[string]*Challenge { return c.chals.byKey },
		func(c *Challenge) bool { return c.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *Challenge) int { return cmp.Compare(x.ref, y.ref) })
	for i := range cs {
		cs[i] = cloneChallenge(cs[i])
	}
	return cs, err
}

// Patch changes a challenge: edit gets a copy of the stored challenge and
// sets the fields to change; the others are kept. Key, Status, Created and
// Updated are the engine's; Window, Start, End, Days, Enrollment, the
// Objectives and the milestones' number, Share and Objective are immutable
// (a change to one is a ValidationError naming it). Name, Description,
// what milestones pay and Completion may change: a participant is paid what
// is defined when they reach it, and a milestone already paid is not paid
// again. edit may run more than once, so it must
// only edit its argument.
func (a ChallengesAPI) Patch(ctx context.Context, key string, edit func(*Challenge)) (Challenge, error) {
	return challenges.patch(ctx, a.e, key, edit)
}

// Activate makes an inactive challenge count events and enroll users again:
// events dated from the activation on count. Events dated while it was
// inactive never count, whenever they arrive; late ones dated before the
// Deactivate still do (docs/behaviour.md, "Challenges"). Activating an
// active challenge changes nothing.
func (a ChallengesAPI) Activate(ctx context.Context, key string) (Challenge, error) {
	return challenges.setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate pauses a challenge: events dated while it is inactive count
// toward none of its objectives, whenever they arrive (a late event dated
// before the Deactivate still counts, even arriving meanwhile), and Enroll
// is ErrConflict; participations are kept. The challenge remembers when it
// was inactive, in its stored definition. Deactivating an inactive
// challenge changes nothing.
func (a ChallengesAPI) Deactivate(ctx context.Context, key string) (Challenge, error) {
	return challenges.setStatus(ctx, a.e, key, StatusInactive)
}

// Delete archives a challenge: it disappears from lists and stops;
// participations are kept and the key is never reused.
func (a ChallengesAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, challenges, key); err != nil {
		return fmt.Errorf("delete challenge %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

// BulkCreate creates up to 100 challenges in one commit. Items that fail
// are reported as issues and skipped; the others are created.
func (a ChallengesAPI) BulkCreate(ctx context.Context, cs []Challenge) ([]Challenge, []Issue, error) {
	return bulkCreate(ctx, a.e, challenges, "Challenges", cs, func(c *Challenge) string { return c.Key })
}

// BulkPatch runs edit on up to 100 challenges in one commit (as Patch does
// for one), reporting failures per item; it returns the challenges it
// changed.
func (a ChallengesAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Challenge)) ([]Challenge, []Issue, error) {
	return challenges.bulkPatch(ctx, a.e, keys, edit)
}

// BulkDelete archives up to 100 challenges in one commit, reporting
// failures per item.
func (a ChallengesAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return bulkDelete(ctx, a.e, challenges, keys)
}

// setChallengeStatus keeps when the challenge was inactive: only a change
// between active and inactive opens or closes an interval.
func setChallengeStatus(c *Challenge, s Status, now time.Time) {
	c.Inactive = offAfterStatus(c.Inactive, c.Status, s, now)
	c.Status, c.Updated = s, now
}

var _ = registerKind("challenge", kindOps[Challenge]{
	of:     func(string) resource[Challenge] { return challenges },
	create: checkedCreate((*Challenge).Validate, (*txn).createChallenge),
	status: func(t *txn, _, key string, to Status) (Challenge, error) {
		return challenges.restatus(t, key, to, setChallengeStatus, (*txn).putChallenge)
	},
	archive: func(t *txn, _, key string) error {
		_, err := challenges.restatus(t, key, StatusArchived, setChallengeStatus, (*txn).putChallenge)
		return err
	},
})
