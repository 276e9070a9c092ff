package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gamifykit/gamify"
)

// stdin is what "--in -" reads (a test replaces it).
var stdin io.Reader = os.Stdin

// importChunk is the most events one TrackBatch applies.
const importChunk = 1000

// importMaxEventAge lets an import replay events of any age the engine
// keeps (Options.MaxEventAge guards live traffic, not a restore).
const importMaxEventAge = 100 * 365 * 24 * time.Hour

// maxLine is the longest line import reads.
const maxLine = 16 << 20

// importSummary is what "gamify import --json" prints.
type importSummary struct {
	In    string `json:"in"`
	Lines int    `json:"lines"`
	// Applied counts what changed the database, by kind; Unchanged what was
	// there already (an equal definition or user, an event or other entry
	// whose idempotency key had been used): a second run of the same import
	// applies nothing.
	Applied   map[string]int `json:"applied"`
	Unchanged int            `json:"unchanged"`
	// Skipped counts ledger lines of a definition that the file and the
	// database both have inactive or archived: applied by the run that
	// gave it that status; and participations of a challenge the database
	// has archived.
	Skipped      int     `json:"skipped"`
	Seconds      float64 `json:"seconds"`
	Rate         float64 `json:"lines_per_second"`
	EventsPerSec float64 `json:"events_per_second"`
}

// lineError is a bad line: its number and why.
type lineError struct {
	n   int
	err error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.n, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// pendingStatus is a status a definition or user (kind "user": inactive)
// gets once every line is in.
type pendingStatus struct {
	line      int
	kind, key string
	status    gamify.Status
}

type importer struct {
	ctx context.Context
	eng *gamify.Engine
	sum importSummary
	n   int // the line being applied

	chunk      []gamify.Event
	chunkLines []int

	statuses []pendingStatus
	final    map[string]gamify.Status // "kind/key" → the status the file gives it
	target   map[string]gamify.Status // "kind/key" → the database's status as the ledger lines began
	// systems this run created, and whether one created inactive was opened
	// for its awards, spends and pins (see openSystem)
	createdSystems map[string]bool
	events         int
	header         bool
	end            bool
	seen           map[string]int // lines read, by kind, for the end line's counts
}

func importDB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("import", stderr)
	db := fs.String("db", "", "the database `FILE` (created if missing)")
	tenant := fs.String("tenant", "", "import into this tenant (`KEY`), which must exist")
	in := fs.String("in", "-", "the export to read (`FILE`; - for stdin)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	forced := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	if *db == "" {
		fmt.Fprintln(stderr, "gamify: --db FILE is required")
		return exitUsage
	}
	var r io.Reader = stdin
	var total int64
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return failed(stderr, err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			total = fi.Size()
		}
		r = f
	}
	// A run that fails before applying anything leaves no db it created.
	_, statErr := os.Stat(*db)
	created := errors.Is(statErr, os.ErrNotExist)
	removeCreated := func() {
		if created {
			for _, p := range []string{*db, *db + ".log", *db + ".tenants"} {
				os.RemoveAll(p)
			}
		}
	}
	root, code := openDB(*db, &gamify.Options{Durability: gamify.Buffered, MaxEventAge: importMaxEventAge, LockTimeout: 2 * time.Second, Clock: cmdClock}, stderr)
	if root == nil {
		return code
	}
	defer root.Close()
	eng := root
	if *tenant != "" {
		// The tenant's file is the engine's to create (beside the db, in
		// DB.tenants/); one this run created goes the way of a new db.
		tdb := filepath.Join(*db+".tenants", *tenant+".db")
		_, statErr := os.Stat(tdb)
		var err error
		if eng, err = root.Tenant(*tenant); err != nil {
			root.Close()
			removeCreated()
			return failed(stderr, err)
		}
		// Only now, with the key known to be a tenant's, is tdb a path the
		// run may remove.
		if errors.Is(statErr, os.ErrNotExist) && !created {
			prev := removeCreated
			removeCreated = func() {
				prev()
				os.RemoveAll(tdb)
				os.RemoveAll(tdb + ".log")
			}
		}
	}
	start := time.Now()
	prog := newProgress(stderr, progressOn(stderr, *forced, *asJSON), "import", "lines", total).tick()
	im := &importer{ctx: ctx, eng: eng, final: map[string]gamify.Status{}}
	im.sum.In, im.sum.Applied = *in, map[string]int{}
	err := im.read(countingReader{r, prog}, prog)
	if err == nil {
		// Buffered: nothing is reported done before it is on disk.
		err = eng.Flush(ctx)
	}
	if cerr := root.Close(); err == nil && cerr != nil {
		err = cerr
	}
	prog.finish(err == nil)
	if err != nil {
		if len(im.sum.Applied) == 0 {
			removeCreated()
		}
		fmt.Fprintf(stderr, "gamify: import %s: %v\n", *in, err)
		return exitFailure // a bad line, or the file failed
	}
	el := time.Since(start)
	im.sum.Seconds = el.Seconds()
	im.sum.Rate = float64(im.sum.Lines) / el.Seconds()
	im.sum.EventsPerSec = float64(im.events) / el.Seconds()
	if *asJSON {
		return writeJSON(stdout, im.sum)
	}
	fmt.Fprintf(stdout, "imported %s into %s: %d lines in %v (%.0f events/s); applied %s; %d unchanged, %d skipped\n",
		*in, *db, im.sum.Lines, el.Round(time.Millisecond), im.sum.EventsPerSec, cmp.Or(countsText(im.sum.Applied), "nothing"), im.sum.Unchanged, im.sum.Skipped)
	return exitOK
}

