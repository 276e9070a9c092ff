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

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
)

// LevelsAPI administers the levels of one points system; level keys are
// unique within it. Get it from PointsAPI.Levels.
//
// An inactive or archived level is not part of the ladder: nobody reaches
// it. Every change of the ladder moves the users it concerns, eventually:
// Create of an active level, Activate, a Patch of an active level's
// Threshold, Deactivate and Delete queue the move and return; the engine's
// runner (or RunDue, under a ManualClock) then works through every user in
// chunks, as achievement backdating does, moving each user whose level is
// not the one of their total to it (a pin holds unless its level left the
// ladder, and is then cleared) with a PointsChanged carrying the
// LevelChange, and the users list follows. Until a user's chunk has run,
// reads still show the old level, unless a change of points moved them
// first.
type LevelsAPI struct {
	e      *Engine
	system string
}

func (a LevelsAPI) kind() defKind[Level] { return levelKind(a.system) }

// levelKind is the kind of the levels of system.
func levelKind(system string) defKind[Level] {
	return defKind[Level]{
		resource: resource[Level]{
			what: "level of " + system, field: "Level", kind: "level", scope: system, check: (*Level).validate,
			defs: func(c *catalog) map[string]*Level {
				out := map[string]*Level{}
				for _, l := range c.points.levels {
					if l.System == system {
						out[l.Key] = l
					}
				}
				return out
			},
			clone: cloneLevel,
			owned: func(l *Level) owned { return owned{l.Key, l.Status, l.Created, l.Updated, nil} },
			replace: func(t *txn, old *Level, d Level) (Level, error) {
				var errs []error
				if d.System != old.System {
					errs = append(errs, gamifytype.Invalid("Level.System", d.System, "is immutable"))
				}
				errs = append(errs, d.validate())
				if err := errors.Join(errs...); err != nil {
					return Level{}, err
				}
				if err := t.checkLadder(&d); err != nil {
					return Level{}, err
				}
				d.seq, d.Updated = old.seq, stamp(t.now)
				t.putLevel(&d)
				if d.Status == StatusActive && (old.Status != StatusActive || d.Threshold != old.Threshold) {
					t.queueRelevel(d.System) // the ladder changed: its users move
				}
				return d, nil
			},
		},
		seq: func(l *Level) uint64 { return l.seq },
		create: func(t *txn, l Level) (Level, error) {
			if l.System != "" && l.System != system {
				return Level{}, gamifytype.Invalid("Level.System", l.System, "must be empty or "+system)
			}
			l.System = system
			return t.createLevel(l)
		},
		// store writes a status change (Deactivate, Delete): the level
		// left the ladder, so its users move (relevelChunk), as they do
		// when replace activates a level or moves its threshold.
		store: func(t *txn, l *Level) {
			t.putLevel(l)
			t.queueRelevel(l.System)
		},
		mark: func(l *Level, s Status, at time.Time) { l.Status, l.Updated = s, at },
	}
}

// systemExists reports ErrNotFound for a system that was never created.
func (a LevelsAPI) systemExists() error {
	if _, ok := a.e.cat.Load().points.systems[a.system]; !ok {
		return fmt.Errorf("points system %s: %w", gamifytype.Quote(a.system), ErrNotFound)
	}
	return nil
}

// systemKnown is ErrNotFound, a ValidationError naming field, for a
// filter's system that was never created; an empty one filters nothing.
// An archived system still has its definitions to list.
func systemKnown(e *Engine, field, system string) error {
	if _, ok := e.cat.Load().points.systems[system]; system != "" && !ok {
		return gamifytype.NotFound(field, system, "points system")
	}
	return nil
}

// Create defines a level of the system (which must not be archived); its
// System may be left empty. A key in use in the system, even by an
// archived level, is ErrConflict.
func (a LevelsAPI) Create(ctx context.Context, l Level) (Level, error) {
	return a.kind().createOne(ctx, a.e, l, l.Key)
}

// Get returns the level with key, archived or not, or ErrNotFound.
func (a LevelsAPI) Get(ctx context.Context, key string) (Level, error) {
	return a.kind().get(a.e, key)
}

// List returns the system's levels in creation order (sort by Order to
// display them), inactive ones included and archived ones when asked; a
// system that does not exist is ErrNotFound.
func (a LevelsAPI) List(ctx context.Context, opts ListOptions) ([]Level, error) {
	if err := a.systemExists(); err != nil {
		return nil, err
	}
	return a.kind().list(a.e, opts, nil)
}

