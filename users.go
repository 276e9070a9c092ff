package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// User is a participant as stored.
type User struct {
	ID                string // the caller's id, 1–255 characters
	Name              string
	Email             string // empty when SubscribeToEmails is false
	TZ                string // IANA time zone; empty means Options.DefaultTimezone
	Attributes        map[string]string
	DeviceTokens      []string
	SubscribeToEmails bool // default true
	Created           time.Time
	Updated           time.Time
	Active            bool // false after Anonymize or Deactivate
	// Control puts the user in the experiment's control group: tracked as
	// usual, sent no outbound notifications (see Options.ControlRatio).
	Control bool
}

// UserInput carries the fields to set on a user. Empty fields leave the stored
// value unchanged, so an event can carry a partial profile. Attributes are
// merged key by key; an attribute set to "" is removed. A non-nil
// DeviceTokens replaces the stored list.
type UserInput struct {
	ID                string
	Name              string
	Email             string
	TZ                string
	Attributes        map[string]string
	DeviceTokens      []string
	SubscribeToEmails *bool // false also erases the stored email
	// Control, when set, puts the user in (true) or out of (false) the
	// control group; nil keeps the stored flag (for a new user, the one
	// Options.ControlRatio assigns).
	Control *bool
}

// NotificationType names a kind of message a user may receive.
type NotificationType string

// The notification types a user may set channels for (Trophy's preference types).
const (
	NotifyAchievementCompleted NotificationType = "achievement_completed"
	NotifyRecap                NotificationType = "recap"
	NotifyReactivation         NotificationType = "reactivation"
	NotifyStreakReminder       NotificationType = "streak_reminder"
)

// Channel is a way to reach a user.
type Channel string

// The channels a notification type may use.
const (
	ChannelEmail Channel = "email"
	ChannelPush  Channel = "push"
)

// Preferences are a user's notification and streak choices.
type Preferences struct {
	// Notifications maps each type to the channels the user accepts. A type
	// with an empty list is muted. Default: every type on every channel.
	Notifications map[NotificationType][]Channel
	// Streak personalizes streaks whose definition allows it.
	Streak StreakPreferences
	// ReminderHour is the local hour, 1–24 (24 is midnight), of the user's
	// reminders (Options.Reminders); 0 keeps ReminderOptions.Hour.
	ReminderHour int `json:",omitempty"`
}

// StreakPreferences personalize a streak: when Enabled, Thresholds (metric
// key → minimum change per period) replace the definition's minimums.
// OptOut takes the user out of every streak: lengths read 0, events and
// period ends leave the streaks alone, and no streak notification is sent.
type StreakPreferences struct {
	Enabled    bool
	Thresholds map[string]Amount `json:",omitempty"`
	OptOut     bool              `json:",omitempty"`
}

// newUserPreferences are the preferences a new user starts with, one value
// shared by every user who has not changed them: preferences are only ever
// replaced, never written in place (see profileDecoder), and a cached user
// would otherwise hold a map of its own (about 0.4 KB).
var newUserPreferences = defaultPreferences()

func defaultPreferences() Preferences {
	all := []Channel{ChannelEmail, ChannelPush}
	return Preferences{Notifications: map[NotificationType][]Channel{
		NotifyAchievementCompleted: all, NotifyRecap: all, NotifyReactivation: all, NotifyStreakReminder: all,
	}}
}

func (p *Preferences) validate(cat *catalog) error {
	var errs []error
	for typ, chans := range p.Notifications {
		switch typ {
		case NotifyAchievementCompleted, NotifyRecap, NotifyReactivation, NotifyStreakReminder:
		default:
			errs = append(errs, gamifytype.Invalid("Preferences.Notifications", typ, "is not a notification type"))
		}
		if err := checkSet("Preferences.Notifications["+string(typ)+"]", chans, 2); err != nil {
			errs = append(errs, err)
			continue
		}
		for i, c := range chans {
			if c != ChannelEmail && c != ChannelPush {
				errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Preferences.Notifications[%s][%d]", typ, i), c, "must be email or push"))
			}
		}
	}
	if p.ReminderHour < 0 || p.ReminderHour > 24 {
		errs = append(errs, gamifytype.Invalid("Preferences.ReminderHour", p.ReminderHour, "must be between 1 and 24, or 0 for the engine's"))
	}
	for k, v := range p.Streak.Thresholds {
		field := "Preferences.Streak.Thresholds[" + k + "]"
		switch m, ok := cat.metrics[k]; {
		case !ok || m.Status == StatusArchived: // as an event of it would be
			errs = append(errs, gamifytype.NotFound(field, k, "metric"))
		case m.Status != StatusActive:
			errs = append(errs, gamifytype.Conflict(field, k, "is not an active metric"))
		}
		if v.Sign() < 0 {
			errs = append(errs, gamifytype.Invalid(field, v, "must not be negative"))
		}
	}
	return errors.Join(errs...)
}

var locations sync.Map // name → *time.Location; LoadLocation parses tzdata each call

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

func validateUserID(field, id string) error { return gamifytype.CheckID(field, id) }

// checkUserIDs checks the users of a bulk change: 1 to BulkLimit valid
// ids.
func checkUserIDs(field string, users []string) error {
	if err := checkBulk(field, len(users)); err != nil {
		return err
	}
	for i, id := range users {
		if err := validateUserID(fmt.Sprintf("%s[%d]", field, i), id); err != nil {
			return err
		}
	}
	return nil
}

// checkUserList is checkUserIDs for a bulk read, whose answer has one row
// per user: none may be listed twice.
func checkUserList(field string, users []string) error {
	if err := checkUserIDs(field, users); err != nil {
		return err
	}
	return checkSet(field, users, BulkLimit)
}

// maxEmailLen is the longest e-mail address (RFC 5321's path limit).
const maxEmailLen = 320

// checkZone refuses a name that is not an IANA zone, bounding its length
// before the zone database is consulted.
func checkZone(field, tz string) error {
	if err := gamifytype.CheckText(field, tz, gamifytype.MaxNameLen); err != nil {
		return err
	}
	if _, err := loadLocation(tz); err != nil || tz == "Local" {
		return gamifytype.Invalid(field, tz, "is not an IANA time zone")
	}
	return nil
}