// read applies the lines of r in order and stops at the first bad one.
func (im *importer) read(r io.Reader, prog *progress) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	for sc.Scan() {
		im.n++
		prog.add(1)
		if err := im.line(sc.Bytes()); err != nil {
			var le *lineError
			if errors.As(err, &le) {
				return err
			}
			return &lineError{im.n, err}
		}
		im.sum.Lines++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", im.n+1, err)
	}
	if err := im.flush(); err != nil {
		return err
	}
	switch {
	case !im.header:
		return errors.New("empty input: no header line")
	case !im.end:
		return fmt.Errorf("line %d: the export ends without its end line (truncated?); what came before is applied, statuses are not", im.n)
	}
	return nil
}

// decodeStrict decodes the one JSON value b into v, refusing a field v's
// type does not have.
func decodeStrict(b []byte, v any) error {
	if st := strictType(reflect.TypeOf(v).Elem()); st != nil {
		// v's type reads old field names with an UnmarshalJSON of its own,
		// which a strict decoder does not make strict: the fields are
		// checked on a copy of the type without it first.
		if err := decodeStrictly(b, reflect.New(st).Interface()); err != nil {
			return err
		}
	}
	return decodeStrictly(b, v)
}

func decodeStrictly(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// oldFieldNames are the fields of definitions renamed since, by type, under
// the names export files of earlier versions have them: the types read
// them with their UnmarshalJSON.
var oldFieldNames = map[reflect.Type][]reflect.StructField{
	reflect.TypeFor[gamify.Level]():              {{Name: "Colour", Type: reflect.TypeFor[string]()}},
	reflect.TypeFor[gamify.Challenge]():          {{Name: "Enrolment", Type: reflect.TypeFor[gamify.ChallengeEnrollment]()}},
	reflect.TypeFor[gamify.ChallengeObjective](): {{Name: "Filters", Type: reflect.TypeFor[map[string]string]()}},
}

var strictTypes sync.Map // reflect.Type → reflect.Type (nil: t itself)

// strictType is t with every type of oldFieldNames in it replaced by a
// struct of its exported fields and its old field names (so without its
// UnmarshalJSON), or nil when t holds none of them.
func strictType(t reflect.Type) reflect.Type {
	if st, ok := strictTypes.Load(t); ok {
		st, _ := st.(reflect.Type)
		return st
	}
	strictTypes.Store(t, nil) // while it is worked out: a type holding itself holds it unchanged
	var st reflect.Type
	switch t.Kind() {
	case reflect.Map:
		if e := strictType(t.Elem()); e != nil {
			st = reflect.MapOf(t.Key(), e)
		}
	case reflect.Slice:
		if e := strictType(t.Elem()); e != nil {
			st = reflect.SliceOf(e)
		}
	case reflect.Pointer:
		if e := strictType(t.Elem()); e != nil {
			st = reflect.PointerTo(e)
		}
	case reflect.Struct:
		old, changed := oldFieldNames[t]
		var fields []reflect.StructField
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if ft := strictType(f.Type); ft != nil {
				f.Type, changed = ft, true
			}
			f.Index, f.Offset = nil, 0
			fields = append(fields, f)
		}
		if changed {
			st = reflect.StructOf(append(fields, old...))
		}
	}
	strictTypes.Store(t, st)
	return st
}

