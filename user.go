package gamify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
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
}

// StreakPreferences personalize a streak: when Enabled, Thresholds (metric
// key → minimum change per period) replace the definition's minimums.
type StreakPreferences struct {
	Enabled    bool
	Thresholds map[string]Amount `json:",omitempty"`
}

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
		for _, c := range chans {
			if c != ChannelEmail && c != ChannelPush {
				errs = append(errs, gamifytype.Invalid("Preferences.Notifications["+string(typ)+"]", c, "must be email or push"))
			}
		}
	}
	for k, v := range p.Streak.Thresholds {
		field := "Preferences.Streak.Thresholds[" + k + "]"
		if m, ok := cat.metrics[k]; !ok || m.Status != StatusActive {
			errs = append(errs, gamifytype.Invalid(field, k, "is not a metric"))
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

func validateUserID(field, id string) error {
	switch {
	case id == "":
		return gamifytype.Invalid(field, id, "must not be empty")
	case !utf8.ValidString(id):
		return gamifytype.Invalid(field, id, "must be valid UTF-8")
	case utf8.RuneCountInString(id) > 255:
		return gamifytype.Invalid(field, len(id), "must be at most 255 characters")
	}
	return nil
}

// validate reports every bad field; prefix names the input ("User", "Event.Profile").
func (in *UserInput) validate(prefix string, cat *catalog, idRequired bool) error {
	var errs []error
	if idRequired || in.ID != "" {
		errs = append(errs, validateUserID(prefix+".ID", in.ID))
	}
	if len(in.Name) > 255 {
		errs = append(errs, gamifytype.Invalid(prefix+".Name", len(in.Name), "must be at most 255 bytes"))
	}
	if in.Email != "" && (len(in.Email) > 320 || !strings.Contains(in.Email, "@") || strings.ContainsAny(in.Email, " \t\r\n")) {
		errs = append(errs, gamifytype.Invalid(prefix+".Email", in.Email, "is not an email address"))
	}
	if in.TZ != "" {
		if _, err := loadLocation(in.TZ); err != nil || in.TZ == "Local" {
			errs = append(errs, gamifytype.Invalid(prefix+".TZ", in.TZ, "is not an IANA time zone"))
		}
	}
	errs = append(errs, cat.checkAttributes(prefix+".Attributes", UserAttribute, in.Attributes))
	if len(in.DeviceTokens) > 100 {
		errs = append(errs, gamifytype.Invalid(prefix+".DeviceTokens", len(in.DeviceTokens), "must hold at most 100 tokens"))
	}
	for i, tok := range in.DeviceTokens {
		if tok == "" || len(tok) > 4096 {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("%s.DeviceTokens[%d]", prefix, i), len(tok), "must be 1 to 4096 bytes"))
		}
	}
	return errors.Join(errs...)
}