// validate reports every bad field; prefix names the input ("User", "Event.Profile").
func (in *UserInput) validate(prefix string, cat *catalog, idRequired bool) error {
	var errs []error
	if idRequired || in.ID != "" {
		errs = append(errs, validateUserID(prefix+".ID", in.ID))
	}
	errs = append(errs, gamifytype.CheckText(prefix+".Name", in.Name, gamifytype.MaxNameLen))
	if err := gamifytype.CheckText(prefix+".Email", in.Email, maxEmailLen); err != nil {
		errs = append(errs, err)
	} else if in.Email != "" && (!strings.Contains(in.Email, "@") || strings.ContainsAny(in.Email, " \t\r\n")) {
		errs = append(errs, gamifytype.Invalid(prefix+".Email", in.Email, "is not an email address"))
	}
	if in.TZ != "" {
		errs = append(errs, checkZone(prefix+".TZ", in.TZ))
	}
	errs = append(errs, cat.checkAttributes(prefix+".Attributes", UserAttribute, in.Attributes))
	if len(in.DeviceTokens) > gamifytype.MaxListLen {
		errs = append(errs, gamifytype.CheckLen(prefix+".DeviceTokens", len(in.DeviceTokens), gamifytype.MaxListLen))
	} else {
		for i, tok := range in.DeviceTokens {
			field := fmt.Sprintf("%s.DeviceTokens[%d]", prefix, i)
			if tok == "" {
				errs = append(errs, gamifytype.Invalid(field, tok, "must not be empty"))
			}
			errs = append(errs, gamifytype.CheckText(field, tok, gamifytype.MaxTextLen))
		}
	}
	return errors.Join(errs...)
}

// merge applies in to the profile and reports whether anything changed.
// at is the time the values belong to: an event's time for its Profile,
// else now. A value that changed at a later time than at is kept (a late
// event's old profile does not undo a newer change), unless force (a call
// made now, which always applies). So is one that a later event sent
// again unchanged: seen, when not nil, holds when each field was last sent
// so (the user's state record, which an event rewrites anyway, so that a
// profile sent with every event does not rewrite the profile record).
func (p *profile) merge(in *UserInput, at time.Time, force bool, now time.Time, seen *[]profileSeen) bool {
	changed := false
	atNs := at.UnixNano()
	ownedSetAt := false                // shared with the committed record too: copy before writing
	newer := func(field string) bool { // a value changed or sent after at is held
		t, ok := p.SetAt[field]
		all, allOK := p.SetAt[anyProfileField]
		return !force && (ok && t > atNs || allOK && all > atNs || seen != nil && seenAt(*seen, field) > atNs)
	}
	ownedSeen := false // shared with the committed record too: copy before writing
	see := func(field string) {
		if !ownedSeen {
			*seen, ownedSeen = slices.Clone(*seen), true
		}
		*seen = putSeen(*seen, field, atNs, force)
	}
	same := func(field string) { // the value held was sent again at at
		if seen == nil {
			return
		}
		if t := seenAt(*seen, field); atNs > max(p.SetAt[field], t) || force && t > atNs {
			see(field) // a call made now dates it now, over a repeat an event dated ahead left
		}
	}
	stampField := func(field string) {
		changed = true
		if !ownedSetAt {
			p.SetAt, ownedSetAt = maps.Clone(p.SetAt), true
		}
		if p.SetAt == nil {
			p.SetAt = make(map[string]int64)
		}
		if force {
			p.SetAt[field] = atNs // a call made now: a stamp an event dated ahead left does not hold
			if seen != nil && seenAt(*seen, field) > atNs {
				see(field) // nor does a repeat an event dated ahead left
			}
		} else {
			p.SetAt[field] = max(p.SetAt[field], atNs)
		}
	}
	set := func(field string, dst *string, v string) {
		switch {
		case v == "":
		case *dst == v:
			same(field)
		case !newer(field):
			*dst = v
			stampField(field)
		}
	}
	set("name", &p.Name, in.Name)
	set("tz", &p.TZ, in.TZ)
	if in.Control != nil && *in.Control == p.Control {
		same("control")
	} else if in.Control != nil && !newer("control") {
		p.Control = *in.Control
		stampField("control")
	}
	if in.SubscribeToEmails != nil && *in.SubscribeToEmails == p.SubscribeToEmails {
		same("subscribeToEmails")
	} else if in.SubscribeToEmails != nil && !newer("subscribeToEmails") {
		p.SubscribeToEmails = *in.SubscribeToEmails
		stampField("subscribeToEmails")
	}
	if p.SubscribeToEmails {
		set("email", &p.Email, in.Email)
	} else if p.Email != "" {
		p.Email, changed = "", true // an unsubscribed user's email is not stored
	}
	owned := false // the map is shared with the user's committed record (userRec.clone): copy before writing
	for k, v := range in.Attributes {
		old, had := p.Attributes[k]
		if !(had && v == "" || v != "" && old != v) {
			same("attributes." + k) // the value held, or "" for one it does not have
			continue
		}
		if newer("attributes." + k) {
			continue
		}
		if !owned {
			p.Attributes, owned = cloneMap(p.Attributes), true
		}
		if v == "" {
			delete(p.Attributes, k)
		} else {
			if p.Attributes == nil {
				p.Attributes = make(map[string]string)
			}
			p.Attributes[k] = v
		}
		stampField("attributes." + k)
	}
	if len(p.Attributes) == 0 {
		p.Attributes = nil
	}
	if in.DeviceTokens != nil && slices.Equal(in.DeviceTokens, p.DeviceTokens) {
		same("deviceTokens")
	} else if in.DeviceTokens != nil && !newer("deviceTokens") {
		p.DeviceTokens = slices.Clone(in.DeviceTokens)
		stampField("deviceTokens")
	}
	if changed {
		p.Updated = stamp(now)
	}
	return changed
}

// anyProfileField in profile.SetAt is when every field last changed at once
// (Anonymize).
const anyProfileField = "*"

func (p *profile) user() User {
	return User{
		ID: p.ID, Name: p.Name, Email: p.Email, TZ: p.TZ, Attributes: cloneMap(p.Attributes),
		DeviceTokens: slices.Clone(p.DeviceTokens), SubscribeToEmails: p.SubscribeToEmails,
		Created: p.Created, Updated: p.Updated, Active: p.Active, Control: p.Control,
	}
}

