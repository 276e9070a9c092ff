package gamify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Game is a whole game definition for Engine.Apply: what a game server
// declares at start-up. Resources are applied in dependency order —
// attributes, metrics, streaks, achievements, points systems (each with its
// levels, triggers and boosts), leaderboards, leagues, rewards, streak
// milestones, challenges, tenants — and the items of each in the order given.
type Game struct {
	Attributes   []Attribute
	Metrics      []Metric
	Streaks      []Streak
	Achievements []Achievement
	// Points are the points systems, each with its levels, triggers and
	// boosts (their System may be left empty).
	Points       []PointsSystem
	Leaderboards []Leaderboard
	Leagues      []League
	Rewards      []Reward
	Challenges   []Challenge
	Tenants      []Tenant
}

// ApplyAction is what Apply did with one definition.
type ApplyAction string

// The actions of an ApplyReport.
const (
	// ApplyCreated: the definition did not exist and was created.
	ApplyCreated ApplyAction = "created"
	// ApplyPatched: fields differed and were patched (listed in Fields).
	ApplyPatched ApplyAction = "patched"
	// ApplyActivated, ApplyDeactivated and ApplyLocked: the status was
	// changed to the one the definition gives.
	ApplyActivated   ApplyAction = "activated"
	ApplyDeactivated ApplyAction = "deactivated"
	ApplyLocked      ApplyAction = "locked"
	ApplyFinished    ApplyAction = "finished"
	// ApplyUnchanged: the stored definition already matched.
	ApplyUnchanged ApplyAction = "unchanged"
)

// ApplyChange reports what Apply did with one definition.
type ApplyChange struct {
	Resource string // "metric", "streak", ...
	Key      string
	Action   ApplyAction
	Fields   []string `json:",omitempty"` // the patched fields
}

// ApplyReport lists what Apply did, one change per definition and action.
type ApplyReport struct {
	Changes []ApplyChange
}

// Changed reports whether Apply changed anything.
func (r ApplyReport) Changed() bool {
	for _, c := range r.Changes {
		if c.Action != ApplyUnchanged {
			return true
		}
	}
	return false
}

