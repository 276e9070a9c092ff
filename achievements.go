package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// Achievement vocabulary, from the pure achievement package.
type (
	// AchievementKind says how an achievement completes: metric, streak,
	// manual or composite.
	AchievementKind = achievement.Kind
	// AchievementStatus is inactive (hidden, not evaluated), active, or
	// locked (no new completions; holders keep it).
	AchievementStatus = achievement.Status
	// Rarity is a badge's rarity label.
	Rarity = achievement.Rarity
	// AchievementDefinition is the definition of an achievement.
	AchievementDefinition = achievement.Definition
)

// Kinds, statuses and rarities of achievements.
const (
	KindMetric    = achievement.KindMetric
	KindStreak    = achievement.KindStreak
	KindManual    = achievement.KindManual
	KindComposite = achievement.KindComposite

	AchievementInactive = achievement.Inactive
	AchievementActive   = achievement.Active
	AchievementLocked   = achievement.Locked

	RarityCommon    = achievement.Common
	RarityRare      = achievement.Rare
	RarityEpic      = achievement.Epic
	RarityLegendary = achievement.Legendary
)

// Achievement is an achievement (badge) as stored.
type Achievement struct {
	AchievementDefinition
	Archived bool // soft-deleted: hidden and never evaluated; holders' records are kept
	Created  time.Time
	Updated  time.Time
}

const defAchievement = "achievement/"

// rebuildAchievements builds the pure catalogue from the definitions.
func (c *catalog) rebuildAchievements() error {
	defs := make([]achievement.Definition, 0, len(c.achievements))
	for _, a := range c.achievements {
		if !a.Archived {
			defs = append(defs, a.AchievementDefinition)
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
		return err
	}
	v, _ := json.Marshal(a)
	t.writes = append(t.writes, write{store.Definitions, []byte(defAchievement + a.Key), v})
	return nil
}

// AchievementsAPI administers achievements, completes manual ones and reads
// them. Get it from Engine.Achievements.
type AchievementsAPI struct{ e *Engine }

// Achievements returns the achievements API.
func (e *Engine) Achievements() AchievementsAPI { return AchievementsAPI{e} }

// Create defines an achievement. Its metric, streak and prerequisites must
// exist. Created active (or locked), it is backdated at once: users who
// already qualify complete it, flagged backdated, without notification.
func (a AchievementsAPI) Create(ctx context.Context, d AchievementDefinition) (Achievement, error) {
	if err := a.e.live(); err != nil {
		return Achievement{}, err
	}
	if err := d.Validate(); err != nil {
		return Achievement{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if _, ok := cat.achievements[d.Key]; ok {
			return nil, fmt.Errorf("%w: achievement %s exists", ErrConflict, d.Key)
		}
		if err := cat.checkAchievementRefs(&d); err != nil {
			return nil, err
		}
		ach := Achievement{AchievementDefinition: d, Created: stamp(t.now), Updated: stamp(t.now)}
		if err := t.putAchievement(&ach); err != nil {
			return nil, err
		}
		if d.Status == achievement.Active {
			t.queueBackdate(d.Key)
		}
		return ach, nil
	})
	if err != nil {
		return Achievement{}, fmt.Errorf("create achievement %s: %w", d.Key, err)
	}
	return v.(Achievement), nil
}

func (c *catalog) checkAchievementRefs(d *AchievementDefinition) error {
	var errs []error
	switch d.Kind {
	case achievement.KindMetric:
		if m, ok := c.metrics[d.Metric]; !ok || m.Status != StatusActive {
			errs = append(errs, gamifytype.Invalid("Achievement.Metric", d.Metric, "is not an active metric"))
		}
		for k := range d.EventFilters {
			if at, ok := c.attrs[k]; !ok || at.Type != EventAttribute {
				errs = append(errs, gamifytype.Invalid("Achievement.EventFilters["+k+"]", k, "is not an event attribute"))
			}
		}
	case achievement.KindStreak:
		if s, ok := c.streaks[d.Streak]; !ok || s.Status != StatusActive {
			errs = append(errs, gamifytype.Invalid("Achievement.Streak", d.Streak, "is not an active streak"))
		}
	}
	for k := range d.UserFilters {
		if at, ok := c.attrs[k]; !ok || at.Type != UserAttribute {
			errs = append(errs, gamifytype.Invalid("Achievement.UserFilters["+k+"]", k, "is not a user attribute"))
		}
	}
	return errors.Join(errs...)
}

// Update replaces an achievement's definition (its key and kind are
// immutable). Activating it, or lowering a metric threshold or streak
// length, backdates it for users who already qualify.
func (a AchievementsAPI) Update(ctx context.Context, d AchievementDefinition) (Achievement, error) {
	if err := a.e.live(); err != nil {
		return Achievement{}, err
	}
	if err := d.Validate(); err != nil {
		return Achievement{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) { return t.updateAchievement(d) })
	if err != nil {
		return Achievement{}, fmt.Errorf("update achievement %s: %w", d.Key, err)
	}
	return v.(Achievement), nil
}

// Delete archives an achievement: hidden from every list and never
// evaluated again; the key is not reused. An achievement that a composite
// lists as a prerequisite cannot be deleted (ErrConflict).
func (a AchievementsAPI) Delete(ctx context.Context, key string) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) { return nil, t.archiveAchievement(key) })
	if err != nil {
		return fmt.Errorf("delete achievement %s: %w", key, err)
	}
	return nil
}