// UsersAPI manages participants. Get it from Engine.Users.
type UsersAPI struct{ e *Engine }

// Users returns the participants API.
func (e *Engine) Users() UsersAPI { return UsersAPI{e} }

// Create creates a user; an existing id is ErrConflict.
func (a UsersAPI) Create(ctx context.Context, in UserInput) (User, error) {
	return a.upsert(ctx, in, "create")
}

// Identify creates the user or updates the given fields (upsert).
func (a UsersAPI) Identify(ctx context.Context, in UserInput) (User, error) {
	return a.upsert(ctx, in, "identify")
}

// Update changes the given fields of an existing user; unknown is ErrNotFound.
func (a UsersAPI) Update(ctx context.Context, in UserInput) (User, error) {
	return a.upsert(ctx, in, "update")
}

// upsertChecks says, per verb of upsert, whether the user may exist.
var upsertChecks = map[string]func(exists bool) error{
	"create": func(exists bool) error {
		if exists {
			return ErrConflict
		}
		return nil
	},
	"identify": func(bool) error { return nil },
	"update": func(exists bool) error {
		if !exists {
			return ErrNotFound
		}
		return nil
	},
}

func (a UsersAPI) upsert(ctx context.Context, in UserInput, op string) (User, error) {
	if err := a.e.live(); err != nil {
		return User{}, err
	}
	if err := in.validate("User", a.e.cat.Load(), true); err != nil {
		return User{}, err
	}
	v, err := a.e.exec(ctx, a.e.now(), upsertOp.cmd(upsertArgs{Verb: op, User: in}))
	if err != nil {
		return User{}, fmt.Errorf("%s user %q: %w", op, in.ID, err)
	}
	return v.(User), nil
}

type upsertArgs struct {
	Verb string // create, identify or update: a key of upsertChecks
	User UserInput
}

var upsertOp = newOp("user.upsert", func(t *txn, a upsertArgs) (User, error) {
	check, ok := upsertChecks[a.Verb]
	if !ok {
		return User{}, fmt.Errorf("gamify: unknown user upsert %s", gamifytype.Quote(a.Verb))
	}
	in := a.User
	existing, err := t.user(in.ID, false)
	if err != nil {
		return User{}, err
	}
	if err := check(existing != nil); err != nil {
		return User{}, err
	}
	// Attributes may have been archived since the boundary check.
	if err := t.w.cat.checkAttributes("User.Attributes", UserAttribute, in.Attributes); err != nil {
		return User{}, err
	}
	u, err := t.createWith(in.ID, &in)
	if err != nil {
		return User{}, err
	}
	if u.p.merge(&in, t.now, true, t.now, &u.s.Seen) {
		u.profileDirty = true
		if err := t.regroup(u); err != nil {
			return User{}, err
		}
	}
	return u.p.user(), nil
})

// Get returns a user, or ErrNotFound. It reads your writes in both modes:
// a user created or changed by an acknowledged call (a Buffered Track
// returns before its batch commits) is found with that profile. In Buffered
// mode a user with changes not yet committed is read from the writer's
// working state, so Get may also show a change whose batch later fails to
// commit, which then takes it back as it takes back the events.
func (a UsersAPI) Get(ctx context.Context, id string) (User, error) {
	if err := a.e.live(); err != nil {
		return User{}, err
	}
	if u, ok := a.e.w.working(id, func(p *profile) any { return p.user() }); ok {
		return u.(User), nil
	}
	p, _, err := a.e.readUser(id, false)
	if err != nil {
		return User{}, err
	}
	return p.user(), nil
}