func (im *importer) line(b []byte) error {
	var l line
	if err := decodeStrict(b, &l); err != nil {
		// Not an event line, so a chunk of its own: what came before it is
		// applied, as before a line of an unknown kind.
		if ferr := im.flush(); ferr != nil {
			return ferr
		}
		return fmt.Errorf("not an export line: %w", err)
	}
	if im.seen == nil {
		im.seen = map[string]int{}
	}
	im.seen[l.Kind]++
	if !im.header {
		if l.Kind != "header" || l.Format != exportFormat {
			return fmt.Errorf(`the first line must be {"kind":"header","format":%q,...}`, exportFormat)
		}
		if l.Version != exportVersion {
			return fmt.Errorf("format version %d: this gamify reads version %d", l.Version, exportVersion)
		}
		im.header = true
		return nil
	}
	if im.end {
		return errors.New("a line after the end line")
	}
	if l.Kind != "event" {
		if err := im.flush(); err != nil {
			return err
		}
	}
	switch l.Kind {
	case "event":
		return im.event(l)
	case "award", "spend", "claim", "completion", "pin":
		return im.entry(l)
	case "preferences":
		return im.preferences(l)
	case "league-results":
		return im.leagueResults(l)
	case "league-run":
		return im.leagueRun(l)
	case "challenges":
		return im.challenges(l)
	case "user":
		return im.user(l)
	case "milestones":
		return im.milestones(l)
	case "end":
		im.end = true
		if err := im.checkCounts(l.Counts); err != nil {
			return err
		}
		return im.applyStatuses()
	case "header":
		return errors.New("a second header line")
	}
	d, ok := defKinds[l.Kind]
	if !ok {
		return fmt.Errorf("unknown kind %q", l.Kind)
	}
	if im.target != nil {
		return fmt.Errorf("a %s definition after ledger lines", l.Kind)
	}
	if err := need(l, "data"); err != nil {
		return err
	}
	key, status, created, err := d.ensure(im.ctx, im.eng, l.Data)
	if err != nil {
		return err
	}
	im.count(l.Kind, created)
	im.final[l.Kind+"/"+key] = status
	if l.Kind == "points" && created {
		if im.createdSystems == nil {
			im.createdSystems = map[string]bool{}
		}
		im.createdSystems[key] = false
	}
	// A challenge is created inactive (the import's events must not drive
	// it: its participations and payouts have lines of their own) and
	// given its status at the end, active too; also when a run cut short
	// left it inactive. A trigger, boost, streak or board is created with
	// its status and intervals (withHistory): at the end, an inactive one
	// is so already, and only one stored before the run changes.
	held := l.Kind == "challenge"
	if held || (status != "" && status != gamify.StatusActive && status != gamify.StatusScheduled) {
		im.statuses = append(im.statuses, pendingStatus{line: im.n, kind: l.Kind, key: key, status: cmp.Or(status, gamify.StatusActive)})
	}
	return nil
}

func (im *importer) count(kind string, applied bool) {
	if applied {
		im.sum.Applied[kind]++
	} else {
		im.sum.Unchanged++
	}
}

func (im *importer) user(l line) error {
	if err := need(l, "data"); err != nil {
		return err
	}
	var u gamify.User
	if err := decodeStrict(l.Data, &u); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	users := im.eng.Users()
	in := gamify.UserInput{ID: u.ID, Name: u.Name, Email: u.Email, TZ: u.TZ, Attributes: u.Attributes,
		DeviceTokens: u.DeviceTokens, SubscribeToEmails: &u.SubscribeToEmails}
	got, err := users.Get(im.ctx, u.ID)
	switch {
	case errors.Is(err, gamify.ErrNotFound):
		if _, err := users.Create(im.ctx, in); err != nil {
			return err
		}
		im.count("user", true)
	case err != nil:
		return err
	default:
		want := u
		for _, x := range []*gamify.User{&got, &want} {
			x.Created, x.Updated, x.Active = time.Time{}, time.Time{}, false
		}
		if diff := differs(got, want); diff != "" {
			return fmt.Errorf("user %s exists and differs in %s", u.ID, diff)
		}
		im.count("user", false)
	}
	if !u.Active {
		im.statuses = append(im.statuses, pendingStatus{line: im.n, kind: "user", key: u.ID})
	}
	return nil
}

// milestones gives a streak its milestones, once the rewards and manual
// achievements they name exist.
func (im *importer) milestones(l line) error {
	if err := need(l, "streak", "data"); err != nil {
		return err
	}
	var ms []gamify.StreakMilestone
	if err := decodeStrict(l.Data, &ms); err != nil {
		return fmt.Errorf("milestones: %w", err)
	}
	got, err := im.eng.Streaks().Get(im.ctx, l.Streak)
	if err != nil {
		return err
	}
	switch {
	case reflect.DeepEqual(got.Milestones, ms):
		im.count("milestones", false)
		return nil
	case len(got.Milestones) > 0:
		return fmt.Errorf("streak %s exists with other milestones", l.Streak)
	}
	if _, err := im.eng.Streaks().Patch(im.ctx, l.Streak, func(s *gamify.Streak) { s.Milestones = ms }); err != nil {
		return err
	}
	im.count("milestones", true)
	return nil
}

