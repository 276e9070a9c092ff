package gamify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// League ranks the users of a leaderboard's runs in cohorts, tier by tier:
// a user becomes active in a run with their first counted change on the
// board in it and joins the next cohort of their tier with room; at the
// run's end the top Promote of each cohort move up a tier, the bottom
// Demote move down, the rest (and users not active in the run) keep theirs.
// The board supplies what is ranked (a metric, a points system or a
// streak), the run schedule and its time zone.
type League struct {
	Key         string // immutable, [A-Za-z0-9_-]{1,64}
	Name        string // display name, required
	Description string // optional
	// Board is the leaderboard ranked, required and immutable: a board
	// with runs (RunUnit/RunEvery or RunCron), without MaxParticipants or
	// Breakdown.
	Board string
	// Tiers names the tiers, lowest first (2 to 20, distinct). New users
	// start in the first. Names may be patched; their number may not.
	Tiers []string
	// CohortSize is the largest cohort, 2 to 1000.
	CohortSize int
	// Promote and Demote are how many of each cohort move up and down a
	// tier at a run's end; together at most CohortSize.
	Promote, Demote int
	Status          Status // active (the default), inactive or archived
	Created         time.Time
	Updated         time.Time

	ref uint32
}

type storedLeague struct {
	League
	Ref uint32 `json:"ref"`
}

// Bounds of a league definition.
const (
	maxLeagueTiers  = 20
	maxCohortSize   = 1000
	defLeague       = "league/"
	leagueFieldName = "League"
)

// Validate reports every bad field of a league to create.
func (l *League) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("League.Key", l.Key); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateName(leagueFieldName, l.Name),
		gamifytype.CheckText("League.Description", l.Description, gamifytype.MaxTextLen))
	if err := gamifytype.ValidateKey("League.Board", l.Board); err != nil {
		errs = append(errs, err)
	}
	if n := len(l.Tiers); n < 2 || n > maxLeagueTiers {
		errs = append(errs, gamifytype.Invalid("League.Tiers", n, "must hold 2 to 20 tiers"))
	}
	seen := map[string]bool{}
	for i, name := range l.Tiers {
		field := fmt.Sprintf("League.Tiers[%d]", i)
		switch {
		case name == "":
			errs = append(errs, gamifytype.Invalid(field, name, "must not be empty"))
		case seen[name]:
			errs = append(errs, gamifytype.Invalid(field, name, "is given twice"))
		default:
			errs = append(errs, gamifytype.CheckText(field, name, gamifytype.MaxNameLen))
		}
		seen[name] = true
	}
	if l.CohortSize < 2 || l.CohortSize > maxCohortSize {
		errs = append(errs, gamifytype.Invalid("League.CohortSize", l.CohortSize, "must be between 2 and 1000"))
	}
	if l.Promote < 0 {
		errs = append(errs, gamifytype.Invalid("League.Promote", l.Promote, "must not be negative"))
	}
	if l.Demote < 0 {
		errs = append(errs, gamifytype.Invalid("League.Demote", l.Demote, "must not be negative"))
	}
	if l.Promote >= 0 && l.Demote >= 0 && l.CohortSize >= 2 && l.Promote+l.Demote > l.CohortSize {
		errs = append(errs, gamifytype.Invalid("League.Demote", l.Demote, "with Promote must not exceed CohortSize"))
	}
	return errors.Join(errs...)
}

// LeaguesAPI administers leagues and reads their standings. Get it from
// Engine.Leagues.
type LeaguesAPI struct{ e *Engine }

// Leagues returns the league API.
func (e *Engine) Leagues() LeaguesAPI { return LeaguesAPI{e} }

// Create defines a new league over an existing board (see League.Board).
// A key in use, even by an archived league, is ErrConflict; a bad field is
// a ValidationError naming it.
func (a LeaguesAPI) Create(ctx context.Context, l League) (League, error) {
	if err := l.Validate(); err != nil {
		return League{}, err
	}
	c, err := createDef(ctx, a.e, leagues, l)
	if err != nil {
		return League{}, fmt.Errorf("create league %s: %w", l.Key, err)
	}
	return c, nil
}