// working returns read(profile) of user id as the writer holds it, if the
// engine is Buffered and the user has changes not yet committed: the store
// lags the acknowledged state only then (a Durable caller is answered after
// its commit is published). read runs under the writer's lock and must copy
// what it keeps: the record is recycled once replaced.
//
// Read-your-writes is served from the working state rather than by waiting
// for the batch holding the user's last command, because waiting costs a
// reader up to MaxFlushDelay and the hot path a per-user generation record;
// this costs the plain Track nothing and a Get the writer's lock briefly.
// Only top-level reads may call it: the writer takes board-index and store
// locks under its own lock, so a reader holding those must not take it.
func (w *writer) working(id string, read func(*profile) any) (any, bool) {
	if w.opts.Durability != Buffered {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	u, ok := w.users[id]
	// The open batch has generation w.gen, the one in flight w.gen-1; older
	// ones are committed, and the store serves them.
	if !ok || (u.gen != w.gen && !(w.inFlight && u.gen+1 == w.gen)) {
		return nil, false
	}
	return read(&u.p), true
}

// readParticipant is readUser for the top-level reads of a user's numbers:
// a user an acknowledged Buffered call created, whose batch has not
// committed yet, exists (Get finds them) with no committed numbers, so
// their reads give zeros rather than ErrNotFound. Not for a caller holding
// board or store locks (writer.working).
func (e *Engine) readParticipant(id string, withState bool) (*profile, *userState, error) {
	p, s, err := e.readUser(id, withState)
	if errors.Is(err, ErrNotFound) {
		if v, ok := e.w.working(id, func(p *profile) any { c := *p; return &c }); ok {
			return v.(*profile), &userState{}, nil
		}
	}
	return p, s, err
}

// readUser reads a committed profile (and, if withState, the numbers).
func (e *Engine) readUser(id string, withState bool) (*profile, *userState, error) {
	if err := e.live(); err != nil {
		return nil, nil, err
	}
	var p *profile
	var s *userState
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		p, s, err = readUserTx(tx, id, withState)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return p, s, nil
}

// readUserTx reads a profile (and, if withState, the numbers) in tx.
func readUserTx(tx *store.Tx, id string, withState bool) (*profile, *userState, error) {
	var p profile
	var s userState
	pv := tx.Get(store.Users, []byte(id))
	if pv == nil {
		return nil, nil, fmt.Errorf("user %q: %w", gamifytype.Quote(id), ErrNotFound)
	}
	if err := json.Unmarshal(pv, &p); err != nil {
		return nil, nil, fmt.Errorf("gamify: corrupt profile of %q: %w", id, err)
	}
	if withState {
		if sv := tx.Get(store.State, uidKey(p.UID)); sv != nil {
			if err := s.unmarshal(sv); err != nil {
				return nil, nil, err
			}
		}
	}
	return &p, &s, nil
}

// Preferences returns a user's preferences. Like Get, it reads your writes
// in both modes.
func (a UsersAPI) Preferences(ctx context.Context, id string) (Preferences, error) {
	if err := a.e.live(); err != nil {
		return Preferences{}, err
	}
	if v, ok := a.e.w.working(id, func(p *profile) any { return p.Preferences.clone() }); ok {
		return v.(Preferences), nil
	}
	p, _, err := a.e.readUser(id, false)
	if err != nil {
		return Preferences{}, err
	}
	return p.Preferences, nil
}

// PatchPreferences changes a user's preferences as Patch changes a
// definition: edit gets a copy of the stored preferences and sets what it
// means to change; the rest is kept (a change of notification channels
// leaves the streak personalization alone, and the other way round). Unknown
// users are ErrNotFound; bad preferences are a ValidationError naming the
// field, changing nothing (a threshold of an unknown or archived metric is
// also ErrNotFound, of an inactive one ErrConflict). edit runs outside the
// writer and may run again if the user's preferences change meanwhile.
func (a UsersAPI) PatchPreferences(ctx context.Context, id string, edit func(*Preferences)) (Preferences, error) {
	if edit == nil {
		return Preferences{}, errNilEdit
	}
	if err := a.e.live(); err != nil {
		return Preferences{}, err
	}
	for range maxPatchAttempts {
		p, _, err := a.e.readUser(id, false)
		if err != nil {
			return Preferences{}, fmt.Errorf("patch preferences of %q: %w", gamifytype.Quote(id), err)
		}
		base := p.Preferences.clone()
		prefs := base.clone()
		edit(&prefs)
		if err := prefs.validate(a.e.cat.Load()); err != nil {
			return Preferences{}, err
		}
		prefs = prefs.clone() // the edit's maps are the caller's
		if len(prefs.Streak.Thresholds) == 0 {
			prefs.Streak.Thresholds = nil // as stored (omitempty), and as the command decodes
		}
		baseJSON, err := json.Marshal(base)
		if err != nil {
			return Preferences{}, err
		}
		v, err := a.e.exec(ctx, a.e.now(), setPreferencesOp.cmd(preferencesArgs{User: id, Base: string(baseJSON), Preferences: prefs}))
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return Preferences{}, fmt.Errorf("patch preferences of %q: %w", gamifytype.Quote(id), err)
		}
		return v.(Preferences), nil
	}
	return Preferences{}, fmt.Errorf("patch preferences of %q: %w: they kept changing under concurrent writes", gamifytype.Quote(id), ErrConflict)
}

type preferencesArgs struct {
	User        string
	Base        string // the JSON of the preferences the edit ran on
	Preferences Preferences
}

// setPreferencesOp sets a user's preferences, unless they changed since the
// edit read them (errStale): content is compared, as a log holds no pointer.
var setPreferencesOp = newOp("user.set_preferences", func(t *txn, a preferencesArgs) (Preferences, error) {
	u, err := t.user(a.User, false)
	if err != nil || u == nil {
		return Preferences{}, cmpErr(err, ErrNotFound)
	}
	cur, err := json.Marshal(u.p.Preferences)
	if err != nil {
		return Preferences{}, err
	}
	if string(cur) != a.Base {
		return Preferences{}, errStale
	}
	u.p.Preferences = a.Preferences.clone()
	u.p.Updated = stamp(t.now)
	u.profileDirty = true
	return a.Preferences.clone(), nil
})

// clone copies p deeply: no map or slice is shared.
func (p Preferences) clone() Preferences {
	out := Preferences{Streak: StreakPreferences{Enabled: p.Streak.Enabled, Thresholds: cloneMap(p.Streak.Thresholds), OptOut: p.Streak.OptOut},
		ReminderHour: p.ReminderHour}
	if p.Notifications != nil {
		out.Notifications = make(map[NotificationType][]Channel, len(p.Notifications))
		for k, v := range p.Notifications {
			out.Notifications[k] = slices.Clone(v)
		}
	}
	return out
}

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// UserMetric is a user's running total of one metric.
type UserMetric struct {
	Key      string
	Name     string
	UnitType UnitType
	Units    string
	Total    Amount
	Events   uint64 // events tracked for this metric
	// Achievements are the user's metric achievements of this metric: the
	// completed ones and the visible others, with progress, in display order.
	Achievements []UserAchievement
}

// Metrics returns the user's totals of every active metric (zero for those
// never tracked), in metric creation order.
func (a UsersAPI) Metrics(ctx context.Context, id string) ([]UserMetric, error) {
	p, s, err := a.e.readParticipant(id, true)
	if err != nil {
		return nil, err
	}
	cat := a.e.cat.Load()
	achs := metricAchievements(cat, p, s, a.e.facts(cat, p, s))
	var out []UserMetric
	for ref := uint32(1); ref <= cat.lastMetricRef; ref++ {
		m, ok := cat.metricByRef[ref]
		if !ok || m.Status != StatusActive {
			continue
		}
		um := userMetric(m, s)
		um.Achievements = achs[m.Key]
		out = append(out, um)
	}
	return out, nil
}

// Metric returns the user's total of one metric.
func (a UsersAPI) Metric(ctx context.Context, id, metric string) (UserMetric, error) {
	cat := a.e.cat.Load()
	m, ok := cat.metrics[metric]
	if !ok {
		return UserMetric{}, fmt.Errorf("metric %s: %w", metric, ErrNotFound)
	}
	p, s, err := a.e.readParticipant(id, true)
	if err != nil {
		return UserMetric{}, err
	}
	um := userMetric(m, s)
	um.Achievements = metricAchievements(cat, p, s, a.e.facts(cat, p, s))[m.Key]
	return um, nil
}

func userMetric(m *Metric, s *userState) UserMetric {
	um := UserMetric{Key: m.Key, Name: m.Name, UnitType: m.UnitType, Units: m.Units}
	if i, ok := s.metric(m.ref); ok {
		um.Total, um.Events = s.Metrics[i].Total, s.Metrics[i].Events
	}
	return um
}