func (t *txn) archiveAchievement(key string) error {
	cat := t.catalogForWrite()
	old, ok := cat.achievements[key]
	if !ok || old.Archived {
		return ErrNotFound
	}
	for _, o := range cat.achievements {
		if !o.Archived && slices.Contains(o.Prerequisites, key) {
			return fmt.Errorf("%w: achievement %s is a prerequisite of %s", ErrConflict, key, o.Key)
		}
	}
	c := *old
	c.Archived, c.Updated = true, stamp(t.now)
	return t.putAchievement(&c)
}

// BulkCreate creates up to 100 achievements in one commit, in order (so a
// composite may follow its prerequisites); failures are reported per item.
func (a AchievementsAPI) BulkCreate(ctx context.Context, defs []AchievementDefinition) ([]Achievement, []Issue, error) {
	if err := checkBulk("Achievements", len(defs)); err != nil {
		return nil, nil, err
	}
	var issues []Issue
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		var out []Achievement
		for i, d := range defs {
			err := d.Validate()
			cat := t.catalogForWrite()
			if _, ok := cat.achievements[d.Key]; err == nil && ok {
				err = fmt.Errorf("%w: achievement %s exists", ErrConflict, d.Key)
			}
			if err == nil {
				err = cat.checkAchievementRefs(&d)
			}
			ach := Achievement{AchievementDefinition: d, Created: stamp(t.now), Updated: stamp(t.now)}
			if err == nil {
				err = t.putAchievement(&ach)
			}
			if err != nil {
				issues = append(issues, Issue{Index: i, Key: d.Key, Severity: SeverityError, Message: err.Error(), Err: err})
				continue
			}
			if d.Status == achievement.Active {
				t.queueBackdate(d.Key)
			}
			out = append(out, ach)
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return v.([]Achievement), issues, nil
}

func (t *txn) updateAchievement(d AchievementDefinition) (Achievement, error) {
	if err := d.Validate(); err != nil {
		return Achievement{}, err
	}
	cat := t.catalogForWrite()
	old, ok := cat.achievements[d.Key]
	if !ok || old.Archived {
		return Achievement{}, ErrNotFound
	}
	if d.Kind != old.Kind {
		return Achievement{}, gamifytype.Invalid("Achievement.Kind", d.Kind, "cannot change")
	}
	if err := cat.checkAchievementRefs(&d); err != nil {
		return Achievement{}, err
	}
	ach := Achievement{AchievementDefinition: d, Created: old.Created, Updated: stamp(t.now)}
	if err := t.putAchievement(&ach); err != nil {
		return Achievement{}, err
	}
	if achievement.NeedsBackdate(old.AchievementDefinition, d) {
		t.queueBackdate(d.Key)
	}
	return ach, nil
}

// BulkUpdate applies up to 100 definition updates in one commit (see
// Update); failures are reported per item.
func (a AchievementsAPI) BulkUpdate(ctx context.Context, defs []AchievementDefinition) ([]Achievement, []Issue, error) {
	if err := checkBulk("Achievements", len(defs)); err != nil {
		return nil, nil, err
	}
	var issues []Issue
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		var out []Achievement
		for i, d := range defs {
			ach, err := t.updateAchievement(d)
			if err != nil {
				issues = append(issues, Issue{Index: i, Key: d.Key, Severity: SeverityError, Message: err.Error(), Err: err})
				continue
			}
			out = append(out, ach)
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return v.([]Achievement), issues, nil
}

// BulkDelete archives up to 100 achievements in one commit (see Delete);
// failures are reported per item.
func (a AchievementsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	var issues []Issue
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		for i, k := range keys {
			if err := t.archiveAchievement(k); err != nil {
				issues = append(issues, Issue{Index: i, Key: k, Severity: SeverityError, Message: err.Error(), Err: err})
			}
		}
		return nil, nil
	})
	return issues, err
}