// Apply brings the stored definitions in line with the fields g sets: it
// creates what is missing, patches what differs and sets the status a
// definition asks for, and reports what it did. Run twice with the same g, the second run changes
// nothing and reports every definition unchanged — so a game server can
// call it at every start instead of handling ErrConflict from Create.
//
// What "differs" means: a field the definition leaves at its zero value
// (an empty string or slice, 0, a zero time or Amount) keeps what is stored,
// including values the engine filled in at creation (a board's start day, a
// metric's unit type) — so Apply cannot clear a field: use Patch for that; a
// field it sets replaces the stored value (a struct field, such as a streak's
// Freezes, as a whole). A game making two streaks the default is refused.
// Status is applied only when the definition sets one (through Activate,
// Deactivate, Lock or Finish); attributes are deactivated last, once the
// definitions that filter on them exist. Inactive, the intervals a
// definition was inactive, is the engine's: Apply neither compares nor sets
// it, not even on a definition it creates. Apply
// does not delete: a stored definition absent from g is left as it is. A
// definition whose key is archived is an error (keys are never reused).
//
// A malformed key, a key listed twice in one list and two default streaks
// are refused before anything is written, each error naming its place in g
// ("Game.Metrics[1].Key"). Apply is not one transaction otherwise: each
// change commits on its own. If one fails (a definition's own rules), Apply
// returns the report so far with the error, and running it again completes
// the rest.
func (e *Engine) Apply(ctx context.Context, g Game) (ApplyReport, error) {
	var rep ApplyReport
	if err := checkGame(g); err != nil {
		return ApplyReport{}, err
	}
	ats, ms, ss, as, rs := e.Attributes(), e.Metrics(), e.Streaks(), e.Achievements(), e.Rewards()
	ps, bs, ls, ts := e.Points(), e.Leaderboards(), e.Leagues(), e.Tenants()
	attrs := applier[Attribute]{
		resource: "attribute",
		key:      func(a *Attribute) string { return a.Key },
		status:   func(a *Attribute) Status { return a.Status },
		get:      ats.Get, create: ats.Create, patch: ats.Patch,
		verbs: statusVerbs[Attribute]{StatusActive: ats.Activate, StatusInactive: ats.Deactivate},
	}
	steps := []func() error{
		func() error {
			// Deactivated last (below): a filter key must name an active
			// attribute when it is set, so a definition of this game that
			// filters on one must be applied first.
			held := make([]Attribute, len(g.Attributes))
			for i, a := range g.Attributes {
				if a.Status == StatusInactive {
					a.Status = ""
				}
				held[i] = a
			}
			return applyAll(ctx, &rep, held, attrs)
		},
		func() error {
			return applyAll(ctx, &rep, g.Metrics, applier[Metric]{
				resource: "metric",
				key:      func(m *Metric) string { return m.Key },
				status:   func(m *Metric) Status { return m.Status },
				get:      ms.Get, create: ms.Create, patch: ms.Patch,
				verbs: statusVerbs[Metric]{StatusActive: ms.Activate, StatusInactive: ms.Deactivate},
			})
		},
		func() error {
			// Milestones pay in points systems and rewards and complete
			// achievements, all applied after streaks: they are set below.
			bare := make([]Streak, len(g.Streaks))
			for i, s := range g.Streaks {
				s.Milestones = nil
				bare[i] = s
			}
			return applyAll(ctx, &rep, bare, applier[Streak]{
				skip:     []string{"Milestones"},
				resource: "streak",
				key:      func(s *Streak) string { return s.Key },
				status:   func(s *Streak) Status { return s.Status },
				get:      ss.Get, create: ss.Create, patch: ss.Patch,
				verbs: statusVerbs[Streak]{StatusActive: ss.Activate, StatusInactive: ss.Deactivate},
			})
		},
		func() error {
			return applyAll(ctx, &rep, g.Achievements, applier[Achievement]{
				resource: "achievement",
				key:      func(a *Achievement) string { return a.Key },
				status:   func(a *Achievement) Status { return a.Status },
				get:      as.Get, create: as.Create, patch: as.Patch,
				verbs: statusVerbs[Achievement]{StatusActive: as.Activate, StatusInactive: as.Deactivate, StatusLocked: as.Lock},
			})
		},
		func() error { return e.applyPoints(ctx, &rep, ps, g.Points) },
		func() error {
			return applyAll(ctx, &rep, g.Leaderboards, applier[Leaderboard]{
				resource: "leaderboard",
				key:      func(b *Leaderboard) string { return b.Key },
				status:   boardLifecycle,
				get:      bs.Get, create: bs.Create, patch: bs.Patch,
				verbs: statusVerbs[Leaderboard]{StatusActive: bs.Activate, StatusInactive: bs.Deactivate, StatusFinished: bs.Finish},
			})
		},
		func() error {
			return applyAll(ctx, &rep, g.Leagues, applier[League]{
				resource: "league",
				key:      func(l *League) string { return l.Key },
				status:   func(l *League) Status { return l.Status },
				get:      ls.Get, create: ls.Create, patch: ls.Patch,
				verbs: statusVerbs[League]{StatusActive: ls.Activate, StatusInactive: ls.Deactivate},
			})
		},
		func() error {
			return applyAll(ctx, &rep, g.Rewards, applier[Reward]{
				resource: "reward",
				key:      func(r *Reward) string { return r.Key },
				status:   func(r *Reward) Status { return r.Status },
				get:      rs.Get, create: rs.Create, patch: rs.Patch,
				verbs: statusVerbs[Reward]{StatusActive: rs.Activate, StatusInactive: rs.Deactivate},
			})
		},
		func() error { return e.applyMilestones(ctx, &rep, ss, g.Streaks) },
		func() error {
			cs := e.Challenges()
			return applyAll(ctx, &rep, g.Challenges, applier[Challenge]{
				resource: "challenge",
				key:      func(c *Challenge) string { return c.Key },
				status:   func(c *Challenge) Status { return c.Status },
				get:      cs.Get, create: cs.Create, patch: cs.Patch,
				verbs: statusVerbs[Challenge]{StatusActive: cs.Activate, StatusInactive: cs.Deactivate},
			})
		},
		func() error {
			return applyAll(ctx, &rep, g.Tenants, applier[Tenant]{
				resource: "tenant",
				key:      func(t *Tenant) string { return t.Key },
				status:   func(t *Tenant) Status { return t.Status },
				get:      ts.Get, create: ts.Create, patch: ts.Patch,
				verbs: statusVerbs[Tenant]{StatusActive: ts.Activate, StatusInactive: ts.Deactivate},
			})
		},
	}
	steps = append(steps, func() error { return applyDeactivations(ctx, &rep, g.Attributes, attrs) })
	for _, step := range steps {
		if err := step(); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// applyDeactivations deactivates the items that ask for it and are not,
// reporting it on the item's own entry when that says unchanged.
func applyDeactivations[T any](ctx context.Context, rep *ApplyReport, items []T, a applier[T]) error {
	for i := range items {
		key := a.key(&items[i])
		if a.status(&items[i]) != StatusInactive {
			continue
		}
		cur, err := a.get(ctx, key)
		if err != nil {
			return fmt.Errorf("apply %s %s: %w", a.resource, key, err)
		}
		if a.status(&cur) == StatusInactive {
			continue
		}
		if _, err := a.verbs[StatusInactive](ctx, key); err != nil {
			return fmt.Errorf("apply %s %s: %w", a.resource, key, err)
		}
		j := slices.IndexFunc(rep.Changes, func(c ApplyChange) bool {
			return c.Resource == a.resource && c.Key == key && c.Action == ApplyUnchanged
		})
		if j >= 0 {
			rep.Changes[j].Action = ApplyDeactivated
		} else {
			rep.Changes = append(rep.Changes, ApplyChange{Resource: a.resource, Key: key, Action: ApplyDeactivated})
		}
	}
	return nil
}

// applyMilestones sets the streaks' milestones once what they name exists,
// reporting the change on the streak's own entry.
func (e *Engine) applyMilestones(ctx context.Context, rep *ApplyReport, ss StreaksAPI, streaks []Streak) error {
	for _, want := range streaks {
		if len(want.Milestones) == 0 {
			continue
		}
		cur, err := ss.Get(ctx, want.Key)
		if err != nil {
			return fmt.Errorf("apply streak %s: %w", want.Key, err)
		}
		if reflect.DeepEqual(cur.Milestones, want.Milestones) {
			continue
		}
		if _, err := ss.Patch(ctx, want.Key, func(s *Streak) { s.Milestones = slices.Clone(want.Milestones) }); err != nil {
			return fmt.Errorf("apply streak %s: milestones: %w", want.Key, err)
		}
		noted := false
		for i := range rep.Changes {
			c := &rep.Changes[i]
			if c.Resource != "streak" || c.Key != want.Key {
				continue
			}
			switch c.Action {
			case ApplyCreated:
				noted = true // created with them, as far as the caller is concerned
			case ApplyUnchanged, ApplyPatched:
				c.Action, c.Fields, noted = ApplyPatched, append(c.Fields, "Milestones"), true
			}
		}
		if !noted {
			rep.Changes = append(rep.Changes, ApplyChange{Resource: "streak", Key: want.Key, Action: ApplyPatched, Fields: []string{"Milestones"}})
		}
	}
	return nil
}

// applyPoints applies each system, then its levels, triggers and boosts
// one by one (a system is created with them in one commit when it is new).
func (e *Engine) applyPoints(ctx context.Context, rep *ApplyReport, ps PointsAPI, systems []PointsSystem) error {
	sysApplier := applier[PointsSystem]{
		resource: "points system",
		key:      func(s *PointsSystem) string { return s.Key },
		status:   func(s *PointsSystem) Status { return s.Status },
		get:      ps.Get, create: ps.Create, patch: ps.Patch,
		verbs: statusVerbs[PointsSystem]{StatusActive: ps.Activate, StatusInactive: ps.Deactivate},
		skip:  []string{"Levels", "Triggers", "Boosts"},
	}
	ts, bs := ps.Triggers(), ps.Boosts()
	for _, s := range systems {
		// The intervals are the engine's, also in a system Apply creates.
		s.Triggers, s.Boosts = slices.Clone(s.Triggers), slices.Clone(s.Boosts)
		for i := range s.Triggers {
			withoutInactive(&s.Triggers[i])
		}
		for i := range s.Boosts {
			withoutInactive(&s.Boosts[i])
		}
		n := len(rep.Changes)
		if err := applyAll(ctx, rep, []PointsSystem{s}, sysApplier); err != nil {
			return err
		}
		if rep.Changes[n].Action == ApplyCreated {
			// Created with its levels, triggers and boosts in one commit:
			// each is reported as the definition it is.
			for _, l := range s.Levels {
				rep.Changes = append(rep.Changes, ApplyChange{Resource: "level", Key: l.Key, Action: ApplyCreated})
			}
			for _, tr := range s.Triggers {
				rep.Changes = append(rep.Changes, ApplyChange{Resource: "trigger", Key: tr.Key, Action: ApplyCreated})
			}
			for _, b := range s.Boosts {
				rep.Changes = append(rep.Changes, ApplyChange{Resource: "boost", Key: b.Key, Action: ApplyCreated})
			}
			continue
		}
		ls := ps.Levels(s.Key)
		levels, triggers, boosts := slices.Clone(s.Levels), slices.Clone(s.Triggers), slices.Clone(s.Boosts)
		for i := range levels {
			levels[i].System = cmp.Or(levels[i].System, s.Key)
		}
		for i := range triggers {
			triggers[i].System = cmp.Or(triggers[i].System, s.Key)
		}
		for i := range boosts {
			boosts[i].System = cmp.Or(boosts[i].System, s.Key)
		}
		if err := applyAll(ctx, rep, levels, applier[Level]{
			resource: "level", key: func(l *Level) string { return l.Key }, status: func(l *Level) Status { return l.Status },
			get: ls.Get, create: ls.Create, patch: ls.Patch,
			verbs: statusVerbs[Level]{StatusActive: ls.Activate, StatusInactive: ls.Deactivate},
		}); err != nil {
			return err
		}
		if err := applyAll(ctx, rep, triggers, applier[Trigger]{
			resource: "trigger", key: func(t *Trigger) string { return t.Key }, status: func(t *Trigger) Status { return t.Status },
			get: ts.Get, create: ts.Create, patch: ts.Patch,
			verbs: statusVerbs[Trigger]{StatusActive: ts.Activate, StatusInactive: ts.Deactivate},
		}); err != nil {
			return err
		}
		if err := applyAll(ctx, rep, boosts, applier[Boost]{
			resource: "boost", key: func(b *Boost) string { return b.Key }, status: boostLifecycle,
			get: bs.Get, create: bs.Create, patch: bs.Patch,
			verbs: statusVerbs[Boost]{StatusActive: bs.Activate, StatusInactive: bs.Deactivate},
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkGame refuses, before anything is written, a malformed key and a game
// Apply could never converge on: one that lists a key twice in a list (each
// run would patch one into the other) or makes two streaks the default
// (each run would move the flag back and forth).
func checkGame(g Game) error {
	var errs []error
	keys := func(list string, n int, key func(int) string) {
		seen := make(map[string]int, n)
		for i := range n {
			k := key(i)
			// A malformed key is refused before anything is written.
			if err := gamifytype.ValidateKey(fmt.Sprintf("Game.%s[%d].Key", list, i), k); err != nil {
				errs = append(errs, err)
				continue
			}
			if j, dup := seen[k]; dup {
				errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Game.%s[%d].Key", list, i), k, fmt.Sprintf("is listed twice (also at %d)", j)))
			}
			seen[k] = i
		}
	}
	keys("Attributes", len(g.Attributes), func(i int) string { return g.Attributes[i].Key })
	keys("Metrics", len(g.Metrics), func(i int) string { return g.Metrics[i].Key })
	keys("Streaks", len(g.Streaks), func(i int) string { return g.Streaks[i].Key })
	keys("Achievements", len(g.Achievements), func(i int) string { return g.Achievements[i].Key })
	keys("Points", len(g.Points), func(i int) string { return g.Points[i].Key })
	for i, p := range g.Points {
		keys(fmt.Sprintf("Points[%d].Levels", i), len(p.Levels), func(j int) string { return p.Levels[j].Key })
		keys(fmt.Sprintf("Points[%d].Triggers", i), len(p.Triggers), func(j int) string { return p.Triggers[j].Key })
		keys(fmt.Sprintf("Points[%d].Boosts", i), len(p.Boosts), func(j int) string { return p.Boosts[j].Key })
	}
	keys("Leaderboards", len(g.Leaderboards), func(i int) string { return g.Leaderboards[i].Key })
	keys("Leagues", len(g.Leagues), func(i int) string { return g.Leagues[i].Key })
	keys("Rewards", len(g.Rewards), func(i int) string { return g.Rewards[i].Key })
	keys("Challenges", len(g.Challenges), func(i int) string { return g.Challenges[i].Key })
	keys("Tenants", len(g.Tenants), func(i int) string { return g.Tenants[i].Key })
	if err := errors.Join(errs...); err != nil {
		return err
	}
	first := -1
	for i, s := range g.Streaks {
		if s.Default {
			if first >= 0 {
				return gamifytype.Invalid(fmt.Sprintf("Game.Streaks[%d].Default", i), s.Key,
					"only one streak can be the default, and Streaks["+strconv.Itoa(first)+"] is")
			}
			first = i
		}
	}
	return nil
}

// boardLifecycle is the status a board's verbs set: a scheduled board (its
// dates, not its status) is active.
func boardLifecycle(b *Leaderboard) Status {
	if b.Status == StatusScheduled {
		return StatusActive
	}
	return b.Status
}

// boostLifecycle is the status a boost's verbs set: a scheduled or finished
// boost (its window, not its status) is active.
func boostLifecycle(b *Boost) Status {
	if b.Status == StatusScheduled || b.Status == StatusFinished {
		return StatusActive
	}
	return b.Status
}

// applier is what Apply needs of one resource's admin API.
type applier[T any] struct {
	resource string
	skip     []string // fields Apply leaves to other steps
	key      func(*T) string
	status   func(*T) Status
	get      func(context.Context, string) (T, error)
	create   func(context.Context, T) (T, error)
	patch    func(context.Context, string, func(*T)) (T, error)
	verbs    statusVerbs[T] // the status a definition may ask for → its verb
}

// statusVerbs maps a status to the verb that sets it.
type statusVerbs[T any] map[Status]func(context.Context, string) (T, error)

// statusActions names what setting a status did.
var statusActions = map[Status]ApplyAction{StatusActive: ApplyActivated, StatusInactive: ApplyDeactivated,
	StatusLocked: ApplyLocked, StatusFinished: ApplyFinished}

// field is the resource's type name for ValidationError fields ("Metric").
func (a applier[T]) field() string {
	var zero T
	return reflect.TypeOf(zero).Name()
}

func applyAll[T any](ctx context.Context, rep *ApplyReport, items []T, a applier[T]) error {
	for i := range items {
		if err := a.apply(ctx, rep, items[i]); err != nil {
			return fmt.Errorf("apply %s %s: %w", a.resource, a.key(&items[i]), err)
		}
	}
	return nil
}

func (a applier[T]) apply(ctx context.Context, rep *ApplyReport, want T) error {
	key := a.key(&want)
	if key == "" {
		return gamifytype.Invalid(a.field()+".Key", key, "is required: Apply finds a definition by its key")
	}
	note := func(act ApplyAction, fields []string) {
		rep.Changes = append(rep.Changes, ApplyChange{Resource: a.resource, Key: key, Action: act, Fields: fields})
	}
	cur, err := a.get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		withoutInactive(&want)
		if _, err := a.create(ctx, want); err != nil {
			return err
		}
		note(ApplyCreated, nil)
		return nil
	}
	if err != nil {
		return err
	}
	if a.status(&cur) == StatusArchived {
		return fmt.Errorf("%w: the key is archived and cannot be reused", ErrConflict)
	}
	changed := false
	if fields := overlay(&cur, &want, a.skip, true); len(fields) > 0 {
		if cur, err = a.patch(ctx, key, func(d *T) { overlay(d, &want, a.skip, false) }); err != nil {
			return err
		}
		note(ApplyPatched, fields)
		changed = true
	}
	if st := a.status(&want); st != "" && st != a.status(&cur) {
		verb, ok := a.verbs[st]
		if !ok {
			return gamifytype.Invalid(a.field()+".Status", st, "is not a status Apply can set")
		}
		if _, err := verb(ctx, key); err != nil {
			return err
		}
		note(statusActions[st], nil)
		changed = true
	}
	if !changed {
		note(ApplyUnchanged, nil)
	}
	return nil
}

// engineOwned are the fields Apply never copies: the engine sets them.
// Inactive (the intervals a definition was inactive) is left out of a
// create too: only an export's Create gives it.
var engineOwned = map[string]bool{"Key": true, "Status": true, "Created": true, "Updated": true, "Inactive": true}

// overlay copies onto dst every exported field that src sets (non-zero; an
// empty slice or map counts as unset) and that differs, except the
// engine-owned ones, and returns the names of the fields that differed.
// With dryRun it only reports them.
func overlay[T any](dst, src *T, skip []string, dryRun bool) []string {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	var fields []string
	for i := range s.NumField() {
		f := s.Type().Field(i)
		if !f.IsExported() || engineOwned[f.Name] || slices.Contains(skip, f.Name) || unset(s.Field(i)) {
			continue
		}
		if same(d.Field(i), s.Field(i)) {
			continue
		}
		fields = append(fields, f.Name)
		if !dryRun {
			d.Field(i).Set(s.Field(i))
		}
	}
	return fields
}

// same compares two field values; times compare as instants (a stored time
// is UTC, the caller's may be in any zone).
func same(a, b reflect.Value) bool {
	if t, ok := a.Interface().(time.Time); ok {
		return t.Equal(b.Interface().(time.Time))
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func unset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}