// Erase hard-deletes a user (Bricqs' participant delete), removing every
// trace of them: profile and preferences, the id
// index, totals, streaks, points, achievements and day aggregates (the state
// record and the Daily keyspace), idempotency keys, ledger entries, award-log
// records, claims, per-user boosts (a claim's or an admin's, removed from
// the catalogue: a key may name the user, and a new user with the same id
// must not inherit them), leaderboard entries of current runs (in memory
// and stored) and of frozen past runs, and the user's outbox entries
// (committed or still in the open batch). (Codes the user claimed stay marked
// as given out, by no one.) Other users keep their
// standings; a frozen run keeps its ranks with a gap.
//
// bbolt keeps freed pages' old bytes until they are reused, so the user's id
// and email may still be found in the file until Compact runs: close the
// engine and call Compact to make the deletion final.
//
// The ledger is keyed by sequence, so Erase scans all of it (and all frozen
// runs) while holding the writer: on a large store, schedule it off-peak.
func (a UsersAPI) Erase(ctx context.Context, id string) error {
	if err := validateUserID("User.ID", id); err != nil {
		return err
	}
	_, err := a.e.do(ctx, deleteCmd(id), a.e.now(), true)
	if err != nil {
		return fmt.Errorf("erase user %q: %w", gamifytype.Quote(id), err)
	}
	return nil
}

// Deactivate marks a user inactive (Bricqs' explicit deactivation): the
// user shows as inactive in Get and in lists, where UserQuery.Active
// filters on it. It is a mark for the game's own use: the user's events,
// awards and claims still apply, so nothing a device sends later is lost.
// Deactivating an inactive user changes nothing.
func (a UsersAPI) Deactivate(ctx context.Context, id string) (User, error) {
	return a.setActive(ctx, id, false)
}

// Activate marks a deactivated (or anonymized) user active again.
// Activating an active user changes nothing.
func (a UsersAPI) Activate(ctx context.Context, id string) (User, error) {
	return a.setActive(ctx, id, true)
}

func (a UsersAPI) setActive(ctx context.Context, id string, active bool) (User, error) {
	v, err := a.e.exec(ctx, a.e.now(), setActiveOp.cmd(activeArgs{User: id, Active: active}))
	if err != nil {
		return User{}, fmt.Errorf("set user %q active=%t: %w", gamifytype.Quote(id), active, err)
	}
	return v.(User), nil
}

type activeArgs struct {
	User   string
	Active bool
}

var setActiveOp = newOp("user.set_active", func(t *txn, a activeArgs) (User, error) {
	u, err := t.user(a.User, false)
	if err != nil || u == nil {
		return User{}, cmpErr(err, ErrNotFound)
	}
	if u.p.Active != a.Active {
		u.p.Active, u.p.Updated = a.Active, stamp(t.now)
		u.profileDirty = true
	}
	return u.p.user(), nil
})

// Anonymize clears a user's personal data (name, email, device tokens,
// attributes, time zone) and marks them inactive, keeping their numbers,
// history and standings under the same id.
func (a UsersAPI) Anonymize(ctx context.Context, id string) (User, error) {
	v, err := a.e.exec(ctx, a.e.now(), anonymizeOp.cmd(id))
	if err != nil {
		return User{}, fmt.Errorf("anonymize user %q: %w", gamifytype.Quote(id), err)
	}
	return v.(User), nil
}

var anonymizeOp = newOp("user.anonymize", func(t *txn, id string) (User, error) {
	u, err := t.user(id, false)
	if err != nil || u == nil {
		return User{}, cmpErr(err, ErrNotFound)
	}
	p := &u.p
	p.Name, p.Email, p.TZ, p.Attributes, p.DeviceTokens = "", "", "", nil, nil
	p.Active, p.SubscribeToEmails, p.Updated = false, false, stamp(t.now)
	// Every field, those it never had included, changed now: a late event's
	// older Profile cannot put personal data back.
	p.SetAt = map[string]int64{anyProfileField: t.now.UnixNano()}
	u.s.Seen = nil // nor do the repeats of events dated ahead
	u.profileDirty = true
	if err := t.regroup(u); err != nil { // no attributes: the board's ungrouped values
		return User{}, err
	}
	return p.user(), nil
})

// Points returns a user's balance in a system.
func (a UsersAPI) Points(ctx context.Context, id, system string) (UserPoints, error) {
	cat := a.e.cat.Load()
	sys, ok := cat.points.systems[system]
	if !ok {
		return UserPoints{}, fmt.Errorf("points system %s: %w", gamifytype.Quote(system), ErrNotFound)
	}
	_, s, err := a.e.readParticipant(id, true)
	if err != nil {
		return UserPoints{}, err
	}
	var st points.State
	if i, ok := s.pointsOf(sys.ref); ok {
		st = s.Points[i].St
	}
	up := UserPoints{System: system, Total: st.Total(), Spent: st.Spent(), Available: st.Available()}
	up.Level, up.Pinned = st.LevelKey()
	if next, req, rem, ok := points.NextLevel(cat.points.ladders[system], st.Total()); ok {
		up.NextLevel, up.Required, up.Remaining = next.Key, req, rem
	}
	return up, nil
}