// checkLeagueBoard checks that the board a league names can carry one.
func checkLeagueBoard(cat *catalog, key string) (*Leaderboard, error) {
	b, ok := cat.boards[key]
	switch {
	case !ok || b.Status == StatusArchived:
		return nil, gamifytype.Invalid("League.Board", key, "names no leaderboard")
	case b.runs == nil:
		return nil, gamifytype.Invalid("League.Board", key, "must have runs (RunUnit/RunEvery or RunCron)")
	case b.MaxParticipants > 0:
		return nil, gamifytype.Invalid("League.Board", key, "must not limit MaxParticipants")
	case len(b.Breakdown) > 0:
		return nil, gamifytype.Invalid("League.Board", key, "must have no Breakdown")
	}
	return b, nil
}

// leagueBoardKept refuses an edit of a board that a league ranks by which
// would make it unfit for one (see League.Board).
func leagueBoardKept(cat *catalog, b *Leaderboard) error {
	for _, l := range cat.leagues {
		if l.Board != b.Key || l.Status == StatusArchived {
			continue
		}
		switch {
		case b.MaxParticipants > 0:
			return gamifytype.Invalid("Leaderboard.MaxParticipants", b.MaxParticipants, "must stay 0: league "+l.Key+" ranks this board")
		case len(b.Breakdown) > 0:
			return gamifytype.Invalid("Leaderboard.Breakdown", b.Breakdown, "must stay empty: league "+l.Key+" ranks this board")
		case b.runs == nil:
			return gamifytype.Invalid("Leaderboard.RunUnit", b.RunUnit, "must keep runs: league "+l.Key+" ranks this board")
		}
	}
	return nil
}

func (t *txn) createLeague(l League) (League, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.leagues[l.Key]; ok {
		return League{}, fmt.Errorf("%w: league %s exists", ErrConflict, l.Key)
	}
	if _, err := checkLeagueBoard(cat, l.Board); err != nil {
		return League{}, err
	}
	switch l.Status {
	case "":
		l.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return League{}, gamifytype.Invalid("League.Status", l.Status, "must be active (the default) or inactive")
	}
	l.Tiers = slices.Clone(l.Tiers)
	l.Created, l.Updated = stamp(t.now), stamp(t.now)
	cat.lastLeagueRef++
	l.ref = cat.lastLeagueRef
	t.putLeague(&l)
	return l, nil
}

func (t *txn) putLeague(l *League) {
	cat := t.catalogForWrite()
	cat.leagues[l.Key] = l
	cat.indexLeagues()
	t.putJSON(store.Definitions, []byte(defLeague+l.Key), storedLeague{League: *l, Ref: l.ref})
}

// indexLeagues derives the active leagues of each board, by league ref.
func (c *catalog) indexLeagues() {
	by := map[uint32][]*League{}
	for _, l := range c.leagues {
		if b, ok := c.boards[l.Board]; ok && l.Status == StatusActive {
			by[b.ref] = append(by[b.ref], l)
		}
	}
	for _, ls := range by {
		slices.SortFunc(ls, func(x, y *League) int { return cmp.Compare(x.ref, y.ref) })
	}
	c.boardLeagues = by
}

// loadLeague decodes and checks one stored league and adds it to c.
func loadLeague(c *catalog, key string, v []byte) error {
	var sl storedLeague
	if err := json.Unmarshal(v, &sl); err != nil {
		return err
	}
	l := sl.League
	if err := storedDef(key, defLeague+l.Key, l.Status, sl.Ref, c.leagueByRef(), l.Validate()); err != nil {
		return err
	}
	l.ref = sl.Ref
	c.leagues[l.Key] = &l
	c.lastLeagueRef = max(c.lastLeagueRef, l.ref)
	return nil
}

// leagueByRef indexes the leagues loaded so far (for the ref check of a
// load).
func (c *catalog) leagueByRef() map[uint32]*League {
	m := make(map[uint32]*League, len(c.leagues))
	for _, l := range c.leagues {
		m[l.ref] = l
	}
	return m
}

// Get returns the league with key, archived or not, or ErrNotFound.
func (a LeaguesAPI) Get(ctx context.Context, key string) (League, error) {
	l, err := getDef(a.e, "league", key, func(c *catalog) map[string]*League { return c.leagues })
	l.Tiers = slices.Clone(l.Tiers)
	return l, err
}