// Patch changes a level: edit gets a copy of it and sets the fields to
// change; the others are kept. Key, Status, Created and Updated are the
// engine's and System is immutable (a change to one is a ValidationError).
// edit may run more than once and must only edit its argument.
func (a LevelsAPI) Patch(ctx context.Context, key string, edit func(*Level)) (Level, error) {
	return a.kind().patchOne(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 levels in one commit, reporting
// failures per item; it returns the levels it changed.
func (a LevelsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Level)) ([]Level, []Issue, error) {
	return a.kind().bulkPatch(ctx, a.e, keys, edit)
}

// Activate puts an inactive level back in the ladder (its threshold must
// be free). Activating an active level changes nothing.
func (a LevelsAPI) Activate(ctx context.Context, key string) (Level, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate takes a level out of the ladder and queues the move of its
// users (see LevelsAPI).
// Deactivating an inactive level changes nothing.
func (a LevelsAPI) Deactivate(ctx context.Context, key string) (Level, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusInactive)
}

// Delete archives a level: it leaves the ladder as Deactivate does (its
// users move, see LevelsAPI) and is hidden from lists; its key is never
// reused in the system, and its number is free for another level.
func (a LevelsAPI) Delete(ctx context.Context, key string) error {
	return a.kind().delete(ctx, a.e, key)
}

// BulkCreate creates up to 100 levels of the system in one commit. Items
// that fail are reported as issues and skipped; the others are created.
func (a LevelsAPI) BulkCreate(ctx context.Context, ls []Level) ([]Level, []Issue, error) {
	return a.kind().bulkCreate(ctx, a.e, "Levels", ls, func(l Level) string { return l.Key })
}

// BulkDelete archives up to 100 levels of the system in one commit,
// reporting failures per item.
func (a LevelsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return a.kind().bulkDelete(ctx, a.e, keys)
}

// Level is a tier of a points system: a user is at the active level with the
// highest Threshold not above their total. Levels are keyed within their
// system.
type Level struct {
	System string // the points system, set by the engine
	Key    string // immutable, unique in the system
	// Level is the level's number as users see it ("level 3"): 1 or more,
	// unique among the system's levels that are not archived.
	Level int
	// Order places the level in displays (lowest first); ties keep creation order.
	Order       int
	Name        string   // required
	Description string   `json:",omitempty"`
	ImageURL    string   `json:",omitempty"`
	Color       string   `json:",omitempty"`
	Benefits    []string `json:",omitempty"` // up to 100 labels, none empty
	Threshold   Amount   // the total that reaches the level; unique among the active levels
	// Multiplier, when not 0, multiplies the positive awards of users at this
	// level like a permanent boost; it is in (0, 100).
	Multiplier Amount `json:",omitzero"`
	// Status is active (the default), inactive or archived. An inactive
	// level is not part of the ladder: nobody reaches it, and users at it
	// move to the level of their total (LevelsAPI says when).
	Status  Status
	Created time.Time
	Updated time.Time

	seq uint64
}

// UnmarshalJSON reads a Level, also one stored or logged before Color had
// its name ("Colour").
func (l *Level) UnmarshalJSON(b []byte) error {
	type plain Level // without this method
	var v struct {
		plain
		Colour string
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = Level(v.plain)
	l.Color = cmp.Or(l.Color, v.Colour)
	return nil
}

// oldKeys maps the JSON keys of a Level renamed since to the names they
// had: a patch digest is taken over the JSON with them (see digest).
func (*Level) oldKeys() map[string]string { return map[string]string{"Color": "Colour"} }

func (l *Level) domain() points.Level {
	return points.Level{Key: l.Key, Name: l.Name, Description: l.Description, ImageURL: l.ImageURL, Color: l.Color,
		Benefits: l.Benefits, Threshold: l.Threshold, Multiplier: l.Multiplier}
}

// Validate reports every bad field of a level to create, joined. Whether
// its system exists and its threshold is free on the ladder is checked by
// Create.
func (l *Level) Validate() error { return l.validate() }

func (l *Level) validate() error {
	var errs []error
	if l.Level < 1 {
		errs = append(errs, gamifytype.Invalid("Level.Level", l.Level, "must be 1 or more"))
	}
	d := l.domain()
	return errors.Join(append(errs, d.Validate())...)
}

// Relevelling: a level that leaves the ladder (Deactivate, Delete) still
// has users at it, or pinned to it. The move is a pending job per system,
// persisted in the Jobs keyspace with a cursor and run through the
// backdating queue (achievements.go) in chunks of backdateChunk users, so
// that a million users never hold the writer for long and a crash resumes
// where it stopped. The job compares each user with the ladder of the
// moment it runs, so queueing it again (another level leaves) restarts it
// from the first user, and a level activated again meanwhile keeps its
// users.

const relevelPrefix = "relevel/" // + system key: the job key and its pending name

func (t *txn) queueRelevel(system string) {
	job := relevelPrefix + system
	if !slices.Contains(t.backdates, job) {
		t.backdates = append(t.backdates, job)
	}
	t.writes = append(t.writes, write{store.Jobs, []byte(job), binary.BigEndian.AppendUint64(nil, 0)})
}

// relevelChunk moves the next users after the system's cursor whose level
// is not the one the ladder gives them (points.Relevel); when fewer than a
// chunk remain it removes the pending record.
func (t *txn) relevelChunk(system string) (int, error) {
	w := t.w
	job := []byte(relevelPrefix + system)
	uids, ids, err := w.chunkAfter(job)
	if err != nil {
		return 0, err
	}
	sys := w.cat.points.systems[system]
	if sys != nil && sys.Status != StatusArchived {
		ladder := w.cat.points.ladders[system]
		var gone []points.Level // for the direction of a move
		for _, l := range w.cat.points.levels {
			if l.System == system && l.Status != StatusActive {
				gone = append(gone, l.domain())
			}
		}
		for _, id := range ids {
			// Look before loading for write: only users who move are
			// copied and rewritten.
			base, err := w.loadUser(id)
			if err != nil {
				return 0, err
			}
			if base == nil {
				continue
			}
			i, ok := base.s.pointsOf(sys.ref)
			if !ok {
				continue
			}
			if _, fx := points.Relevel(ladder, gone, base.s.Points[i].St); fx.Level == nil {
				continue
			}
			u, err := t.user(id, false)
			if err != nil {
				return 0, err
			}
			ns, fx := points.Relevel(ladder, gone, u.s.Points[i].St)
			u.s.Points[i].St = ns
			if err := t.recordPoints(u, sys, fx, ""); err != nil {
				return 0, err
			}
		}
	}
	t.advanceCursor(job, uids)
	return len(uids), nil
}
