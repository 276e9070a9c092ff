package gamify

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// catalog is an immutable snapshot of the definitions. The writer works on
// its own copy; readers and boundary validation use the last committed one
// (Engine.cat), swapped in after each commit that changed definitions.
type catalog struct {
	metrics       map[string]*Metric
	metricByRef   map[uint32]*Metric
	attrs         map[string]*Attribute
	lastMetricRef uint32

	streaks       map[string]*Streak
	streakByRef   map[uint32]*Streak
	lastStreakRef uint32
	metricStreaks map[string][]*Streak // derived: active streaks counting a metric
	defaultStreak *Streak              // derived: the streak event results report

	boards       map[string]*Leaderboard
	boardByRef   map[uint32]*Leaderboard
	lastBoardRef uint32
	metricBoards map[string][]*Leaderboard // derived: live boards ranking a metric
	streakBoards map[string][]*Leaderboard // derived: live boards ranking a streak
	pointsBoards map[string][]*Leaderboard // derived: live boards ranking a points system

	achievements map[string]*Achievement
	achCat       *achievement.Catalog // derived: the validated pure catalogue

	points pointsDefs

	rewards       map[string]*Reward
	lastRewardRef uint32

	tenants       map[string]*Tenant
	lastTenantRef uint32

	leagues       map[string]*League
	lastLeagueRef uint32
	boardLeagues  map[uint32][]*League // derived: active leagues by board ref (leagues.go)

	chals challengeDefs // challenges.go
}

func newCatalog() *catalog {
	c := &catalog{metrics: map[string]*Metric{}, metricByRef: map[uint32]*Metric{}, attrs: map[string]*Attribute{},
		streaks: map[string]*Streak{}, streakByRef: map[uint32]*Streak{}, metricStreaks: map[string][]*Streak{},
		boards: map[string]*Leaderboard{}, boardByRef: map[uint32]*Leaderboard{},
		metricBoards: map[string][]*Leaderboard{}, streakBoards: map[string][]*Leaderboard{}, pointsBoards: map[string][]*Leaderboard{},
		achievements: map[string]*Achievement{}, rewards: map[string]*Reward{}, tenants: map[string]*Tenant{},
		leagues: map[string]*League{}, boardLeagues: map[uint32][]*League{}}
	c.points.init()
	c.points.index()
	c.chals.init()
	return c
}

func (c *catalog) clone() *catalog {
	return &catalog{
		metrics:       maps.Clone(c.metrics),
		metricByRef:   maps.Clone(c.metricByRef),
		attrs:         maps.Clone(c.attrs),
		lastMetricRef: c.lastMetricRef,
		streaks:       maps.Clone(c.streaks),
		streakByRef:   maps.Clone(c.streakByRef),
		lastStreakRef: c.lastStreakRef,
		metricStreaks: c.metricStreaks,
		defaultStreak: c.defaultStreak,
		boards:        maps.Clone(c.boards),
		boardByRef:    maps.Clone(c.boardByRef),
		lastBoardRef:  c.lastBoardRef,
		metricBoards:  c.metricBoards,
		streakBoards:  c.streakBoards,
		pointsBoards:  c.pointsBoards,
		achievements:  maps.Clone(c.achievements),
		achCat:        c.achCat,
		points:        c.points.clone(),
		rewards:       maps.Clone(c.rewards),
		lastRewardRef: c.lastRewardRef,
		tenants:       maps.Clone(c.tenants),
		lastTenantRef: c.lastTenantRef,
		leagues:       maps.Clone(c.leagues),
		lastLeagueRef: c.lastLeagueRef,
		boardLeagues:  c.boardLeagues,
		chals:         c.chals.clone(),
	}
}

// Definition keys in the Definitions keyspace: kind/key.
const (
	defMetric    = "metric/"
	defAttribute = "attribute/"
)