// Awards returns a page of a user's awards in a system, latest first, paged
// by opts (Limit 1–100, default 100; Skip). Each carries its id (the
// ledger sequence), time, trigger, boosts and total after. The latest 32
// come from the user's index; older pages scan the award log backwards.
func (a UsersAPI) Awards(ctx context.Context, id, system string, opts ListOptions) ([]Award, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	offset := opts.Skip
	want := offset + limit
	sys, ok := a.e.cat.Load().points.systems[system]
	if !ok {
		return nil, fmt.Errorf("points system %s: %w", gamifytype.Quote(system), ErrNotFound)
	}
	p, s, err := a.e.readParticipant(id, true)
	if err != nil {
		return nil, err
	}
	var recent []uint64
	if i, ok := s.pointsOf(sys.ref); ok {
		recent = s.Points[i].Recent
	}
	var out []Award
	err = a.e.db.View(func(tx *store.Tx) error {
		decode := func(v []byte) (awardRecord, error) {
			var r awardRecord
			return r, r.unmarshal(v)
		}
		for i := len(recent) - 1; i >= 0 && len(out) < want; i-- {
			r, err := decode(tx.Get(store.Awards, binary.BigEndian.AppendUint64(nil, recent[i])))
			if err != nil {
				return err
			}
			out = append(out, awardOf(recent[i], time.Unix(0, r.At).UTC(), r.Award))
		}
		if len(out) >= want || len(recent) < recentAwards {
			return nil // the index holds every award the user has
		}
		from := recent[0]
		return tx.ScanReverse(store.Awards, nil, func(k, v []byte) error {
			if binary.BigEndian.Uint64(k) >= from {
				return nil
			}
			r, err := decode(v)
			if err != nil {
				return err
			}
			if r.User == p.UID && r.Ref == sys.ref {
				out = append(out, awardOf(binary.BigEndian.Uint64(k), time.Unix(0, r.At).UTC(), r.Award))
				if len(out) >= want {
					return store.ErrStop
				}
			}
			return nil
		})
	})
	if err != nil || offset >= len(out) {
		return []Award{}, err
	}
	return out[offset:], nil
}