// merge applies in to the profile and reports whether anything changed.
func (p *profile) merge(in *UserInput, now time.Time) bool {
	changed := false
	set := func(dst *string, v string) {
		if v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	set(&p.Name, in.Name)
	set(&p.TZ, in.TZ)
	if in.SubscribeToEmails != nil && *in.SubscribeToEmails != p.SubscribeToEmails {
		p.SubscribeToEmails, changed = *in.SubscribeToEmails, true
	}
	if p.SubscribeToEmails {
		set(&p.Email, in.Email)
	} else if p.Email != "" {
		p.Email, changed = "", true // an unsubscribed user's email is not stored
	}
	for k, v := range in.Attributes {
		old, had := p.Attributes[k]
		switch {
		case v == "" && had:
			delete(p.Attributes, k)
			changed = true
		case v != "" && old != v:
			if p.Attributes == nil {
				p.Attributes = make(map[string]string)
			}
			p.Attributes[k] = v
			changed = true
		}
	}
	if len(p.Attributes) == 0 {
		p.Attributes = nil
	}
	if in.DeviceTokens != nil && !slices.Equal(in.DeviceTokens, p.DeviceTokens) {
		p.DeviceTokens, changed = slices.Clone(in.DeviceTokens), true
	}
	if changed {
		p.Updated = stamp(now)
	}
	return changed
}

func (p *profile) user() User {
	return User{
		ID: p.ID, Name: p.Name, Email: p.Email, TZ: p.TZ, Attributes: cloneMap(p.Attributes),
		DeviceTokens: slices.Clone(p.DeviceTokens), SubscribeToEmails: p.SubscribeToEmails,
		Created: p.Created, Updated: p.Updated, Active: p.Active,
	}
}

// UsersAPI manages participants. Get it from Engine.Users.
type UsersAPI struct{ e *Engine }

// Users returns the participants API.
func (e *Engine) Users() UsersAPI { return UsersAPI{e} }

// Create creates a user; an existing id is ErrConflict.
func (a UsersAPI) Create(ctx context.Context, in UserInput) (User, error) {
	return a.upsert(ctx, in, "create", func(exists bool) error {
		if exists {
			return ErrConflict
		}
		return nil
	})
}

// Identify creates the user or updates the given fields (upsert).
func (a UsersAPI) Identify(ctx context.Context, in UserInput) (User, error) {
	return a.upsert(ctx, in, "identify", func(bool) error { return nil })
}

// Update changes the given fields of an existing user; unknown is ErrNotFound.
func (a UsersAPI) Update(ctx context.Context, in UserInput) (User, error) {
	return a.upsert(ctx, in, "update", func(exists bool) error {
		if !exists {
			return ErrNotFound
		}
		return nil
	})
}

func (a UsersAPI) upsert(ctx context.Context, in UserInput, op string, check func(exists bool) error) (User, error) {
	if err := a.e.live(); err != nil {
		return User{}, err
	}
	if err := in.validate("User", a.e.cat.Load(), true); err != nil {
		return User{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		existing, err := t.user(in.ID, false)
		if err != nil {
			return nil, err
		}
		if err := check(existing != nil); err != nil {
			return nil, err
		}
		// Attributes may have been archived since the boundary check.
		if err := t.w.cat.checkAttributes("User.Attributes", UserAttribute, in.Attributes); err != nil {
			return nil, err
		}
		u, err := t.user(in.ID, true)
		if err != nil {
			return nil, err
		}
		if u.p.merge(&in, t.now) {
			u.profileDirty = true
		}
		return u.p.user(), nil
	})
	if err != nil {
		return User{}, fmt.Errorf("%s user %q: %w", op, in.ID, err)
	}
	return v.(User), nil
}

// Get returns a user, or ErrNotFound. In Buffered mode it reflects committed
// batches only.
func (a UsersAPI) Get(ctx context.Context, id string) (User, error) {
	p, _, err := a.e.readUser(id, false)
	if err != nil {
		return User{}, err
	}
	return p.user(), nil
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
		return nil, nil, fmt.Errorf("user %q: %w", id, ErrNotFound)
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

// Preferences returns a user's preferences.
func (a UsersAPI) Preferences(ctx context.Context, id string) (Preferences, error) {
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
// field, changing nothing. edit runs outside the writer and may run again
// if the user's preferences change meanwhile.
func (a UsersAPI) PatchPreferences(ctx context.Context, id string, edit func(*Preferences)) (Preferences, error) {
	if err := a.e.live(); err != nil {
		return Preferences{}, err
	}
	for range maxPatchAttempts {
		p, _, err := a.e.readUser(id, false)
		if err != nil {
			return Preferences{}, fmt.Errorf("patch preferences of %q: %w", id, err)
		}
		base := p.Preferences.clone()
		prefs := base.clone()
		edit(&prefs)
		if err := prefs.validate(a.e.cat.Load()); err != nil {
			return Preferences{}, err
		}
		prefs = prefs.clone() // the edit's maps are the caller's
		v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
			u, err := t.user(id, false)
			if err != nil || u == nil {
				return nil, cmpErr(err, ErrNotFound)
			}
			if !reflect.DeepEqual(u.p.Preferences, base) {
				return nil, errStale
			}
			u.p.Preferences = prefs
			u.p.Updated = stamp(t.now)
			u.profileDirty = true
			return prefs.clone(), nil
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return Preferences{}, fmt.Errorf("patch preferences of %q: %w", id, err)
		}
		return v.(Preferences), nil
	}
	return Preferences{}, fmt.Errorf("patch preferences of %q: %w: they kept changing under concurrent writes", id, ErrConflict)
}

// clone copies p deeply: no map or slice is shared.
func (p Preferences) clone() Preferences {
	out := Preferences{Streak: StreakPreferences{Enabled: p.Streak.Enabled, Thresholds: cloneMap(p.Streak.Thresholds)}}
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
	p, s, err := a.e.readUser(id, true)
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
	p, s, err := a.e.readUser(id, true)
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