// ledgerStart reads the database's status of what ledger lines name, once.
func (im *importer) ledgerStart() error {
	if im.target != nil {
		return nil
	}
	im.target = map[string]gamify.Status{}
	all := func(s int) gamify.ListOptions { return gamify.ListOptions{Limit: 100, Skip: s, IncludeArchived: true} }
	ms, err := pages(func(s int) ([]gamify.Metric, error) { return im.eng.Metrics().List(im.ctx, all(s)) })
	if err != nil {
		return err
	}
	for _, m := range ms {
		im.target["metric/"+m.Key] = m.Status
	}
	ps, err := pages(func(s int) ([]gamify.PointsSystem, error) { return im.eng.Points().List(im.ctx, all(s)) })
	if err != nil {
		return err
	}
	for _, p := range ps {
		im.target["points/"+p.Key] = p.Status
	}
	rs, err := pages(func(s int) ([]gamify.Reward, error) {
		return im.eng.Rewards().List(im.ctx, gamify.RewardListOptions{ListOptions: all(s)})
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		im.target["reward/"+r.Key] = r.Status
	}
	return nil
}

// settled reports a ledger line of a definition the file and the database
// both have inactive or archived: the run that gave it that status applied
// the line, which the engine would now refuse.
func (im *importer) settled(kind, key string) bool {
	if _, here := im.createdSystems[key]; here && kind == "points" {
		return false // created by this run, with its intervals: openSystem
	}
	st, ok := im.target[kind+"/"+key]
	f := im.final[kind+"/"+key]
	live := func(s gamify.Status) bool { return s == "" || s == gamify.StatusActive || s == gamify.StatusScheduled }
	return ok && !live(st) && !live(f)
}

// openSystem activates a points system this run created inactive before
// the first award, spend or pin of it: those were made while it was
// active, and the engine takes them only so. The intervals it was created
// with keep the import's events dated in them unpaid (the activation
// closes the open one at the import's time, before every event), and the
// end line deactivates it again.
func (im *importer) openSystem(key string) error {
	opened, here := im.createdSystems[key]
	if !here || opened {
		return nil
	}
	im.createdSystems[key] = true
	s, err := im.eng.Points().Get(im.ctx, key)
	if err != nil || s.Status != gamify.StatusInactive {
		return err
	}
	_, err = im.eng.Points().Activate(im.ctx, key)
	return err
}

func (im *importer) event(l line) error {
	if err := im.ledgerStart(); err != nil {
		return err
	}
	// An event without its time would be dated at the import.
	if err := need(l, "metric", "user", "amount", "time", "key"); err != nil {
		if len(im.chunk) > 0 {
			return fmt.Errorf("%w (lines %d to %d, a batch, are not applied)", err, im.chunkLines[0], im.n)
		}
		return err
	}
	im.events++
	if im.settled("metric", l.Metric) {
		im.sum.Skipped++
		return nil
	}
	im.chunk = append(im.chunk, gamify.Event{Metric: l.Metric, User: l.User, Amount: *l.Amount, Time: l.Time, IdempotencyKey: l.Key})
	im.chunkLines = append(im.chunkLines, im.n)
	if len(im.chunk) == importChunk {
		return im.flush()
	}
	return nil
}

var eventIndex = regexp.MustCompile(`Events\[(\d+)\]`)

// flush applies the pending events in one TrackBatch: all or none of them.
func (im *importer) flush() error {
	if len(im.chunk) == 0 {
		return nil
	}
	res, err := im.eng.TrackBatch(im.ctx, im.chunk)
	if err != nil {
		n := im.chunkLines[0]
		if m := eventIndex.FindStringSubmatch(err.Error()); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(im.chunkLines) {
				n = im.chunkLines[i]
			}
		}
		return &lineError{n, fmt.Errorf("%w (lines %d to %d, a batch, are not applied)", err, im.chunkLines[0], im.chunkLines[len(im.chunkLines)-1])}
	}
	for _, r := range res {
		im.count("event", !r.IdempotentReplayed)
	}
	im.chunk, im.chunkLines = im.chunk[:0], im.chunkLines[:0]
	return nil
}