// loadCatalog reads every stored definition. A definition that does not
// decode, fails the validation of Create, is filed under another key, or is
// of no kind this build knows, is damage: an error wrapping ErrCorrupt that
// names it, never a default or a skipped record.
func loadCatalog(tx *store.Tx, defaultTZ *time.Location) (*catalog, error) {
	return loadDefinitions(func(fn func(k, v []byte) error) error { return tx.Scan(store.Definitions, nil, fn) }, defaultTZ)
}

// loadDefinitions builds the catalog from the definitions scan calls fn
// with (a migration step passes the raw values it wrote).
func loadDefinitions(scan func(fn func(k, v []byte) error) error, defaultTZ *time.Location) (*catalog, error) {
	c := newCatalog()
	err := scan(func(k, v []byte) error {
		if err := c.load(string(k), v, defaultTZ); err != nil {
			return corruptDef(string(k), err)
		}
		return nil
	})
	if err == nil {
		err = c.checkRefs()
	}
	// Refs are dense counters; a huge one is damage, and the loops over
	// 1..last below (and in the writer) would run for ever.
	for _, last := range []uint32{c.lastMetricRef, c.lastStreakRef, c.lastBoardRef, c.lastRewardRef, c.points.lastSystemRef, c.lastLeagueRef, c.chals.lastRef} {
		if err == nil && last > maxDefinitionRef {
			err = fmt.Errorf("%w: definitions: a ref of %d is beyond %d", ErrCorrupt, last, maxDefinitionRef)
		}
	}
	if err != nil {
		return nil, err
	}
	c.indexStreaks()
	c.indexBoards()
	c.indexLeagues()
	c.chals.index()
	if err := c.rebuildAchievements(); err != nil {
		return nil, fmt.Errorf("%w: definitions: achievements: %w", ErrCorrupt, err)
	}
	c.points.index()
	return c, nil
}

// maxQuotedKey bounds how much of a stored key an error quotes.
const maxQuotedKey = 64

// corruptDef is the error of the stored definition under key.
func corruptDef(key string, err error) error {
	if len(key) > maxQuotedKey {
		key = fmt.Sprintf("%s… (%d bytes)", key[:maxQuotedKey], len(key))
	}
	return fmt.Errorf("%w: definition %q: %w", ErrCorrupt, key, err)
}

// storedStatus checks the status of a stored definition: the engine stores
// these three (others are derived when shown).
func storedStatus(s Status) error {
	switch s {
	case StatusActive, StatusInactive, StatusArchived:
		return nil
	}
	return fmt.Errorf("status %q", s)
}

// storedDef checks what every stored definition shares: it is filed under
// its own key, has a stored status, a ref that is new (refs is the kind's
// index, nil for kinds without refs) and passes validation.
func storedDef[T any](key, want string, st Status, ref uint32, refs map[uint32]*T, valid error) error {
	switch {
	case key != want:
		return fmt.Errorf("holds the definition of %q", want)
	case refs != nil && ref == 0:
		return fmt.Errorf("ref 0")
	case refs != nil && refs[ref] != nil:
		return fmt.Errorf("ref %d is taken", ref)
	}
	if err := storedStatus(st); err != nil {
		return err
	}
	return valid
}