// Get returns an achievement, or ErrNotFound.
func (a AchievementsAPI) Get(ctx context.Context, key string) (Achievement, error) {
	return getDef(a.e, "achievement", key, func(c *catalog) map[string]*Achievement { return c.achievements })
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
		if err := t.applyPoints(u, func(r points.Rules, s points.State) (points.State, points.Effects, error) {
			return points.OnAchievement(r, s, t.pointsUser(u), key, c.At)
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

// CompleteResult is the outcome of completing a manual achievement.
type CompleteResult struct {
	CompletedAt      time.Time
	AlreadyCompleted bool
	// Completions are the achievements completed by the call: the manual
	// one, then composites it completed.
	Completions []AchievementCompletion
}

// Complete completes a manual achievement for a user (created on first
// sight). A repeat returns the original time with AlreadyCompleted and
// changes nothing. A non-manual achievement is ErrInvalid; an inactive,
// locked or gated one ErrConflict.
func (a AchievementsAPI) Complete(ctx context.Context, key, user string) (CompleteResult, error) {
	if err := validateUserID("User", user); err != nil {
		return CompleteResult{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		if _, ok := t.w.cat.achievements[key]; !ok {
			return nil, ErrNotFound
		}
		u, err := t.user(user, true)
		if err != nil {
			return nil, err
		}
		st, r, err := achievement.Complete(t.w.cat.achCat, u.s.Ach, key, u.p.Attributes, t.now)
		if err != nil {
			return nil, err
		}
		out := CompleteResult{CompletedAt: r.Completion.At, AlreadyCompleted: r.AlreadyCompleted}
		u.s.Ach = st
		t.completed(u, r.Completions, &out.Completions)
		return out, nil
	})
	if err != nil {
		return CompleteResult{}, fmt.Errorf("complete %s for %q: %w", key, user, err)
	}
	return v.(CompleteResult), nil
}

// AchievementStats is an achievement with how many users hold it.
type AchievementStats struct {
	Achievement
	Completions   int
	RarityPercent float64 // share of all users holding it
}

// List returns the visible achievements (active and locked; inactive ones
// are hidden) in display order, with completions and rarity. With
// userAttrs, only those a user with these attributes can see are listed.
func (a AchievementsAPI) List(ctx context.Context, userAttrs map[string]string) ([]AchievementStats, error) {
	if err := a.e.live(); err != nil {
		return nil, err
	}
	cat := a.e.cat.Load()
	var out []AchievementStats
	err := a.e.db.View(func(tx *store.Tx) error {
		users := int(readCounter(tx, usersCounterKey))
		for _, ach := range cat.achievements {
			d := ach.AchievementDefinition
			if ach.Archived || d.Status == achievement.Inactive || (userAttrs != nil && !achievement.Visible(d, achievement.State{}, userAttrs)) {
				continue
			}
			n := int(readCounter(tx, achCountKey(d.Key)))
			out = append(out, AchievementStats{Achievement: *ach, Completions: n, RarityPercent: achievement.RarityPercent(n, users)})
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
	facts := a.e.facts(cat, p, s)
	var out []UserAchievement
	for _, ach := range cat.achievements {
		d := ach.AchievementDefinition
		if ach.Archived {
			continue
		}
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
	return out, nil
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

// loadBackdates resumes the backdating left unfinished by a previous run.
func (e *Engine) loadBackdates() error {
	var keys []string
	err := e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Jobs, []byte("backdate/"), func(k, _ []byte) error {
			keys = append(keys, string(k[len("backdate/"):]))
			return nil
		})
	})
	if err == nil && len(keys) > 0 {
		e.sched.addBackdates(keys)
	}
	return err
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
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			v, err := e.admin(ctx, now, func(t *txn) (any, error) { return t.backdateChunk(key) })
			if err != nil {
				return total, err
			}
			n := v.(int)
			total += n
			if n < backdateChunk {
				break
			}
		}
		e.sched.mu.Lock()
		delete(e.sched.backdates, key)
		e.sched.mu.Unlock()
	}
	return total, nil
}

// backdateChunk backdates the next users after the key's cursor; when fewer
// than a chunk remain it removes the pending record.
func (t *txn) backdateChunk(key string) (int, error) {
	w := t.w
	var cursor uint64
	var uids []uint64
	var ids []string
	err := w.db.View(func(tx *store.Tx) error {
		if b := tx.Get(store.Jobs, backdateKey(key)); len(b) == 8 {
			cursor = binary.BigEndian.Uint64(b)
		}
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
	if len(uids) < backdateChunk {
		t.writes = append(t.writes, write{store.Jobs, backdateKey(key), nil})
	} else {
		t.writes = append(t.writes, write{store.Jobs, backdateKey(key), binary.BigEndian.AppendUint64(nil, uids[len(uids)-1])})
	}
	return len(uids), nil
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
