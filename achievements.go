package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// AchievementKind says how an achievement completes. Its JSON is the name.
type AchievementKind string

const (
	// AchievementMetric completes when a metric total (or the sum of the
	// events matching EventFilters) reaches Threshold.
	AchievementMetric AchievementKind = "metric"
	// AchievementStreak completes when a streak reaches Length.
	AchievementStreak AchievementKind = "streak"
	// AchievementManual completes only through AchievementsAPI.Complete.
	AchievementManual AchievementKind = "manual"
	// AchievementComposite completes when every achievement in
	// Prerequisites is completed.
	AchievementComposite AchievementKind = "composite"
)

// Rarity is a badge's rarity label, shown with it; it is presentation only
// (the measured rarity is AchievementStats.RarityPercent). Its JSON is the
// name.
type Rarity string

const (
	// RarityCommon is the default rarity.
	RarityCommon Rarity = "common"
	// RarityRare is a rare badge.
	RarityRare Rarity = "rare"
	// RarityEpic is an epic badge.
	RarityEpic Rarity = "epic"
	// RarityLegendary is a legendary badge.
	RarityLegendary Rarity = "legendary"
)

// Why Complete refused a manual achievement; each wraps ErrConflict.
var (
	// ErrAchievementInactive is returned by Complete for an inactive achievement.
	ErrAchievementInactive = achievement.ErrInactive
	// ErrAchievementLocked is returned by Complete for a locked achievement
	// the user does not hold.
	ErrAchievementLocked = achievement.ErrLocked
	// ErrAchievementGated is returned by Complete when the user's attributes
	// do not match the achievement's user filters.
	ErrAchievementGated = achievement.ErrGated
)

var (
	achievementKinds = map[AchievementKind]achievement.Kind{
		AchievementMetric: achievement.KindMetric, AchievementStreak: achievement.KindStreak,
		AchievementManual: achievement.KindManual, AchievementComposite: achievement.KindComposite,
	}
	rarities = map[Rarity]achievement.Rarity{
		RarityCommon: achievement.Common, RarityRare: achievement.Rare,
		RarityEpic: achievement.Epic, RarityLegendary: achievement.Legendary,
	}
)

// Achievement is an achievement (badge) definition. Which fields matter
// depends on Kind: Metric, Threshold and EventFilters for metric
// achievements; Streak and Length for streak ones; Prerequisites for
// composites. Fields of the other kinds must be left zero. UserFilters gate
// every kind.
//
// Status is active (the default), inactive, locked or archived. An inactive
// achievement completes for nobody (events, streaks, composites, backdating
// and Complete all pass it by) and is hidden from Stats and from users'
// lists of what they can still earn; holders keep their completions and the
// filtered sums of its events keep accruing, so that Activate backdates it
// exactly. A locked one awards no new completions either, but stays visible
// to its holders. See Activate, Deactivate, Lock and Delete.
type Achievement struct {
	Key         string          // immutable, [A-Za-z0-9_-]{1,64}
	Name        string          // display name, at most 255 bytes
	Description string          // optional, at most 4096 bytes
	ImageURL    string          // the badge image, optional
	Category    string          // optional grouping label
	Rarity      Rarity          // common (the default), rare, epic or legendary
	Order       int             // display order, ascending (ties by key)
	Kind        AchievementKind // immutable: metric, streak, manual or composite
	Status      Status          // active (the default), inactive, locked or archived

	Metric       string            // metric achievements: the active metric counted
	Threshold    Amount            // metric achievements: the total to reach, positive
	EventFilters map[string]string // metric achievements: only events with these event attributes count

	Streak string // streak achievements: the active streak
	Length int    // streak achievements: the length to reach, 1 to 2^20

	Prerequisites []string // composites: the achievements to hold, 1 to 32

	UserFilters map[string]string // only users with these user attributes qualify

	Created time.Time
	Updated time.Time

	seq uint32 // creation order
}

// storedAchievement is an achievement as stored, with its creation order.
type storedAchievement struct {
	Achievement
	Seq uint32 `json:"seq"`
}

const defAchievement = "achievement/"

// definition converts a to the pure package's definition. Unknown enums
// become invalid or default values, caught by Validate first.
func (a *Achievement) definition() achievement.Definition {
	d := achievement.Definition{
		Key: a.Key, Name: a.Name, Description: a.Description, BadgeURL: a.ImageURL, Category: a.Category,
		Rarity: rarities[a.Rarity], Order: a.Order, Kind: achievementKinds[a.Kind],
		Metric: a.Metric, Threshold: a.Threshold, EventFilters: a.EventFilters,
		Streak: a.Streak, Length: a.Length, Prerequisites: a.Prerequisites, UserFilters: a.UserFilters,
	}
	switch a.Status {
	case StatusActive:
		d.Status = achievement.Active
	case StatusLocked:
		d.Status = achievement.Locked
	default:
		d.Status = achievement.Inactive
	}
	return d
}