// Claims returns a user's claims, latest first.
func (a UsersAPI) Claims(ctx context.Context, id string) ([]Claim, error) {
	p, _, err := a.e.readParticipant(id, false)
	if err != nil {
		return nil, err
	}
	var out []Claim
	err = a.e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Claims, uidKey(p.UID), func(_, v []byte) error {
			var c Claim
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	slices.SortFunc(out, func(x, y Claim) int { return cmp.Compare(y.Seq, x.Seq) })
	return out, err
}

// Streak returns a user's status in a streak, computed from the clock (right
// even if no scheduled job has processed the latest period end).
func (a UsersAPI) Streak(ctx context.Context, id, key string) (UserStreak, error) {
	s, p, us, err := a.e.readStreak(id, key)
	if err != nil {
		return UserStreak{}, err
	}
	return UserStreak{Key: s.Key, StreakStatus: StreakStatus(streak.View(s.personalized(p), us.St, a.e.now(), a.e.location(p)))}, nil
}

// Streaks returns a user's status in every active streak.
func (a UsersAPI) Streaks(ctx context.Context, id string) ([]UserStreak, error) {
	p, st, err := a.e.readParticipant(id, true)
	if err != nil {
		return nil, err
	}
	cat, now, loc := a.e.cat.Load(), a.e.now(), a.e.location(p)
	var out []UserStreak
	for ref := uint32(1); ref <= cat.lastStreakRef; ref++ {
		s, ok := cat.streakByRef[ref]
		if !ok || s.Status != StatusActive {
			continue
		}
		var us userStreak
		if i, ok := st.streak(ref); ok && !p.Preferences.Streak.OptOut {
			us = st.Streaks[i]
		}
		out = append(out, UserStreak{Key: s.Key, StreakStatus: StreakStatus(streak.View(s.personalized(p), us.St, now, loc))})
	}
	return out, nil
}

// StreakHistory returns the last n periods (n is 1 to 400; 0 means 7),
// oldest first, ending with the current one; fewer when the retained window
// is shorter (a weekly streak gives at most 63 periods, a monthly one 28).
func (a UsersAPI) StreakHistory(ctx context.Context, id, key string, n int) ([]StreakPeriod, error) {
	n = cmp.Or(n, 7)
	if n < 1 || n > 400 {
		return nil, gamifytype.Invalid("N", n, "must be between 1 and 400 (0 for 7)")
	}
	s, p, us, err := a.e.readStreak(id, key)
	if err != nil {
		return nil, err
	}
	hist := streak.History(s.personalized(p), us.St, a.e.now(), a.e.location(p), n)
	out := make([]StreakPeriod, 0, len(hist))
	for _, x := range hist {
		out = append(out, StreakPeriod{First: Date(x.First), Start: x.Start, End: x.End, Length: x.Length,
			Met: x.Met, UsedFreeze: x.UsedFreeze, UsedPause: x.UsedPause, Missed: x.Missed})
	}
	return out, nil
}

// StreakPauses lists a user's pauses of a streak.
func (a UsersAPI) StreakPauses(ctx context.Context, id, key string) ([]StreakPause, error) {
	_, _, us, err := a.e.readStreak(id, key)
	if err != nil {
		return nil, err
	}
	ps := streak.Pauses(us.St)
	out := make([]StreakPause, 0, len(ps))
	for _, x := range ps {
		out = append(out, pauseOf(x))
	}
	return out, nil
}

// MetricSummary returns a user's history of a metric per period, from the
// stored day aggregates (no ledger scan). Days are the user's local dates
// when the events happened, so a time-zone change neither loses nor doubles
// one. Quiet periods are included with a change of 0.
func (a UsersAPI) MetricSummary(ctx context.Context, id, metric string, q SummaryQuery) ([]SummaryRow, error) {
	from, to, err := q.validate()
	if err != nil {
		return nil, err
	}
	m, ok := a.e.cat.Load().metrics[metric]
	if !ok {
		return nil, fmt.Errorf("metric %s: %w", metric, ErrNotFound)
	}
	p, s, err := a.e.readParticipant(id, true)
	if err != nil {
		return nil, err
	}
	var total Amount
	if i, ok := s.metric(m.ref); ok {
		total = s.Metrics[i].Total
	}
	return a.e.summarize(p, s, m.ref, total, q, from, to)
}

// PointsSummary returns a user's points in a system per period: the total
// awarded at the end of each period and the points awarded during it (from
// per-day aggregates kept on the write path, in the user's local dates).
func (a UsersAPI) PointsSummary(ctx context.Context, id, system string, q SummaryQuery) ([]SummaryRow, error) {
	from, to, err := q.validate()
	if err != nil {
		return nil, err
	}
	sys, ok := a.e.cat.Load().points.systems[system]
	if !ok {
		return nil, fmt.Errorf("points system %s: %w", gamifytype.Quote(system), ErrNotFound)
	}
	p, s, err := a.e.readParticipant(id, true)
	if err != nil {
		return nil, err
	}
	var total Amount
	if i, ok := s.pointsOf(sys.ref); ok {
		total = s.Points[i].St.Total()
	}
	return a.e.summarize(p, s, pointsDayRef(sys.ref), total, q, from, to)
}

// UserRow is one row of a users list (Bricqs' participants list).
type UserRow struct {
	ID         string
	Name       string
	Active     bool
	Created    time.Time
	FirstEvent time.Time // zero before the first event
	LastEvent  time.Time
	Events     uint64
	// Points, Available and Level are in the points system of the query.
	Points    Amount
	Available Amount
	Level     string
}

// UserSort is a sort key of the participants list.
type UserSort string

// UserQuery selects a page of users.
type UserQuery struct {
	Search     string   // substring of id or name (case-insensitive); empty for all
	Active     *bool    // filter on active, when set
	Level      string   // filter on the level in System, when set
	System     string   // points system of Points/Level; default the first created
	Sort       UserSort // default created
	Descending bool
	Page       int // from 1; default 1
	PageSize   int // 1–100; default 50
}

// UserPage is a page of users with the total matching count and the page
// it is (the query's, defaults filled in).
type UserPage struct {
	Rows     []UserRow
	Total    int
	Page     int
	PageSize int
}

// List returns a page of users (Bricqs' participants), filtered, searched and sorted,
// with the total count of matching users. Sorting and paging use the
// indexes; a search or a filter walks them in order and tests each row.
// Sorted by total_points, users without a balance in the system count as 0.
// A System or Level that does not exist is ErrNotFound, a ValidationError
// naming UserQuery.System or UserQuery.Level. The first call builds the
// indexes (a scan of every user).
func (a UsersAPI) List(ctx context.Context, q UserQuery) (UserPage, error) {
	if err := a.e.live(); err != nil {
		return UserPage{}, err
	}
	q.Page = cmp.Or(q.Page, 1)
	q.PageSize = cmp.Or(q.PageSize, 50)
	q.Sort = cmp.Or(q.Sort, SortCreated)
	if q.Page < 1 {
		return UserPage{}, gamifytype.Invalid("UserQuery.Page", q.Page, "must be at least 1")
	}
	if q.PageSize < 1 || q.PageSize > 100 {
		return UserPage{}, gamifytype.Invalid("UserQuery.PageSize", q.PageSize, "must be between 1 and 100")
	}
	if q.Page > math.MaxInt/q.PageSize {
		return UserPage{}, gamifytype.Invalid("UserQuery.Page", q.Page, "is past every page")
	}
	cat := a.e.cat.Load()
	var sysRef uint32
	if q.System != "" {
		s, ok := cat.points.systems[q.System]
		if !ok {
			return UserPage{}, gamifytype.NotFound("UserQuery.System", q.System, "points system")
		}
		sysRef = s.ref
	} else {
		for ref := uint32(1); ref <= cat.points.lastSystemRef; ref++ {
			if _, ok := cat.points.systemByRef[ref]; ok {
				sysRef = ref
				break
			}
		}
	}
	if q.Level != "" { // an unknown level is not a filter that matches nobody
		if sys := cat.points.systemByRef[sysRef]; sys == nil || cat.points.levels[levelID(sys.Key, q.Level)] == nil {
			return UserPage{}, gamifytype.NotFound("UserQuery.Level", q.Level, "level of the system")
		}
	}
	treeKey := string(q.Sort)
	switch q.Sort {
	case SortCreated, SortLastEvent, SortID, SortName:
	case SortTotalPoints:
		if sysRef == 0 {
			// There are no points to sort by; an empty page with every user
			// counted in its total would hide the mistake.
			return UserPage{}, gamifytype.Invalid("UserQuery.Sort", q.Sort, "needs a points system, and there is none")
		}
		treeKey = fmt.Sprintf("points/%d", sysRef)
	default:
		return UserPage{}, gamifytype.Invalid("UserQuery.Sort", q.Sort, "must be created, total_points, last_event, id or name")
	}
	if err := a.e.buildParticipants(); err != nil {
		return UserPage{}, err
	}
	pt := &a.e.parts
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	search := strings.ToLower(q.Search)
	match := func(r *partRow) bool {
		if q.Active != nil && r.active != *q.Active {
			return false
		}
		if q.Level != "" && r.points[sysRef].level != q.Level {
			return false
		}
		return search == "" || strings.Contains(strings.ToLower(r.id), search) || strings.Contains(strings.ToLower(r.name), search)
	}
	filtered := q.Active != nil || q.Level != "" || search != ""
	skip := (q.Page - 1) * q.PageSize
	page := UserPage{Page: q.Page, PageSize: q.PageSize}
	visit := func(it partItem) bool {
		r := pt.rows[it.uid]
		if filtered && !match(r) {
			return true
		}
		if page.Total >= skip && len(page.Rows) < q.PageSize {
			page.Rows = append(page.Rows, r.public(sysRef))
		}
		page.Total++
		// Without filters the total is the index size: stop after the page.
		return filtered || len(page.Rows) < q.PageSize
	}
	t := pt.trees[treeKey]
	if t != nil {
		if q.Descending {
			t.Descend(visit)
		} else {
			t.Ascend(visit)
		}
	}
	if !filtered {
		page.Total = len(pt.rows)
		if q.Sort == SortTotalPoints && t != nil {
			page.Total = t.Len()
		}
	}
	return page, nil
}

// YearInReview returns a user's year in review. year 0 means the current
// year in the user's time zone; a year in the future or before the user's
// first activity (or creation) is a ValidationError. The first review of a
// year builds that year's distributions with one pass over all users
// (holding the writer); later ones read the user's record and one Daily
// prefix.
func (a UsersAPI) YearInReview(ctx context.Context, id string, year int) (YearReview, error) {
	e := a.e
	if err := e.live(); err != nil {
		return YearReview{}, err
	}
	// The user's record and day counts from one snapshot: a commit in
	// between could move a day from one to the other.
	var p *profile
	var s *userState
	var counts map[int32]int64
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		if p, s, err = readUserTx(tx, id, true); err != nil {
			return err
		}
		if year == 0 {
			year = e.now().In(e.location(p)).Year()
		}
		counts, err = eventDays(tx, p.UID, s, int32(year))
		return err
	})
	if err != nil {
		return YearReview{}, err
	}
	loc := e.location(p)
	// The first year is the earliest of the yearly numbers (kept in the
	// zone of each event) and of the creation.
	first := p.Created.In(loc).Year()
	for _, a := range s.Years {
		first = min(first, int(a.Year))
	}
	switch {
	case year > e.now().In(loc).Year():
		return YearReview{}, gamifytype.Invalid("Year", year, "is in the future")
	case year < first:
		return YearReview{}, gamifytype.Invalid("Year", year, fmt.Sprintf("is before the user's first activity in %d", first))
	}
	y := int32(year)
	if err := e.buildYear(y); err != nil {
		return YearReview{}, fmt.Errorf("year in review: %w", err)
	}
	r := YearReview{User: p.ID, Year: year}
	r.activity(counts)
	cat := e.cat.Load()
	var total func(ref uint32) (Amount, bool)
	for _, a := range s.Years {
		if a.Year != y {
			continue
		}
		switch a.Kind {
		case yearChange:
			var key string
			var list *[]YearTotal
			switch ref := a.Ref; {
			case ref == eventsDayRef:
				continue
			case ref&(1<<31) != 0:
				sys := cat.points.systemByRef[ref&^(1<<31)]
				if sys == nil {
					continue
				}
				key, list = sys.Key, &r.Points
				i, _ := s.pointsOf(sys.ref)
				total = func(uint32) (Amount, bool) { return s.Points[i].St.Total(), true }
			default:
				m := cat.metricByRef[ref]
				if m == nil {
					continue
				}
				key, list = m.Key, &r.Metrics
				total = func(ref uint32) (Amount, bool) {
					i, ok := s.metric(ref)
					return s.Metrics[i].Total, ok
				}
			}
			*list = append(*list, e.yearTotal(s, a, key, total))
		case yearStreak:
			if st := cat.streakByRef[a.Ref]; st != nil {
				r.Streaks = append(r.Streaks, YearStreak{Streak: st.Key, Length: int(a.Value)})
				if st == cat.defaultStreak {
					r.LongestStreak = int(a.Value)
				}
			}
		case yearRank:
			if b := cat.boardByRef[a.Ref]; b != nil {
				r.Leaderboards = append(r.Leaderboards, YearRank{Leaderboard: b.Key, Best: int(a.Value)})
			}
		}
	}
	for _, c := range s.Ach.Completions() {
		if c.At.In(loc).Year() == year {
			name := c.Key
			if d := cat.achievements[c.Key]; d != nil {
				name = d.Name
			}
			r.Achievements = append(r.Achievements, AchievementCompletion{Key: c.Key, Name: name, CompletedAt: c.At, Backdated: c.Backdated})
		}
	}
	slices.SortStableFunc(r.Achievements, func(a, b AchievementCompletion) int { return a.CompletedAt.Compare(b.CompletedAt) })
	for _, l := range [][]YearTotal{r.Metrics, r.Points} {
		slices.SortFunc(l, func(a, b YearTotal) int { return cmp.Compare(a.Key, b.Key) })
	}
	slices.SortFunc(r.Streaks, func(a, b YearStreak) int { return cmp.Compare(a.Streak, b.Streak) })
	slices.SortFunc(r.Leaderboards, func(a, b YearRank) int { return cmp.Compare(a.Leaderboard, b.Leaderboard) })
	return r, nil
}