// entry applies an award, spend, claim or manual completion.
func (im *importer) entry(l line) error {
	if err := im.ledgerStart(); err != nil {
		return err
	}
	ctx := im.ctx
	switch l.Kind {
	case "award", "spend":
		if err := need(l, "system", "user", "amount", "key"); err != nil {
			return err
		}
		if im.settled("points", l.System) {
			im.sum.Skipped++
			return nil
		}
		if err := im.openSystem(l.System); err != nil {
			return err
		}
		p := gamify.PointsEntry{System: l.System, User: l.User, Amount: *l.Amount, IdempotencyKey: l.Key, Reason: l.Reason}
		op := im.eng.Points().Award
		if l.Kind == "spend" {
			op = im.eng.Points().Spend
		}
		r, err := op(ctx, p)
		if err != nil {
			return err
		}
		im.count(l.Kind, !r.IdempotentReplayed)
	case "claim":
		if err := need(l, "reward", "user", "key"); err != nil {
			return err
		}
		if im.settled("reward", l.Reward) {
			im.sum.Skipped++
			return nil
		}
		if l.Payout != "" || l.Challenge != "" {
			return im.payoutClaim(l)
		}
		c, err := im.eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: l.Reward, User: l.User, IdempotencyKey: l.Key})
		if err != nil {
			return err
		}
		im.count("claim", !c.IdempotentReplayed)
	case "completion":
		if err := need(l, "achievement", "user"); err != nil {
			return err
		}
		// A held achievement is done, even if it is locked or inactive now.
		held, err := im.eng.Achievements().User(ctx, l.User, false)
		if err != nil && !errors.Is(err, gamify.ErrNotFound) {
			return err
		}
		if slices.ContainsFunc(held, func(a gamify.UserAchievement) bool { return a.Key == l.Achievement && a.Completed }) {
			im.count("completion", false)
			return nil
		}
		if _, err := im.eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: l.Achievement, User: l.User}); err != nil {
			return err
		}
		im.count("completion", true)
	case "pin":
		if err := need(l, "system", "user", "level"); err != nil {
			return err
		}
		up, err := im.eng.Users().Points(ctx, l.User, l.System)
		if err != nil {
			return err
		}
		if up.Pinned && up.Level == l.Level {
			im.count("pin", false)
			return nil
		}
		if err := im.openSystem(l.System); err != nil {
			return err
		}
		if _, err := im.eng.Points().PinLevel(ctx, l.System, l.User, l.Level); err != nil {
			return err
		}
		im.count("pin", true)
	}
	return nil
}

// payoutClaim gives back a claim a challenge's payout made, after the
// participation that paid it (skipped, as the participation is, when the
// database has the challenge archived).
func (im *importer) payoutClaim(l line) error {
	if l.Challenge == "" || l.Payout == "" {
		return fmt.Errorf("a challenge payout's claim line needs challenge and payout; it has no %s", missing(l, "challenge", "payout"))
	}
	if c, err := im.eng.Challenges().Get(im.ctx, l.Challenge); err == nil && c.Status == gamify.StatusArchived {
		im.sum.Skipped++
		return nil
	}
	n, err := im.eng.Challenges().ImportClaim(im.ctx, l.Challenge, l.User, gamify.Claim{Reward: l.Reward, Payout: l.Payout, IdempotencyKey: l.Key})
	if err != nil {
		return err
	}
	im.count("claim", n > 0)
	return nil
}

// preferences sets a user's preferences to the line's.
func (im *importer) preferences(l line) error {
	if err := need(l, "user", "data"); err != nil {
		return err
	}
	var want gamify.Preferences
	if err := decodeStrict(l.Data, &want); err != nil {
		return fmt.Errorf("preferences: %w", err)
	}
	got, err := im.eng.Users().Preferences(im.ctx, l.User)
	if err != nil {
		return err
	}
	if reflect.DeepEqual(got, want) {
		im.count("preferences", false)
		return nil
	}
	if _, err := im.eng.Users().PatchPreferences(im.ctx, l.User, func(p *gamify.Preferences) { *p = want }); err != nil {
		return err
	}
	im.count("preferences", true)
	return nil
}

// leagueResults imports a user's league results (those held already are
// skipped).
func (im *importer) leagueResults(l line) error {
	if err := need(l, "league", "user", "data"); err != nil {
		return err
	}
	var rs []gamify.LeagueResult
	if err := decodeStrict(l.Data, &rs); err != nil {
		return fmt.Errorf("league-results: %w", err)
	}
	n, err := im.eng.Leagues().Import(im.ctx, l.League, l.User, rs)
	if err != nil {
		return err
	}
	im.count("league-results", n > 0)
	return nil
}

// leagueRun imports the cohorts of a league's run (places held already are
// skipped), unless the run has ended since the export.
func (im *importer) leagueRun(l line) error {
	if err := need(l, "league", "data"); err != nil {
		return err
	}
	var r gamify.LeagueRun
	if err := decodeStrict(l.Data, &r); err != nil {
		return fmt.Errorf("league-run: %w", err)
	}
	now := time.Now()
	if cmdClock != nil {
		now = cmdClock.Now()
	}
	if !r.RunEnd.IsZero() && !r.RunEnd.After(now) {
		im.sum.Skipped++ // over since the export: the events of its time make no cohort either
		return nil
	}
	n, err := im.eng.Leagues().ImportRun(im.ctx, l.League, r)
	if err != nil {
		return err
	}
	im.count("league-run", n > 0)
	return nil
}