// load decodes and checks one stored definition and adds it to c.
func (c *catalog) load(key string, v []byte, defaultTZ *time.Location) error {
	switch {
	case strings.HasPrefix(key, defMetric):
		var m storedMetric
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		mm := m.Metric
		if err := storedDef(key, defMetric+mm.Key, mm.Status, m.Ref, c.metricByRef, mm.Validate()); err != nil {
			return err
		}
		mm.ref = m.Ref
		c.metrics[mm.Key] = &mm
		c.metricByRef[mm.ref] = &mm
		c.lastMetricRef = max(c.lastMetricRef, mm.ref)
	case strings.HasPrefix(key, defAttribute):
		var sa storedAttribute
		if err := json.Unmarshal(v, &sa); err != nil {
			return err
		}
		a := sa.Attribute
		if err := storedDef[Attribute](key, defAttribute+a.Key, a.Status, 0, nil, a.Validate()); err != nil {
			return err
		}
		a.ref = sa.Ref
		c.attrs[a.Key] = &a
	case strings.HasPrefix(key, defStreak):
		var st storedStreak
		if err := json.Unmarshal(v, &st); err != nil {
			return err
		}
		s := st.Streak
		if err := storedDef(key, defStreak+s.Key, s.Status, st.Ref, c.streakByRef, s.Validate()); err != nil {
			return err
		}
		s.ref, s.Inactive = st.Ref, st.Off
		d, err := s.definition()
		if err != nil {
			return err
		}
		s.def = d
		c.streaks[s.Key], c.streakByRef[s.ref] = &s, &s
		c.lastStreakRef = max(c.lastStreakRef, s.ref)
	case strings.HasPrefix(key, defBoard):
		return loadBoard(c, key, v, defaultTZ)
	case strings.HasPrefix(key, defAchievement):
		return loadAchievement(c, key, v)
	case strings.HasPrefix(key, "points-"):
		return c.points.load(key, v)
	case strings.HasPrefix(key, defReward):
		var sr storedReward
		if err := json.Unmarshal(v, &sr); err != nil {
			return err
		}
		r := sr.Reward
		if err := storedDef[Reward](key, defReward+r.Key, r.Status, 0, nil, r.Validate()); err != nil {
			return err
		}
		r.ref = sr.Ref
		c.rewards[r.Key] = &r
		c.lastRewardRef = max(c.lastRewardRef, r.ref)
	case strings.HasPrefix(key, defLeague):
		return loadLeague(c, key, v)
	case strings.HasPrefix(key, defChallenge):
		return loadChallenge(c, key, v)
	case strings.HasPrefix(key, defTenant):
		var st storedTenant
		if err := json.Unmarshal(v, &st); err != nil {
			return err
		}
		tn := st.Tenant
		if err := storedDef[Tenant](key, defTenant+tn.Key, tn.Status, 0, nil, tn.Validate()); err != nil {
			return err
		}
		tn.ref = st.Ref
		c.tenants[tn.Key] = &tn
		c.lastTenantRef = max(c.lastTenantRef, tn.ref)
	default:
		return errors.New("no such kind of definition")
	}
	return nil
}