// The sort keys.
const (
	SortCreated     UserSort = "created"
	SortTotalPoints UserSort = "total_points"
	SortLastEvent   UserSort = "last_event"
	SortID          UserSort = "id"
	SortName        UserSort = "name"
)

// Aggregation is the period of summary rows.
type Aggregation string

// The aggregations.
const (
	AggregateDaily   Aggregation = "daily"
	AggregateWeekly  Aggregation = "weekly" // weeks start on Monday
	AggregateMonthly Aggregation = "monthly"
)

// SummaryQuery selects a user's history of a metric: the periods of
// Aggregation that overlap the local dates Start (inclusive) to End
// (exclusive), at most 400 days apart.
type SummaryQuery struct {
	Aggregation Aggregation
	Start, End  Date
}

// SummaryRow is one period of a summary.
type SummaryRow struct {
	Start  Date   // first day of the period
	Total  Amount // the user's total at the end of the period
	Change Amount // the change during the period (0 for a quiet one)
}

// YearReview is a user's year in review, in the user's time zone.
type YearReview struct {
	User string
	Year int

	DaysActive, WeeksActive, MonthsActive int // with at least one event; weeks start on Monday
	Events                                int // events tracked in the year
	MostActiveDay                         *ActivePeriod
	MostActiveWeek                        *ActivePeriod
	MostActiveMonth                       *ActivePeriod
	Weekly                                []ActivePeriod // events per week of the year, quiet weeks included

	// LongestStreak is the longest run of the default streak inside the
	// year (periods before 1 January do not count); Streaks has every
	// streak the user had a run of in the year.
	LongestStreak int
	Streaks       []YearStreak

	Metrics      []YearTotal             // metrics the user changed in the year, by key
	Points       []YearTotal             // points systems the user earned in the year, by key
	Achievements []AchievementCompletion // completed in the year, oldest first
	Leaderboards []YearRank              // best rank per leaderboard in the year, by key
}

// ActivePeriod is a day, a week (starting Monday) or a month and the number
// of events the user tracked in it.
type ActivePeriod struct {
	Start  Date
	Events int
}

// YearStreak is the longest run of a streak inside the year.
type YearStreak struct {
	Streak string
	Length int
}

// YearTotal is a metric's or points system's year.
type YearTotal struct {
	Key    string
	Total  Amount // at the end of the year (now, for the current year)
	Change Amount // during the year
	// PercentChange is Change relative to the magnitude of the total at the
	// start of the year, in percent (from -10 to -5 is +50); nil when that
	// total was zero.
	PercentChange *float64
	// Percentile is the share, in percent, of the users active in the year
	// whose change was strictly lower: ties share a percentile, and active
	// users without a change count as 0.
	Percentile  float64
	ActiveUsers int // users active in the year
}

// YearRank is a user's best rank on a leaderboard in the year, among the
// ranks recorded when the user's own entry changed.
type YearRank struct {
	Leaderboard string
	Best        int
}