// challenges imports a user's participations (one held already, the
// same, is unchanged).
func (im *importer) challenges(l line) error {
	if err := need(l, "user", "data"); err != nil {
		return err
	}
	var ps []gamify.ChallengeProgress
	if err := decodeStrict(l.Data, &ps); err != nil {
		return fmt.Errorf("challenges: %w", err)
	}
	applied := false
	for _, p := range ps {
		if c, err := im.eng.Challenges().Get(im.ctx, p.Challenge); err == nil && c.Status == gamify.StatusArchived {
			im.sum.Skipped++ // archived in the database since: its participations stay as they are
			continue
		}
		n, err := im.eng.Challenges().Import(im.ctx, p.Challenge, l.User, p)
		if err != nil {
			return err
		}
		applied = applied || n > 0
	}
	im.count("challenges", applied)
	return nil
}

// need refuses a line without one of fields, naming what it lacks.
func need(l line, fields ...string) error {
	if m := missing(l, fields...); m != "" {
		return fmt.Errorf("the %s line needs %s; it has no %s", l.Kind, strings.Join(fields, ", "), m)
	}
	return nil
}

// missing names the fields l leaves empty, of those given.
func missing(l line, fields ...string) string {
	var out []string
	for _, f := range fields {
		var empty bool
		switch f {
		case "user":
			empty = l.User == ""
		case "metric":
			empty = l.Metric == ""
		case "system":
			empty = l.System == ""
		case "reward":
			empty = l.Reward == ""
		case "league":
			empty = l.League == ""
		case "achievement":
			empty = l.Achievement == ""
		case "streak":
			empty = l.Streak == ""
		case "level":
			empty = l.Level == ""
		case "challenge":
			empty = l.Challenge == ""
		case "payout":
			empty = l.Payout == ""
		case "amount":
			empty = l.Amount == nil
		case "time":
			empty = l.Time.IsZero()
		case "key":
			empty = l.Key == ""
		case "data":
			empty = len(l.Data) == 0 || string(l.Data) == "null"
		default:
			panic("missing: unknown field " + f)
		}
		if empty {
			out = append(out, f)
		}
	}
	return strings.Join(out, ", ")
}