// Validate reports every bad field of an achievement to create, joined.
// Whether its metric, streak, attributes and prerequisites exist is checked
// by Create.
func (a *Achievement) Validate() error {
	var errs []error
	_, kindOK := achievementKinds[a.Kind]
	if !kindOK {
		errs = append(errs, gamifytype.Invalid("Achievement.Kind", a.Kind, "must be metric, streak, manual or composite"))
	}
	if _, ok := rarities[a.Rarity]; !ok && a.Rarity != "" {
		errs = append(errs, gamifytype.Invalid("Achievement.Rarity", a.Rarity, "must be common, rare, epic or legendary"))
	}
	d := a.definition()
	for _, err := range achUnjoin(d.Validate()) {
		var ve *gamifytype.ValidationError
		if errors.As(err, &ve) {
			if ve.Field == "Achievement.Kind" && !kindOK {
				continue // reported above, by name
			}
			if ve.Field == "Achievement.BadgeURL" {
				err = gamifytype.Invalid("Achievement.ImageURL", ve.Value, ve.Reason)
			}
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// achUnjoin splits an errors.Join result into its errors.
func achUnjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// achCatalogError renames the fields of the catalogue's errors about one
// definition (a cycle of prerequisites, say) from "Achievements[i].X", the
// position in the sorted catalogue that means nothing to the caller, to
// "Achievement.X".
func achCatalogError(err error) error {
	var out []error
	for _, e := range achUnjoin(err) {
		var ve *gamifytype.ValidationError
		if errors.As(e, &ve) && strings.HasPrefix(ve.Field, "Achievements[") {
			if _, rest, ok := strings.Cut(ve.Field, "]."); ok {
				e = gamifytype.Invalid("Achievement."+rest, ve.Value, ve.Reason)
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// cloneAchievement copies a's maps and slices, so an edit of the copy
// cannot reach the stored definition. The copy has no creation order (the
// engine's bookkeeping), so what callers get back compares equal to its JSON
// round trip.
func cloneAchievement(a Achievement) Achievement {
	a.seq = 0
	a.EventFilters = maps.Clone(a.EventFilters)
	a.UserFilters = maps.Clone(a.UserFilters)
	a.Prerequisites = slices.Clone(a.Prerequisites)
	return a
}

// loadAchievement reads a stored achievement into c.
func loadAchievement(c *catalog, key string, v []byte) error {
	var sa storedAchievement
	if err := json.Unmarshal(v, &sa); err != nil {
		return err
	}
	a := sa.Achievement
	st := a.Status
	if st == StatusLocked { // the one kind with a fourth stored status
		st = StatusActive
	}
	if err := storedDef[Achievement](key, defAchievement+a.Key, st, 0, nil, a.Validate()); err != nil {
		return err
	}
	a.seq = sa.Seq
	c.achievements[a.Key] = &a
	return nil
}

// rebuildAchievements builds the pure catalogue from the definitions that
// are not archived.
func (c *catalog) rebuildAchievements() error {
	defs := make([]achievement.Definition, 0, len(c.achievements))
	for _, a := range c.achievements {
		if a.Status != StatusArchived {
			defs = append(defs, a.definition())
		}
	}
	slices.SortFunc(defs, func(x, y achievement.Definition) int { return cmp.Compare(x.Key, y.Key) })
	ac, err := achievement.NewCatalog(defs)
	if err != nil {
		return err
	}
	c.achCat = ac
	return nil
}

func (t *txn) putAchievement(a *Achievement) error {
	cat := t.catalogForWrite()
	old, had := cat.achievements[a.Key]
	cat.achievements[a.Key] = a
	if err := cat.rebuildAchievements(); err != nil {
		if had {
			cat.achievements[a.Key] = old
		} else {
			delete(cat.achievements, a.Key)
		}
		_ = cat.rebuildAchievements()
		return achCatalogError(err)
	}
	t.putJSON(store.Definitions, []byte(defAchievement+a.Key), storedAchievement{Achievement: *a, Seq: a.seq})
	return nil
}

// AchievementsAPI administers achievements, completes manual ones and reads
// them. Get it from Engine.Achievements.
type AchievementsAPI struct{ e *Engine }

// Achievements returns the achievements API.
func (e *Engine) Achievements() AchievementsAPI { return AchievementsAPI{e} }

// Create defines an achievement. Its metric, streak, attributes and
// prerequisites must exist (a composite's prerequisites not archived). A key
// in use, even by an archived achievement, is ErrConflict. Created active
// (Status "", the default), it is backdated at once: users who already
// qualify complete it, flagged backdated, without notification. Status
// inactive creates it inactive; any other Status is a ValidationError.
func (a AchievementsAPI) Create(ctx context.Context, d Achievement) (Achievement, error) {
	if err := a.e.live(); err != nil {
		return Achievement{}, err
	}
	if err := d.Validate(); err != nil {
		return Achievement{}, err
	}
	c, err := createDef(ctx, a.e, achievements, d)
	if err != nil {
		return Achievement{}, fmt.Errorf("create achievement %s: %w", d.Key, err)
	}
	return c, nil
}

func (t *txn) createAchievement(d Achievement) (Achievement, error) {
	if err := d.Validate(); err != nil {
		return Achievement{}, err
	}
	cat := t.catalogForWrite()
	if _, ok := cat.achievements[d.Key]; ok {
		return Achievement{}, fmt.Errorf("%w: achievement %s exists", ErrConflict, d.Key)
	}
	switch d.Status {
	case "":
		d.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Achievement{}, gamifytype.Invalid("Achievement.Status", d.Status, "must be active (the default) or inactive")
	}
	if err := cat.checkAchievementRefs(nil, &d); err != nil {
		return Achievement{}, err
	}
	d = cloneAchievement(d)
	d.Rarity = cmp.Or(d.Rarity, RarityCommon)
	d.Created, d.Updated = stamp(t.now), stamp(t.now)
	for _, o := range cat.achievements {
		d.seq = max(d.seq, o.seq)
	}
	d.seq++
	if err := t.putAchievement(&d); err != nil {
		return Achievement{}, err
	}
	if d.Status == StatusActive {
		t.queueBackdate(d.Key)
	}
	return cloneAchievement(d), nil
}

// checkAchievementRefs checks that what d refers to exists and is usable.
// With old (a patch), only the references the edit changed are checked, so
// an edit of the name never fails on a metric deactivated since.
func (c *catalog) checkAchievementRefs(old, d *Achievement) error {
	var errs []error
	if d.Kind == AchievementMetric && (old == nil || old.Metric != d.Metric) {
		if m, ok := c.metrics[d.Metric]; !ok || m.Status != StatusActive {
			errs = append(errs, gamifytype.Invalid("Achievement.Metric", d.Metric, "is not an active metric"))
		}
	}
	errs = append(errs, c.checkFilterKeys("Achievement.EventFilters", EventAttribute, d.EventFilters, oldFilters(old, func(a *Achievement) map[string]string { return a.EventFilters }))...)
	if d.Kind == AchievementStreak && (old == nil || old.Streak != d.Streak) {
		if s, ok := c.streaks[d.Streak]; !ok || s.Status != StatusActive {
			errs = append(errs, gamifytype.Invalid("Achievement.Streak", d.Streak, "is not an active streak"))
		}
	}
	for i, p := range d.Prerequisites {
		if old != nil && slices.Contains(old.Prerequisites, p) {
			continue
		}
		if o, ok := c.achievements[p]; !ok || o.Status == StatusArchived {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Achievement.Prerequisites[%d]", i), p, "is not an achievement"))
		}
	}
	errs = append(errs, c.checkFilterKeys("Achievement.UserFilters", UserAttribute, d.UserFilters, oldFilters(old, func(a *Achievement) map[string]string { return a.UserFilters }))...)
	return errors.Join(errs...)
}

// checkFilterKeys reports each key of filters (field names them) that is
// not an active attribute of type typ, in key order; a key old had already
// is not checked again (its attribute may have been deactivated since).
func (c *catalog) checkFilterKeys(field string, typ AttributeType, filters, old map[string]string) []error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(filters)) {
		if _, had := old[k]; had {
			continue
		}
		switch at, ok := c.attrs[k]; {
		case !ok || at.Type != typ:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is not a "+string(typ)+" attribute"))
		case at.Status != StatusActive:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is not an active "+string(typ)+" attribute (it is "+string(at.Status)+")"))
		}
	}
	return errs
}

// oldFilters is get(old), or nil without an old definition.
func oldFilters[T any](old *T, get func(*T) map[string]string) map[string]string {
	if old == nil {
		return nil
	}
	return get(old)
}

// Get returns the achievement with key, archived or not, or ErrNotFound.
func (a AchievementsAPI) Get(ctx context.Context, key string) (Achievement, error) {
	d, err := getDef(a.e, "achievement", key, func(c *catalog) map[string]*Achievement { return c.achievements })
	return cloneAchievement(d), err
}

// List returns achievements in creation order, inactive and locked ones
// included, archived ones only with IncludeArchived. For what users see,
// with holder counts, use Stats.
func (a AchievementsAPI) List(ctx context.Context, opts ListOptions) ([]Achievement, error) {
	out, err := listDefs(a.e, opts, func(c *catalog) map[string]*Achievement { return c.achievements },
		func(d *Achievement) bool { return d.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *Achievement) int { return cmp.Compare(x.seq, y.seq) })
	for i := range out {
		out[i] = cloneAchievement(out[i])
	}
	return out, err
}

// achievements describes achievements for the shared admin verbs.
var achievements = resource[Achievement]{
	what: "achievement", field: "Achievement", kind: "achievement", check: (*Achievement).Validate,
	defs:  func(c *catalog) map[string]*Achievement { return c.achievements },
	clone: cloneAchievement,
	owned: func(a *Achievement) owned { return owned{a.Key, a.Status, a.Created, a.Updated, nil} },
	replace: func(t *txn, old *Achievement, d Achievement) (Achievement, error) {
		if d.Kind != old.Kind { // before Validate, which would blame the kind's fields
			return Achievement{}, gamifytype.Invalid("Achievement.Kind", d.Kind, "is immutable")
		}
		if err := d.Validate(); err != nil {
			return Achievement{}, err
		}
		if err := t.catalogForWrite().checkAchievementRefs(old, &d); err != nil {
			return Achievement{}, err
		}
		d.Rarity = cmp.Or(d.Rarity, RarityCommon)
		d.seq, d.Updated = old.seq, stamp(t.now)
		if err := t.putAchievement(&d); err != nil {
			return Achievement{}, err
		}
		if achievement.NeedsBackdate(old.definition(), d.definition()) {
			t.queueBackdate(d.Key)
		}
		return cloneAchievement(d), nil
	},
}

// Patch changes an achievement: edit gets a copy of the stored achievement
// and sets the fields to change; the others are kept. Key, Status, Created
// and Updated are the engine's and Kind is immutable (a change to one is a
// ValidationError). Lowering a metric threshold or a streak length of an
// active achievement backdates it for users who already qualify. edit runs
// outside the writer and may run more than once if another write lands
// meanwhile, so it must only edit its argument.
func (a AchievementsAPI) Patch(ctx context.Context, key string, edit func(*Achievement)) (Achievement, error) {
	return achievements.patch(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 achievements in one commit (as Patch
// does for one), reporting failures per item; it returns the achievements it
// changed.
func (a AchievementsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Achievement)) ([]Achievement, []Issue, error) {
	return achievements.bulkPatch(ctx, a.e, keys, edit)
}

// Activate makes an inactive or locked achievement complete again, and
// backdates it: users who already qualify complete it, flagged backdated,
// without notification. Activating an active achievement changes nothing.
func (a AchievementsAPI) Activate(ctx context.Context, key string) (Achievement, error) {
	return a.setStatus(ctx, key, StatusActive)
}

// Deactivate makes an achievement inactive: it completes for nobody and is
// hidden from Stats and from users' lists of what they can still earn;
// holders keep it (see Achievement). Deactivating an inactive achievement
// changes nothing.
func (a AchievementsAPI) Deactivate(ctx context.Context, key string) (Achievement, error) {
	return a.setStatus(ctx, key, StatusInactive)
}

// Lock stops an achievement from awarding new completions while its holders
// keep it and still see it (a retired badge). Locking a locked achievement
// changes nothing; Activate unlocks it. Any status but archived can be
// locked, and a locked one deactivated (Trophy allows inactive to active and
// active to locked and back only).
func (a AchievementsAPI) Lock(ctx context.Context, key string) (Achievement, error) {
	return a.setStatus(ctx, key, StatusLocked)
}

func (a AchievementsAPI) setStatus(ctx context.Context, key string, to Status) (Achievement, error) {
	return achievements.setStatus(ctx, a.e, key, to)
}

func (t *txn) setAchievementStatus(key string, to Status) (Achievement, error) {
	old, ok := t.catalogForWrite().achievements[key]
	if !ok || old.Status == StatusArchived {
		return Achievement{}, ErrNotFound
	}
	if old.Status == to {
		return cloneAchievement(*old), nil
	}
	d := *old
	d.Status, d.Updated = to, stamp(t.now)
	if err := t.putAchievement(&d); err != nil {
		return Achievement{}, err
	}
	if achievement.NeedsBackdate(old.definition(), d.definition()) {
		t.queueBackdate(key)
	}
	return cloneAchievement(d), nil
}

// Delete archives an achievement: it is hidden from lists (but for
// ListOptions.IncludeArchived), never evaluated again and cannot be
// completed; holders' records are kept and the key is never reused. An
// achievement that a composite not archived lists as a prerequisite cannot
// be deleted (ErrConflict). Deleting a missing or archived one is
// ErrNotFound.
func (a AchievementsAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, achievements, key); err != nil {
		return fmt.Errorf("delete achievement %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

func (t *txn) archiveAchievement(key string) error {
	cat := t.catalogForWrite()
	old, ok := cat.achievements[key]
	if !ok || old.Status == StatusArchived {
		return ErrNotFound
	}
	for _, o := range sortedValues(cat.achievements) { // the error names the same composite every time
		if o.Status != StatusArchived && slices.Contains(o.Prerequisites, key) {
			return fmt.Errorf("%w: achievement %s is a prerequisite of %s", ErrConflict, gamifytype.Quote(key), o.Key)
		}
	}
	c := *old
	c.Status, c.Updated = StatusArchived, stamp(t.now)
	return t.putAchievement(&c)
}

var _ = registerKind("achievement", kindOps[Achievement]{
	of:      func(string) resource[Achievement] { return achievements },
	create:  func(t *txn, _ string, d Achievement) (Achievement, error) { return t.createAchievement(d) },
	status:  func(t *txn, _, key string, to Status) (Achievement, error) { return t.setAchievementStatus(key, to) },
	archive: func(t *txn, _, key string) error { return t.archiveAchievement(key) },
})

// BulkCreate creates up to 100 achievements in one commit, in order (so a
// composite may follow its prerequisites); items that fail are reported as
// issues and skipped, the others are created (see Create).
func (a AchievementsAPI) BulkCreate(ctx context.Context, defs []Achievement) ([]Achievement, []Issue, error) {
	return bulkCreate(ctx, a.e, achievements, "Achievements", defs, func(d *Achievement) string { return d.Key })
}

// BulkDelete archives up to 100 achievements in one commit (see Delete),
// reporting failures per item. The items are archived in order, so a
// composite listed before its prerequisite frees it.
func (a AchievementsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	errs, err := archiveDefs(ctx, a.e, achievements, keys)
	if err != nil {
		return nil, err
	}
	return keyIssues(keys, errs), nil
}

// AchievementCompleted is sent when a user completes an achievement (not
// for backdated completions).
type AchievementCompleted struct {
	User        string
	Achievement string
	Name        string
	At          time.Time
}

// UserID implements Notification.
func (n AchievementCompleted) UserID() string { return n.User }

// completed records completions: result rows, counters, notifications.
func (t *txn) completed(u *userRec, comps []achievement.Completion, res *[]AchievementCompletion) {
	cat := t.w.cat
	for _, c := range comps {
		name := ""
		if a, ok := cat.achievements[c.Key]; ok {
			name = a.Name
		}
		if res != nil {
			*res = append(*res, AchievementCompletion{Key: c.Key, Name: name, CompletedAt: c.At, Backdated: c.Backdated})
		}
		t.achCount[c.Key]++
		key := c.Key
		at := c.At // a completion is dated when applied; its award has the boosts and trigger status of the event's time
		if !c.Backdated {
			at = t.attributedAt()
		}
		if err := t.applyPoints(u, func(r points.Rules, s points.State) (points.State, points.Effects, error) {
			return points.OnAchievement(r, s, t.pointsUser(u), key, at)
		}); err != nil {
			t.w.log.Error("gamify: points for an achievement", "user", u.p.ID, "achievement", key, "err", err)
		}
		if !c.Backdated {
			t.notes = append(t.notes, AchievementCompleted{User: u.p.ID, Achievement: c.Key, Name: name, At: c.At})
		}
	}
}

// trackAchievements evaluates the achievements of an event's metric.
func (t *txn) trackAchievements(u *userRec, m *Metric, ev *validEvent, total Amount, res *EventResult) error {
	ac := t.w.cat.achCat
	if ac == nil || ac.Len() == 0 {
		return nil
	}
	st, comps, err := achievement.OnMetric(ac, u.s.Ach, achievement.MetricChange{
		Metric: m.Key, Delta: ev.value, Total: total, EventAttrs: ev.Attributes, UserAttrs: u.p.Attributes,
	}, t.now)
	if err != nil {
		return err
	}
	u.s.Ach = st
	t.completed(u, comps, &res.Achievements)
	return nil
}

// streakAchievements evaluates streak achievements after a length change.
func (t *txn) streakAchievements(u *userRec, s *Streak, length int) {
	ac := t.w.cat.achCat
	if ac == nil || ac.Len() == 0 {
		return
	}
	st, comps := achievement.OnStreak(ac, u.s.Ach, achievement.StreakChange{Streak: s.Key, Length: length, UserAttrs: u.p.Attributes}, t.now)
	u.s.Ach = st
	t.completed(u, comps, t.achResults)
}

// ManualCompletion asks to complete a manual achievement for a user.
type ManualCompletion struct {
	Achievement string // the manual achievement's key
	User        string // the user's id; the user is created on first sight
	// Profile, if set, upserts these fields of the user first (as
	// Event.Profile does), so a gained attribute counts for UserFilters.
	Profile *UserInput
}

// CompleteResult is the outcome of completing a manual achievement.
type CompleteResult struct {
	CompletedAt      time.Time
	AlreadyCompleted bool
	// Completions are the achievements completed by the call: the manual
	// one, then composites it completed.
	Completions []AchievementCompletion
	// Points lists the points systems whose balance the completions changed
	// (through achievement triggers), as EventResult.Points does.
	Points []PointsChange
}

// Complete completes a manual achievement for a user. A repeat returns the
// original time with AlreadyCompleted and changes nothing but the profile.
// A missing or archived achievement is ErrNotFound (a ValidationError
// naming ManualCompletion.Achievement), a non-manual one
// ErrInvalid, an inactive, locked or gated one ErrConflict; on error nothing
// changes.
func (a AchievementsAPI) Complete(ctx context.Context, c ManualCompletion) (CompleteResult, error) {
	if err := a.e.live(); err != nil {
		return CompleteResult{}, err
	}
	errs := []error{validateUserID("ManualCompletion.User", c.User), gamifytype.ValidateKey("ManualCompletion.Achievement", c.Achievement)}
	if c.Profile != nil {
		if c.Profile.ID != "" && c.Profile.ID != c.User {
			errs = append(errs, gamifytype.Invalid("ManualCompletion.Profile.ID", c.Profile.ID, "must be empty or equal ManualCompletion.User"))
		}
		errs = append(errs, c.Profile.validate("ManualCompletion.Profile", a.e.cat.Load(), false))
	}
	if err := errors.Join(errs...); err != nil {
		return CompleteResult{}, err
	}
	v, err := a.e.exec(ctx, a.e.now(), completeOp.cmd(c))
	if err != nil {
		return CompleteResult{}, fmt.Errorf("complete %s for %q: %w", gamifytype.Quote(c.Achievement), gamifytype.Quote(c.User), err)
	}
	return v.(CompleteResult), nil
}

var completeOp = newOp("achievement.complete", func(t *txn, c ManualCompletion) (CompleteResult, error) {
	key := c.Achievement
	cat := t.w.cat
	if d, ok := cat.achievements[key]; !ok || d.Status == StatusArchived {
		return CompleteResult{}, gamifytype.NotFound("ManualCompletion.Achievement", key, "achievement")
	}
	// The result collects before the user is created: a new user's
	// user_creation awards are part of what the call changed.
	var out CompleteResult
	t.pointsRes = &out.Points
	defer func() { t.pointsRes = nil }()
	if c.Profile != nil {
		if err := cat.checkAttributes("ManualCompletion.Profile.Attributes", UserAttribute, c.Profile.Attributes); err != nil {
			return CompleteResult{}, err
		}
	}
	u, err := t.createWith(c.User, c.Profile)
	if err != nil {
		return CompleteResult{}, err
	}
	if c.Profile != nil {
		if u.p.merge(c.Profile, t.now, true, t.now, &u.s.Seen) {
			u.profileDirty = true
			if err := t.regroup(u); err != nil {
				return CompleteResult{}, err
			}
		}
	}
	st, r, err := achievement.Complete(cat.achCat, u.s.Ach, key, u.p.Attributes, t.now)
	if errors.Is(err, achievement.ErrNotManual) {
		return CompleteResult{}, gamifytype.Invalid("ManualCompletion.Achievement", key, "is not a manual achievement: it completes by its own rule")
	}
	if err != nil {
		return CompleteResult{}, err
	}
	out.CompletedAt, out.AlreadyCompleted = r.Completion.At, r.AlreadyCompleted
	u.s.Ach = st
	t.completed(u, r.Completions, &out.Completions)
	return out, nil
})

// AchievementStats is an achievement with how many users hold it.
type AchievementStats struct {
	Achievement
	Completions   int
	RarityPercent float64 // share of all users holding it
}

// AchievementStatsQuery selects the achievements Stats lists.
type AchievementStatsQuery struct {
	// ForUser lists only what a user with UserAttributes sees: an
	// achievement whose user filters they do not match is left out (a nil
	// or empty UserAttributes is a user without attributes).
	ForUser        bool
	UserAttributes map[string]string
}

// Stats returns the achievements users see (active and locked; inactive
// and archived ones are left out) in display order, with completions and
// rarity; q.ForUser narrows them to what one user sees.
func (a AchievementsAPI) Stats(ctx context.Context, q AchievementStatsQuery) ([]AchievementStats, error) {
	userAttrs := q.UserAttributes
	if q.ForUser && userAttrs == nil {
		userAttrs = map[string]string{}
	}
	if err := a.e.live(); err != nil {
		return nil, err
	}
	cat := a.e.cat.Load()
	var out []AchievementStats
	err := a.e.db.View(func(tx *store.Tx) error {
		users := int(readCounter(tx, usersCounterKey))
		for _, ach := range cat.achievements {
			if ach.Status == StatusArchived || ach.Status == StatusInactive ||
				(q.ForUser && !achievement.Visible(ach.definition(), achievement.State{}, userAttrs)) {
				continue
			}
			n := int(readCounter(tx, achCountKey(ach.Key)))
			out = append(out, AchievementStats{Achievement: cloneAchievement(*ach), Completions: n, RarityPercent: achievement.RarityPercent(n, users)})
		}
		return nil
	})
	slices.SortFunc(out, func(x, y AchievementStats) int {
		return cmp.Or(cmp.Compare(x.Order, y.Order), cmp.Compare(x.Key, y.Key))
	})
	return out, err
}

// UserAchievement is one achievement of a user, with progress.
type UserAchievement struct {
	Key         string
	Name        string
	Completed   bool
	CompletedAt time.Time
	Backdated   bool
	Current     Amount // progress; equals Target once completed
	Target      Amount
}

// User returns a user's achievements: the completed ones, and with
// incomplete the visible ones not yet completed with their progress.
func (a AchievementsAPI) User(ctx context.Context, id string, incomplete bool) ([]UserAchievement, error) {
	p, s, err := a.e.readUser(id, true)
	if err != nil {
		return nil, err
	}
	cat := a.e.cat.Load()
	return userAchievements(cat, p, s, a.e.facts(cat, p, s), incomplete, nil), nil
}

// userAchievements lists a user's achievements that keep accepts (all with
// nil keep): the completed ones, and with incomplete the visible others, in
// display order.
func userAchievements(cat *catalog, p *profile, s *userState, facts achievement.Facts, incomplete bool, keep func(*Achievement) bool) []UserAchievement {
	var out []UserAchievement
	for _, ach := range cat.achievements {
		if ach.Status == StatusArchived || (keep != nil && !keep(ach)) {
			continue
		}
		d := ach.definition()
		c, done := s.Ach.Completed(d.Key)
		if !done && (!incomplete || !achievement.Visible(d, s.Ach, p.Attributes)) {
			continue
		}
		pr := achievement.ProgressOf(d, s.Ach, facts)
		out = append(out, UserAchievement{Key: d.Key, Name: d.Name, Completed: done, CompletedAt: c.At, Backdated: c.Backdated,
			Current: pr.Current, Target: pr.Target})
	}
	slices.SortFunc(out, func(x, y UserAchievement) int {
		dx, dy := cat.achievements[x.Key], cat.achievements[y.Key]
		return cmp.Or(cmp.Compare(dx.Order, dy.Order), cmp.Compare(x.Key, y.Key))
	})
	return out
}

// metricAchievements are the user's metric achievements (see
// UserMetric.Achievements) by metric key, in one pass over the catalogue.
func metricAchievements(cat *catalog, p *profile, s *userState, facts achievement.Facts) map[string][]UserAchievement {
	out := map[string][]UserAchievement{}
	for _, ua := range userAchievements(cat, p, s, facts, true, func(a *Achievement) bool { return a.Kind == AchievementMetric }) {
		m := cat.achievements[ua.Key].Metric
		out[m] = append(out[m], ua)
	}
	return out
}

// facts gathers a user's totals and current streak lengths.
func (e *Engine) facts(cat *catalog, p *profile, s *userState) achievement.Facts {
	f := achievement.Facts{Totals: map[string]Amount{}, Streaks: map[string]int{}}
	for _, m := range s.Metrics {
		if mm, ok := cat.metricByRef[m.Ref]; ok {
			f.Totals[mm.Key] = m.Total
		}
	}
	loc := e.location(p)
	now := e.now()
	for _, x := range s.Streaks {
		if sd, ok := cat.streakByRef[x.Ref]; ok {
			f.Streaks[sd.Key] = streak.View(sd.personalized(p), x.St, now, loc).Length
		}
	}
	return f
}

// Counters kept in the Meta keyspace.
var usersCounterKey = []byte("count/users")

func achCountKey(key string) []byte { return []byte("count/achievement/" + key) }

func readCounter(tx *store.Tx, k []byte) uint64 {
	if b := tx.Get(store.Meta, k); len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// Backdating: activating an achievement (or making it easier) completes it
// for every user who already qualifies. The work is a list of pending keys
// persisted in the Jobs keyspace with a cursor (the last user id done), run
// by RunDue and the runner in chunks of backdateChunk users per command, so
// that a million users never hold the writer for long and a crash resumes
// where it stopped.

const backdateChunk = 500

func backdateKey(key string) []byte { return []byte("backdate/" + key) }

func (t *txn) queueBackdate(key string) {
	t.backdates = append(t.backdates, key)
	t.writes = append(t.writes, write{store.Jobs, backdateKey(key), binary.BigEndian.AppendUint64(nil, 0)})
}

func (s *scheduler) addBackdates(keys []string) {
	s.mu.Lock()
	if s.backdates == nil {
		s.backdates = map[string]bool{}
	}
	for _, k := range keys {
		s.backdates[k] = true
	}
	s.mu.Unlock()
	s.poke()
}

// loadBackdates resumes the backdating (and relevelling) left unfinished by
// a previous run.
func (e *Engine) loadBackdates() error {
	var keys []string
	err := e.db.View(func(tx *store.Tx) error {
		if err := tx.Scan(store.Jobs, []byte("backdate/"), func(k, _ []byte) error {
			keys = append(keys, string(k[len("backdate/"):]))
			return nil
		}); err != nil {
			return err
		}
		// Pending relevelling (levels.go), board fills (board_fill.go) and
		// league rollovers (league_rollover.go) ride the same queue under
		// their own job keys, which no achievement key can equal (keys
		// have no '/').
		for _, prefix := range []string{relevelPrefix, fillPrefix, leagueRollPrefix} {
			if err := tx.Scan(store.Jobs, []byte(prefix), func(k, _ []byte) error {
				keys = append(keys, string(k))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// What the store holds is what is pending: a replay of the command log
	// may have queued work that its replayed chunks then completed.
	e.sched.mu.Lock()
	e.sched.backdates = nil
	e.sched.mu.Unlock()
	if len(keys) > 0 {
		e.sched.addBackdates(keys)
	}
	return nil
}

// runBackdates works through pending backdating and returns how many users
// it examined.
func (e *Engine) runBackdates(ctx context.Context, now time.Time) (int, error) {
	e.sched.mu.Lock()
	keys := make([]string, 0, len(e.sched.backdates))
	for k := range e.sched.backdates {
		keys = append(keys, k)
	}
	e.sched.mu.Unlock()
	slices.Sort(keys)
	total := 0
	for _, key := range keys {
		job := backdateKey(key)
		chunk := backdateOp.cmd(key)
		if system, ok := strings.CutPrefix(key, relevelPrefix); ok {
			job, chunk = []byte(key), relevelOp.cmd(system)
		}
		if board, ok := strings.CutPrefix(key, fillPrefix); ok {
			job, chunk = []byte(key), fillOp.cmd(board)
		}
		if league, ok := strings.CutPrefix(key, leagueRollPrefix); ok {
			job, chunk = []byte(key), leagueRollOp.cmd(leagueRollArgs{League: league, Users: cmp.Or(e.opts.leagueChunk, leagueChunk)})
		}
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			v, err := e.exec(ctx, now, chunk)
			if err != nil {
				return total, err
			}
			c := v.(chunkDone)
			total += c.n
			if c.done {
				break
			}
		}
		e.sched.mu.Lock()
		delete(e.sched.backdates, key)
		e.sched.mu.Unlock()
		// Queued again after the last chunk (its record is back, cursor
		// 0) but announced before the delete above: keep it pending. One
		// announced later adds itself back.
		var again bool
		if err := e.db.View(func(tx *store.Tx) error { again = tx.Get(store.Jobs, job) != nil; return nil }); err != nil {
			return total, err
		}
		if again {
			e.sched.addBackdates([]string{key})
		}
	}
	return total, nil
}

// chunkDone is what a chunk of pending work examined, and whether it was
// the last.
type chunkDone struct {
	n    int
	done bool
}

// The chunks of pending work: backdating an achievement, relevelling a
// points system's users (levels.go), filling a board from history
// (board_fill.go).
var (
	backdateOp = newOp("achievement.backdate", func(t *txn, key string) (chunkDone, error) {
		n, err := t.backdateChunk(key)
		return chunkDone{n, n < backdateChunk}, err
	})
	relevelOp = newOp("points.relevel", func(t *txn, system string) (chunkDone, error) {
		n, err := t.relevelChunk(system)
		return chunkDone{n, n < backdateChunk}, err
	})
	fillOp = newOp("leaderboard.fill", func(t *txn, board string) (chunkDone, error) {
		n, done, err := t.fillChunk(board)
		return chunkDone{n, done}, err
	})
)

// backdateChunk backdates the next users after the key's cursor; when fewer
// than a chunk remain it removes the pending record.
func (t *txn) backdateChunk(key string) (int, error) {
	w := t.w
	uids, ids, err := w.chunkAfter(backdateKey(key))
	if err != nil {
		return 0, err
	}
	ac := w.cat.achCat
	for _, id := range ids {
		u, err := t.user(id, false)
		if err != nil {
			return 0, err
		}
		if u == nil || ac == nil {
			continue
		}
		st, comps := achievement.Backdate(ac, u.s.Ach, w.facts(u, t.now), u.p.Attributes, t.now)
		if len(comps) > 0 {
			u.s.Ach = st
			t.completed(u, comps, nil)
		}
	}
	t.advanceCursor(backdateKey(key), uids)
	return len(uids), nil
}

// chunkAfter returns the next backdateChunk users (internal and public
// ids, in internal id order) after the cursor stored at the job key.
func (w *writer) chunkAfter(job []byte) (uids []uint64, ids []string, err error) {
	var cursor uint64
	err = w.db.View(func(tx *store.Tx) error {
		if b := tx.Get(store.Jobs, job); len(b) == 8 {
			cursor = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return w.usersAfter(cursor)
}

// usersAfter returns the next backdateChunk users after cursor (an
// internal id).
func (w *writer) usersAfter(cursor uint64) (uids []uint64, ids []string, err error) {
	err = w.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.UserIDs, nil, func(k, v []byte) error {
			uid := binary.BigEndian.Uint64(k)
			if uid <= cursor {
				return nil
			}
			if len(uids) >= backdateChunk {
				return store.ErrStop
			}
			uids, ids = append(uids, uid), append(ids, string(v))
			return nil
		})
	})
	return uids, ids, err
}

// advanceCursor moves the job's cursor past a chunk, or, after the last
// (short) chunk, removes the pending record.
func (t *txn) advanceCursor(job []byte, uids []uint64) {
	if len(uids) < backdateChunk {
		t.writes = append(t.writes, write{store.Jobs, job, nil})
	} else {
		t.writes = append(t.writes, write{store.Jobs, job, binary.BigEndian.AppendUint64(nil, uids[len(uids)-1])})
	}
}

// facts are a working user's totals and streak lengths at now.
func (w *writer) facts(u *userRec, now time.Time) achievement.Facts {
	f := achievement.Facts{Totals: map[string]Amount{}, Streaks: map[string]int{}}
	for _, m := range u.s.Metrics {
		if mm, ok := w.cat.metricByRef[m.Ref]; ok {
			f.Totals[mm.Key] = m.Total
		}
	}
	loc := w.userLocation(&u.p)
	for _, x := range u.s.Streaks {
		if sd, ok := w.cat.streakByRef[x.Ref]; ok {
			f.Streaks[sd.Key] = streak.View(sd.personalized(&u.p), x.St, now, loc).Length
		}
	}
	return f
}