// List returns leagues in creation order.
func (a LeaguesAPI) List(ctx context.Context, opts ListOptions) ([]League, error) {
	ls, err := listDefs(a.e, opts, func(c *catalog) map[string]*League { return c.leagues },
		func(l *League) bool { return l.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *League) int { return cmp.Compare(x.ref, y.ref) })
	for i := range ls {
		ls[i].Tiers = slices.Clone(ls[i].Tiers)
	}
	return ls, err
}

// leagues describes leagues for the shared admin verbs.
var leagues = resource[League]{
	what: "league", field: leagueFieldName, kind: "league", check: (*League).Validate,
	defs: func(c *catalog) map[string]*League { return c.leagues },
	clone: func(l League) League {
		l.Tiers = slices.Clone(l.Tiers)
		return l
	},
	owned: func(l *League) owned { return owned{l.Key, l.Status, l.Created, l.Updated, nil} },
	replace: func(t *txn, old *League, l League) (League, error) {
		if err := l.Validate(); err != nil {
			return League{}, err
		}
		// Stored tiers and cohorts refer to the board's runs and to tiers
		// by position: neither can change under them.
		if l.Board != old.Board {
			return League{}, gamifytype.Invalid("League.Board", l.Board, "is immutable")
		}
		if len(l.Tiers) != len(old.Tiers) {
			return League{}, gamifytype.Invalid("League.Tiers", len(l.Tiers), "must keep the number of tiers")
		}
		l.ref, l.Updated = old.ref, stamp(t.now)
		t.putLeague(&l)
		return l, nil
	},
}

// Patch changes a league: edit gets a copy of the stored league and sets
// the fields to change; the others are kept. Key, Status, Created and
// Updated are the engine's, Board and the number of Tiers are immutable (a
// change to one is a ValidationError). A change of CohortSize, Promote or
// Demote applies from the next rollover; cohorts already filled keep their
// members. edit may run more than once, so it must only edit its argument.
func (a LeaguesAPI) Patch(ctx context.Context, key string, edit func(*League)) (League, error) {
	return leagues.patch(ctx, a.e, key, edit)
}

// Activate makes an inactive league assign cohorts and roll over again.
// Activating an active league changes nothing.
func (a LeaguesAPI) Activate(ctx context.Context, key string) (League, error) {
	return leagues.setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate pauses a league: no cohorts are filled and no rollover moves a
// tier until it is activated again; tiers and history are kept. The
// cohorts of the current run are dropped at its end without results.
func (a LeaguesAPI) Deactivate(ctx context.Context, key string) (League, error) {
	return leagues.setStatus(ctx, a.e, key, StatusInactive)
}

func setLeagueStatus(l *League, s Status, now time.Time) { l.Status, l.Updated = s, now }

// Delete archives a league: it disappears from lists and stops; tiers and
// history are kept and the key is never reused.
func (a LeaguesAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, leagues, key); err != nil {
		return fmt.Errorf("delete league %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

var _ = registerKind("league", kindOps[League]{
	of:     func(string) resource[League] { return leagues },
	create: checkedCreate((*League).Validate, (*txn).createLeague),
	status: func(t *txn, _, key string, to Status) (League, error) {
		return leagues.restatus(t, key, to, setLeagueStatus, (*txn).putLeague)
	},
	archive: func(t *txn, _, key string) error {
		_, err := leagues.restatus(t, key, StatusArchived, setLeagueStatus, (*txn).putLeague)
		return err
	},
})

// BulkCreate creates up to 100 leagues in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a LeaguesAPI) BulkCreate(ctx context.Context, ls []League) ([]League, []Issue, error) {
	return bulkCreate(ctx, a.e, leagues, "Leagues", ls, func(l *League) string { return l.Key })
}

// BulkPatch runs edit on up to 100 leagues in one commit (as Patch does for
// one), reporting failures per item; it returns the leagues it changed.
func (a LeaguesAPI) BulkPatch(ctx context.Context, keys []string, edit func(*League)) ([]League, []Issue, error) {
	return leagues.bulkPatch(ctx, a.e, keys, edit)
}

// BulkDelete archives up to 100 leagues in one commit, reporting failures per item.
func (a LeaguesAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return bulkDelete(ctx, a.e, leagues, keys)
}