// checkCounts compares the end line's counts with the lines read: a
// mismatch means lines were lost or added (a hand-written end line may
// leave counts out).
func (im *importer) checkCounts(counts map[string]int) error {
	if counts == nil {
		return nil
	}
	var diff []string
	kinds := append([]string{"header"}, lineKinds...)
	kinds = append(kinds, "end")
	var other []string
	for k := range counts {
		if !slices.Contains(kinds, k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	kinds = append(kinds, other...)
	for _, k := range kinds {
		if counts[k] != im.seen[k] {
			diff = append(diff, fmt.Sprintf("%s: %d in the end line, %d read", k, counts[k], im.seen[k]))
		}
	}
	if len(diff) > 0 {
		return fmt.Errorf("the end line's counts differ from the lines read (%s): lines were lost or added; what came before is applied, statuses are not", strings.Join(diff, "; "))
	}
	return nil
}

// applyStatuses gives definitions and users the status the file gives
// them, once every line that needs them live is in.
func (im *importer) applyStatuses() error {
	for _, ps := range im.statuses {
		var err error
		if ps.kind == "user" {
			var u gamify.User
			if u, err = im.eng.Users().Get(im.ctx, ps.key); err == nil && u.Active {
				_, err = im.eng.Users().Deactivate(im.ctx, ps.key)
			}
		} else {
			err = defKinds[ps.kind].setStatus(im.ctx, im.eng, ps.key, ps.status)
		}
		if err != nil {
			return &lineError{ps.line, fmt.Errorf("set %s %s %s: %w", ps.kind, ps.key, cmp.Or(string(ps.status), "inactive"), err)}
		}
	}
	return nil
}

// defKind is how import applies one kind of definition.
type defKind struct {
	// ensure creates the definition in raw, or finds an equal one stored,
	// and returns its key (system/key for levels) and the status the file
	// gives it.
	ensure    func(ctx context.Context, e *gamify.Engine, raw json.RawMessage) (key string, status gamify.Status, created bool, err error)
	setStatus func(ctx context.Context, e *gamify.Engine, key string, st gamify.Status) error
}

// lifecycle is the status operations of a resource (nil where it has none).
type lifecycle[T any] struct {
	get                                     func(key string) (T, error)
	activate, deactivate, del, lock, finish func(key string) error
}

// admin builds the defKind of a resource from its API.
func admin[T any](keyOf func(*T) string, api func(ctx context.Context, e *gamify.Engine) (create func(T) (T, error), lc lifecycle[T])) defKind {
	return defKind{
		ensure: func(ctx context.Context, e *gamify.Engine, raw json.RawMessage) (string, gamify.Status, bool, error) {
			var want T
			if err := decodeStrict(raw, &want); err != nil {
				return "", "", false, err
			}
			line := want
			status := gamify.Status(reflect.ValueOf(&want).Elem().FieldByName("Status").String())
			clearLive(&want)
			key := keyOf(&want)
			create, lc := api(ctx, e)
			got, err := lc.get(key)
			if errors.Is(err, gamify.ErrNotFound) {
				_, err = create(withHistory(want, line))
				return key, status, err == nil, err
			}
			if err != nil {
				return key, status, false, err
			}
			clearLive(&got)
			if diff := differs(got, want); diff != "" {
				return key, status, false, fmt.Errorf("%s exists and differs in %s", key, diff)
			}
			return key, status, false, nil
		},
		setStatus: func(ctx context.Context, e *gamify.Engine, key string, st gamify.Status) error {
			_, lc := api(ctx, e)
			got, err := lc.get(key)
			if err != nil {
				return err
			}
			switch cur := gamify.Status(reflect.ValueOf(&got).Elem().FieldByName("Status").String()); {
			case cur == st:
				return nil
			case cur == gamify.StatusArchived && st == gamify.StatusActive:
				return nil // archived for good in the database: nothing to activate
			}
			op := map[gamify.Status]func(string) error{gamify.StatusActive: lc.activate, gamify.StatusInactive: lc.deactivate, gamify.StatusArchived: lc.del,
				gamify.StatusLocked: lc.lock, gamify.StatusFinished: lc.finish}[st]
			switch {
			case op == nil && st == gamify.StatusFinished:
				return nil // a boost past its window: derived, not given
			case op == nil:
				return fmt.Errorf("status %q cannot be given", st)
			}
			return op(key)
		},
	}
}

// withHistory is v, cleared by clearLive, with the intervals line (its
// definition as the file has it) was inactive, for the kinds that keep
// them, and the status to create it with: inactive while it is (its last
// interval open), else active; a status Create does not take (archived,
// finished) comes at the end line. So the import's events, and late ones
// after it, pay and count as in the source.
func withHistory[T any](v, line T) T {
	rv, lv := reflect.ValueOf(&v).Elem(), reflect.ValueOf(&line).Elem()
	f := rv.FieldByName("Inactive")
	if !f.IsValid() {
		return v
	}
	ivs := lv.FieldByName("Inactive").Interface().([]gamify.Interval)
	f.Set(reflect.ValueOf(ivs))
	st := gamify.Status("")
	if n := len(ivs); gamify.Status(lv.FieldByName("Status").String()) == gamify.StatusInactive || (n > 0 && ivs[n-1].To.IsZero()) {
		st = gamify.StatusInactive
	}
	rv.FieldByName("Status").SetString(string(st))
	return v
}

// clearLive zeroes what the engine sets itself (times, status, the
// intervals it was inactive) and what a points system's or streak's line
// leaves to lines of their own.
func clearLive(v any) {
	rv := reflect.ValueOf(v).Elem()
	for _, f := range []string{"Created", "Updated", "Status", "Inactive", "Levels", "Triggers", "Boosts", "Milestones"} {
		if f == "Milestones" && rv.Type() == reflect.TypeFor[gamify.Challenge]() {
			continue // a challenge's milestones are part of its line
		}
		if fv := rv.FieldByName(f); fv.IsValid() {
			fv.SetZero()
		}
	}
}

// differs names the JSON fields that want sets and stored does not hold
// the same ("" when none). A field want leaves empty (a missing, empty or
// zero value) matches whatever is stored, as Engine.Apply has it: the engine
// fills defaults in (a metric's UnitType), which a hand-written line leaves
// out.
func differs(stored, want any) string {
	fields := func(v any) map[string]string {
		raw, _ := json.Marshal(v)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(raw, &m)
		out := map[string]string{}
		for k, r := range m {
			switch s := string(r); s {
			case "null", "[]", "{}", `""`, "false", "0", `"0"`:
			default:
				out[k] = s
			}
		}
		return out
	}
	fs, fw := fields(stored), fields(want)
	var diff []string
	for k, v := range fw {
		if fs[k] != v {
			diff = append(diff, k)
		}
	}
	slices.Sort(diff)
	return strings.Join(diff, ", ")
}

// drop adapts an API call returning (T, error) to one returning error.
func drop[T any](f func(context.Context, string) (T, error), ctx context.Context) func(string) error {
	return func(key string) error { _, err := f(ctx, key); return err }
}

// get adapts a Get to the lifecycle's.
func get[T any](f func(context.Context, string) (T, error), ctx context.Context) func(string) (T, error) {
	return func(key string) (T, error) { return f(ctx, key) }
}

func del(f func(context.Context, string) error, ctx context.Context) func(string) error {
	return func(key string) error { return f(ctx, key) }
}

// splitLevel splits the key of a level's status, "system/key".
func splitLevel(key string) (system, level string) {
	system, level, _ = strings.Cut(key, "/")
	return system, level
}

var defKinds = map[string]defKind{
	"attribute": admin(func(a *gamify.Attribute) string { return a.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Attribute) (gamify.Attribute, error), lifecycle[gamify.Attribute]) {
		a := e.Attributes()
		return func(v gamify.Attribute) (gamify.Attribute, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Attribute]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"metric": admin(func(m *gamify.Metric) string { return m.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Metric) (gamify.Metric, error), lifecycle[gamify.Metric]) {
		a := e.Metrics()
		return func(v gamify.Metric) (gamify.Metric, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Metric]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"points": admin(func(s *gamify.PointsSystem) string { return s.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.PointsSystem) (gamify.PointsSystem, error), lifecycle[gamify.PointsSystem]) {
		a := e.Points()
		return func(v gamify.PointsSystem) (gamify.PointsSystem, error) { return a.Create(ctx, v) },
			lifecycle[gamify.PointsSystem]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"level": {
		ensure: func(ctx context.Context, e *gamify.Engine, raw json.RawMessage) (string, gamify.Status, bool, error) {
			var l gamify.Level
			if err := decodeStrict(raw, &l); err != nil {
				return "", "", false, err
			}
			key, st, created, err := levelKind(ctx, e, l.System).ensure(ctx, e, raw)
			return l.System + "/" + key, st, created, err
		},
		setStatus: func(ctx context.Context, e *gamify.Engine, key string, st gamify.Status) error {
			sys, lv := splitLevel(key)
			return levelKind(ctx, e, sys).setStatus(ctx, e, lv, st)
		},
	},
	"streak": admin(func(s *gamify.Streak) string { return s.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Streak) (gamify.Streak, error), lifecycle[gamify.Streak]) {
		a := e.Streaks()
		return func(v gamify.Streak) (gamify.Streak, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Streak]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"achievement": admin(func(d *gamify.Achievement) string { return d.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Achievement) (gamify.Achievement, error), lifecycle[gamify.Achievement]) {
		a := e.Achievements()
		return func(v gamify.Achievement) (gamify.Achievement, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Achievement]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx), lock: drop(a.Lock, ctx)}
	}),
	"trigger": admin(func(t *gamify.Trigger) string { return t.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Trigger) (gamify.Trigger, error), lifecycle[gamify.Trigger]) {
		a := e.Points().Triggers()
		return func(v gamify.Trigger) (gamify.Trigger, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Trigger]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"boost": admin(func(b *gamify.Boost) string { return b.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Boost) (gamify.Boost, error), lifecycle[gamify.Boost]) {
		a := e.Points().Boosts()
		return func(v gamify.Boost) (gamify.Boost, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Boost]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"leaderboard": admin(func(b *gamify.Leaderboard) string { return b.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Leaderboard) (gamify.Leaderboard, error), lifecycle[gamify.Leaderboard]) {
		a := e.Leaderboards()
		return func(v gamify.Leaderboard) (gamify.Leaderboard, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Leaderboard]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx), finish: drop(a.Finish, ctx)}
	}),
	"league": admin(func(l *gamify.League) string { return l.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.League) (gamify.League, error), lifecycle[gamify.League]) {
		a := e.Leagues()
		return func(v gamify.League) (gamify.League, error) { return a.Create(ctx, v) },
			lifecycle[gamify.League]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"challenge": admin(func(c *gamify.Challenge) string { return c.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Challenge) (gamify.Challenge, error), lifecycle[gamify.Challenge]) {
		a := e.Challenges()
		return func(v gamify.Challenge) (gamify.Challenge, error) {
				// Held: inactive since ever, whatever the source's intervals.
				v.Status, v.Inactive = gamify.StatusInactive, nil
				return a.Create(ctx, v)
			},
			lifecycle[gamify.Challenge]{get: get(a.Get, ctx), activate: drop(a.Activate, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"reward": admin(func(r *gamify.Reward) string { return r.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Reward) (gamify.Reward, error), lifecycle[gamify.Reward]) {
		a := e.Rewards()
		return func(v gamify.Reward) (gamify.Reward, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Reward]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
	"tenant": admin(func(t *gamify.Tenant) string { return t.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Tenant) (gamify.Tenant, error), lifecycle[gamify.Tenant]) {
		a := e.Tenants()
		return func(v gamify.Tenant) (gamify.Tenant, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Tenant]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	}),
}

// levelKind is the defKind of the levels of one points system.
func levelKind(ctx context.Context, e *gamify.Engine, system string) defKind {
	return admin(func(l *gamify.Level) string { return l.Key }, func(ctx context.Context, e *gamify.Engine) (func(gamify.Level) (gamify.Level, error), lifecycle[gamify.Level]) {
		a := e.Points().Levels(system)
		return func(v gamify.Level) (gamify.Level, error) { return a.Create(ctx, v) },
			lifecycle[gamify.Level]{get: get(a.Get, ctx), deactivate: drop(a.Deactivate, ctx), del: del(a.Delete, ctx)}
	})
}