// checkRefs checks that the definitions others name exist (archived or not).
func (c *catalog) checkRefs() error {
	var errs []error
	missing := func(key, field, what, name string) {
		errs = append(errs, corruptDef(key, fmt.Errorf("%s names %s %q, which does not exist", field, what, name)))
	}
	for _, b := range c.boards {
		switch b.RankBy {
		case RankByMetric:
			if c.metrics[b.Metric] == nil {
				missing(defBoard+b.Key, "Metric", "metric", b.Metric)
			}
		case RankByStreak:
			if c.streaks[b.Streak] == nil {
				missing(defBoard+b.Key, "Streak", "streak", b.Streak)
			}
		case RankByPoints:
			if c.points.systems[b.System] == nil {
				missing(defBoard+b.Key, "System", "points system", b.System)
			}
		}
	}
	for _, s := range c.streaks {
		for _, m := range s.Metrics {
			if c.metrics[m.Metric] == nil {
				missing(defStreak+s.Key, "Metrics", "metric", m.Metric)
			}
		}
	}
	for _, tr := range c.points.triggers {
		if c.points.systems[tr.System] == nil {
			missing(defTrigger+tr.Key, "System", "points system", tr.System)
		}
	}
	for _, b := range c.points.boosts {
		if c.points.systems[b.System] == nil {
			missing(defBoost+b.Key, "System", "points system", b.System)
		}
	}
	for _, l := range c.points.levels {
		if c.points.systems[l.System] == nil {
			missing(defLevel+l.System+"/"+l.Key, "System", "points system", l.System)
		}
	}
	for _, a := range c.achievements {
		if a.Metric != "" && c.metrics[a.Metric] == nil {
			missing(defAchievement+a.Key, "Metric", "metric", a.Metric)
		}
		if a.Streak != "" && c.streaks[a.Streak] == nil {
			missing(defAchievement+a.Key, "Streak", "streak", a.Streak)
		}
	}
	for _, l := range c.leagues {
		if c.boards[l.Board] == nil {
			missing(defLeague+l.Key, "Board", "leaderboard", l.Board)
		}
	}
	c.chals.checkRefs(c, missing)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// maxDefinitionRef bounds the refs of a kind of definition (they count up
// from 1, one per definition ever created).
const maxDefinitionRef = 1 << 24

// ListOptions page an admin list.
type ListOptions struct {
	// Limit is the page size, 1–100. Default: 100.
	Limit int
	// Skip is the number of items to skip.
	Skip int
	// IncludeArchived lists archived definitions too.
	IncludeArchived bool
}

func (o ListOptions) validate(what string) (limit int, err error) {
	limit = o.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 100 {
		return 0, gamifytype.Invalid(what+".Limit", o.Limit, "must be between 1 and 100")
	}
	if o.Skip < 0 {
		return 0, gamifytype.Invalid(what+".Skip", o.Skip, "must not be negative")
	}
	return limit, nil
}

func page[T any](items []T, skip, limit int) []T {
	if skip >= len(items) {
		return []T{}
	}
	return slices.Clone(items[skip:min(len(items), skip+limit)])
}

// Severity grades a bulk-operation issue.
type Severity string

const (
	// SeverityError means the item was not applied.
	SeverityError Severity = "error"
	// SeverityWarning means the item was applied with a caveat.
	SeverityWarning Severity = "warning"
)

// Issue reports a problem with one item of a bulk operation.
type Issue struct {
	Index    int    // position of the item in the request
	Key      string // the item's key, if it had one
	Severity Severity
	Message  string
	Err      error `json:"-"` // the underlying error, for errors.Is; not in JSON (Message is its text)
}

// BulkLimit is the largest number of items a bulk operation accepts.
const BulkLimit = 100

// checkSet refuses a list of a definition or call with more than max
// entries or an entry listed twice, naming the field.
func checkSet[T comparable](field string, list []T, max int) error {
	if len(list) > max {
		return gamifytype.Invalid(field, len(list), fmt.Sprintf("must list at most %d entries", max))
	}
	for i, v := range list {
		if j := slices.Index(list[:i], v); j >= 0 {
			return gamifytype.Invalid(fmt.Sprintf("%s[%d]", field, i), v, fmt.Sprintf("is listed twice (also at %d)", j))
		}
	}
	return nil
}

func checkBulk(field string, n int) error {
	if n == 0 || n > BulkLimit {
		return gamifytype.Invalid(field, n, "must hold 1 to 100 items")
	}
	return nil
}

func stamp(t time.Time) time.Time { return t.UTC().Round(0) }

// getDef returns a copy of the definition with key from a committed catalog
// map, or ErrNotFound naming what (e.g. "metric").
func getDef[T any](e *Engine, what, key string, defs func(*catalog) map[string]*T) (T, error) {
	var zero T
	if err := e.live(); err != nil {
		return zero, err
	}
	d, ok := defs(e.cat.Load())[key]
	if !ok {
		return zero, fmt.Errorf("%s %s: %w", what, gamifytype.Quote(key), ErrNotFound)
	}
	return *d, nil
}

// listDefs pages the definitions of a committed catalog map that keep
// returns true for, in the order of compare.
func listDefs[T any](e *Engine, opts ListOptions, defs func(*catalog) map[string]*T, keep func(*T) bool, compare func(a, b *T) int) ([]T, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	if err := e.live(); err != nil {
		return nil, err
	}
	var all []*T
	for _, d := range defs(e.cat.Load()) {
		if keep(d) {
			all = append(all, d)
		}
	}
	slices.SortFunc(all, compare)
	out := []T{}
	for _, d := range page(all, opts.Skip, limit) {
		out = append(out, *d)
	}
	return out, nil
}
