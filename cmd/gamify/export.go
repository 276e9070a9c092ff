package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
)

// exportFormat and exportVersion name the JSON Lines format of export and
// import (docs/cli.md).
const (
	exportFormat  = "gamify-export"
	exportVersion = 1
)

// line is one line of an export. Definitions and users carry the engine's
// own JSON in Data; ledger lines carry their fields flat, to keep a line of
// a million-event file short.
type line struct {
	Kind    string          `json:"kind"`
	Format  string          `json:"format,omitempty"`  // header
	Version int             `json:"version,omitempty"` // header
	Created *time.Time      `json:"created,omitempty"` // header: when the export was made
	Tenant  string          `json:"tenant,omitempty"`  // header: the tenant exported, "" for the root
	Counts  map[string]int  `json:"counts,omitempty"`  // end: the lines of each kind
	Data    json.RawMessage `json:"data,omitempty"`    // a definition or a user

	Seq         uint64         `json:"seq,omitempty"` // the source's ledger sequence
	User        string         `json:"user,omitempty"`
	Metric      string         `json:"metric,omitempty"`
	System      string         `json:"system,omitempty"`
	Reward      string         `json:"reward,omitempty"`
	League      string         `json:"league,omitempty"` // league-results: the league
	Achievement string         `json:"achievement,omitempty"`
	Streak      string         `json:"streak,omitempty"`    // milestones: the streak they belong to
	Level       string         `json:"level,omitempty"`     // pin: the level pinned
	Challenge   string         `json:"challenge,omitempty"` // claim: the challenge whose payout made it
	Payout      string         `json:"payout,omitempty"`    // claim: that payout (Claim.Payout)
	Amount      *gamify.Amount `json:"amount,omitempty"`
	Time        time.Time      `json:"time,omitzero"`
	Reason      string         `json:"reason,omitempty"`
	Key         string         `json:"key,omitempty"` // the idempotency key import uses
}

// derivedKey is the idempotency key of a ledger line that had none: stable
// across exports of the same file, so importing two exports of it is safe.
func derivedKey(seq uint64) string { return "gamify-export:" + strconv.FormatUint(seq, 10) }

// exportSummary is what "gamify export --json" prints.
type exportSummary struct {
	Out     string         `json:"out"`
	Lines   int            `json:"lines"`
	Counts  map[string]int `json:"counts"`
	Seconds float64        `json:"seconds"`
	Rate    float64        `json:"lines_per_second"`
}

type exporter struct {
	ctx    context.Context
	eng    *gamify.Engine
	w      *bufio.Writer
	enc    *json.Encoder
	counts map[string]int
	lines  int
	prog   *progress
}

func (x *exporter) put(l line) error {
	x.counts[l.Kind]++
	x.lines++
	x.prog.add(1)
	return x.enc.Encode(l)
}

func (x *exporter) def(kind string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return x.put(line{Kind: kind, Data: raw})
}

// pages calls list with skip = 0, 100, ... until a page is short.
func pages[T any](list func(skip int) ([]T, error)) ([]T, error) {
	var all []T
	for skip := 0; ; skip += 100 {
		page, err := list(skip)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 100 {
			return all, nil
		}
	}
}

func exportDB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", stderr)
	db := fs.String("db", "", "the database `FILE`")
	tenant := fs.String("tenant", "", "export this tenant's data (`KEY`)")
	out := fs.String("out", "-", "where to write the JSON Lines (`FILE`, must not exist; - for stdout)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	forced := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	root, eng, code := readOpen(*db, *tenant, stderr)
	if eng == nil {
		return code
	}
	defer root.Close()
	var w io.Writer = stdout
	var f *os.File
	if *out != "-" {
		var err error
		// O_EXCL: an export never replaces a file.
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return failed(stderr, err)
		}
		w = f
	}
	start := time.Now()
	x := &exporter{ctx: ctx, eng: eng, w: bufio.NewWriterSize(w, 1<<16), counts: map[string]int{}}
	x.enc = json.NewEncoder(x.w)
	x.prog = newProgress(stderr, progressOn(stderr, *forced, *asJSON), "export", "lines", 0)
	err := x.run(*tenant)
	if err == nil {
		err = x.w.Flush()
	}
	if f != nil {
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*out)
		}
	}
	x.prog.finish(err == nil)
	if err != nil {
		fmt.Fprintf(stderr, "gamify: export %s: %v\n", *db, err)
		return exitFailure
	}
	elapsed := time.Since(start)
	sum := exportSummary{Out: *out, Lines: x.lines, Counts: x.counts, Seconds: elapsed.Seconds(), Rate: float64(x.lines) / elapsed.Seconds()}
	// The summary must not mix with the export itself on stdout.
	sw := stdout
	if *out == "-" {
		sw = stderr
	}
	if *asJSON {
		return writeJSON(sw, sum)
	}
	fmt.Fprintf(sw, "exported %s to %s: %d lines (%s) in %v\n", *db, *out, x.lines, countsText(x.counts), elapsed.Round(time.Millisecond))
	return exitOK
}

// countsText prints counts in the order of the kinds in an export.
func countsText(counts map[string]int) string {
	var parts []string
	for _, k := range lineKinds {
		if n := counts[k]; n > 0 {
			if n > 1 && !strings.HasSuffix(k, "s") {
				k += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// lineKinds are the kinds of lines, in the order an export writes them
// (header and end aside): what a line needs comes before it.
var lineKinds = []string{"attribute", "metric", "points", "level", "streak", "achievement", "trigger", "boost",
	"leaderboard", "league", "reward", "milestones", "challenge", "tenant", "user", "preferences", "league-results",
	"challenges", "league-run", "event", "award", "spend", "claim", "completion", "pin"}

func (x *exporter) run(tenant string) error {
	ctx, eng := x.ctx, x.eng
	now := time.Now().UTC()
	if err := x.put(line{Kind: "header", Format: exportFormat, Version: exportVersion, Created: &now, Tenant: tenant}); err != nil {
		return err
	}
	all := gamify.ListOptions{Limit: 100, IncludeArchived: true}
	at := func(skip int) gamify.ListOptions { o := all; o.Skip = skip; return o }

	attrs, err := pages(func(s int) ([]gamify.Attribute, error) { return eng.Attributes().List(ctx, at(s)) })
	if err := defs(x, "attribute", attrs, err); err != nil {
		return err
	}
	metrics, err := pages(func(s int) ([]gamify.Metric, error) { return eng.Metrics().List(ctx, at(s)) })
	if err := defs(x, "metric", metrics, err); err != nil {
		return err
	}
	systems, err := pages(func(s int) ([]gamify.PointsSystem, error) { return eng.Points().List(ctx, at(s)) })
	if err != nil {
		return err
	}
	for _, s := range systems {
		s.Levels, s.Triggers, s.Boosts = nil, nil, nil // lines of their own
		if err := x.def("points", s); err != nil {
			return err
		}
	}
	for _, s := range systems {
		levels, err := pages(func(n int) ([]gamify.Level, error) { return eng.Points().Levels(s.Key).List(ctx, at(n)) })
		if err := defs(x, "level", levels, err); err != nil {
			return err
		}
	}
	streaks, err := pages(func(s int) ([]gamify.Streak, error) { return eng.Streaks().List(ctx, at(s)) })
	if err != nil {
		return err
	}
	for _, s := range streaks {
		// Milestones name rewards and manual achievements, which come
		// later: a "milestones" line after the rewards.
		s.Milestones = nil
		if err := x.def("streak", s); err != nil {
			return err
		}
	}
	achs, err := pages(func(s int) ([]gamify.Achievement, error) { return eng.Achievements().List(ctx, at(s)) })
	if err := defs(x, "achievement", achs, err); err != nil {
		return err
	}
	trigs, err := pages(func(s int) ([]gamify.Trigger, error) { return eng.Points().Triggers().List(ctx, at(s)) })
	if err := defs(x, "trigger", trigs, err); err != nil {
		return err
	}
	boosts, err := pages(func(s int) ([]gamify.Boost, error) { return eng.Points().Boosts().List(ctx, at(s)) })
	if err != nil {
		return err
	}
	rewards, err := pages(func(s int) ([]gamify.Reward, error) {
		return eng.Rewards().List(ctx, gamify.RewardListOptions{ListOptions: at(s)})
	})
	if err != nil {
		return err
	}
	for _, b := range boosts {
		if !claimBoost(b, rewards) {
			if err := x.def("boost", b); err != nil {
				return err
			}
		}
	}
	boards, err := pages(func(s int) ([]gamify.Leaderboard, error) {
		return eng.Leaderboards().List(ctx, gamify.BoardListOptions{ListOptions: at(s), IncludeInactive: true, IncludeFinished: true})
	})
	if err := defs(x, "leaderboard", boards, err); err != nil {
		return err
	}
	// Definitions; each user's results follow their user line.
	leagues, err := pages(func(s int) ([]gamify.League, error) { return eng.Leagues().List(ctx, at(s)) })
	if err := defs(x, "league", leagues, err); err != nil {
		return err
	}
	if err := defs(x, "reward", rewards, nil); err != nil {
		return err
	}
	for _, s := range streaks {
		if len(s.Milestones) > 0 {
			raw, err := json.Marshal(s.Milestones)
			if err != nil {
				return err
			}
			if err := x.put(line{Kind: "milestones", Streak: s.Key, Data: raw}); err != nil {
				return err
			}
		}
	}
	// After the rewards and achievements their payouts name; each user's
	// participations follow their user line.
	chals, err := pages(func(s int) ([]gamify.Challenge, error) { return eng.Challenges().List(ctx, at(s)) })
	if err := defs(x, "challenge", chals, err); err != nil {
		return err
	}
	if tenant == "" {
		tenants, err := pages(func(s int) ([]gamify.Tenant, error) { return eng.Tenants().List(ctx, at(s)) })
		if err := defs(x, "tenant", tenants, err); err != nil {
			return err
		}
	}
	manual := map[string]bool{}
	for _, a := range achs {
		manual[a.Key] = a.Kind == gamify.AchievementManual
	}
	var archived []string // challenges whose participations User leaves out
	for _, c := range chals {
		if c.Status == gamify.StatusArchived {
			archived = append(archived, c.Key)
		}
	}
	claims, after, err := x.users(manual, systems, leagues, archived)
	if err != nil {
		return err
	}
	// After every user and their results, before the events that count in
	// the cohorts.
	for _, l := range leagues {
		if err := x.leagueRuns(l); err != nil {
			return err
		}
	}
	if err := x.ledger(claims, rewards); err != nil {
		return err
	}
	for _, c := range after {
		if err := x.put(c); err != nil {
			return err
		}
	}
	// Not through put (its counts are the line's), but counted as put counts.
	x.counts["end"]++
	err = x.enc.Encode(line{Kind: "end", Counts: x.counts})
	x.lines++
	x.prog.add(1)
	return err
}

// claimBoost reports a per-user boost that a claim made: a points
// multiplier's ("claim-REWARD-SEQ") or a bundle's ("claim-REWARD-SEQ-I").
// The claim's line makes it again.
func claimBoost(b gamify.Boost, rewards []gamify.Reward) bool {
	if b.Scope != gamify.BoostUser {
		return false
	}
	for _, r := range rewards {
		if (r.Type == gamify.RewardPointsMultiplier || len(r.Grants.Boosts) > 0) && strings.HasPrefix(b.Key, "claim-"+r.Key+"-") {
			return true
		}
	}
	return false
}

func defs[T any](x *exporter, kind string, items []T, err error) error {
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := x.def(kind, it); err != nil {
			return err
		}
	}
	return nil
}

// users writes every user's profile and returns the claims to export and
// the manual achievements each holds.
func (x *exporter) users(manual map[string]bool, systems []gamify.PointsSystem, leagues []gamify.League, archived []string) (claims []gamify.Claim, after []line, err error) {
	ctx, users := x.ctx, x.eng.Users()
	var pins []line
	for page := 1; ; page++ {
		p, err := users.List(ctx, gamify.UserQuery{Page: page, PageSize: 100})
		if err != nil {
			return nil, nil, err
		}
		for _, row := range p.Rows {
			u, err := users.Get(ctx, row.ID)
			if err != nil {
				return nil, nil, err
			}
			if err := x.def("user", u); err != nil {
				return nil, nil, err
			}
			// Preferences before the events: a streak's personal minimum
			// decides what they extend.
			prefs, err := users.Preferences(ctx, u.ID)
			if err != nil {
				return nil, nil, err
			}
			if !reflect.DeepEqual(prefs, defaultPrefs) {
				raw, err := json.Marshal(prefs)
				if err != nil {
					return nil, nil, err
				}
				if err := x.put(line{Kind: "preferences", User: u.ID, Data: raw}); err != nil {
					return nil, nil, err
				}
			}
			// League results before the events too: the tier they give
			// decides the cohort an event of a run not over joins.
			for _, l := range leagues {
				if err := x.leagueResults(l, u.ID); err != nil {
					return nil, nil, err
				}
			}
			if err := x.challenges(u.ID, archived); err != nil {
				return nil, nil, err
			}
			for _, s := range systems {
				up, err := users.Points(ctx, u.ID, s.Key)
				if err != nil {
					return nil, nil, err
				}
				if up.Pinned {
					pins = append(pins, line{Kind: "pin", User: u.ID, System: s.Key, Level: up.Level})
				}
			}
			cs, err := users.Claims(ctx, u.ID)
			if err != nil {
				return nil, nil, err
			}
			for _, c := range cs {
				if exportedClaim(c) {
					claims = append(claims, c)
				}
			}
			held, err := x.eng.Achievements().User(ctx, u.ID, false)
			if err != nil {
				return nil, nil, err
			}
			for _, a := range held {
				if a.Completed && manual[a.Key] {
					after = append(after, line{Kind: "completion", User: u.ID, Achievement: a.Key})
				}
			}
		}
		if len(p.Rows) < p.PageSize || page*p.PageSize >= p.Total {
			break
		}
	}
	slices.SortFunc(claims, func(a, b gamify.Claim) int { return cmp.Compare(a.Seq, b.Seq) })
	// Pins last: a pinned level stays whatever the ledger lines before it pay.
	return claims, append(after, pins...), nil
}

// exportedClaim reports a claim export writes: Claim's and a challenge
// payout's (import gives it back with the participation's payout already
// paid), not a streak milestone's, which the events pay again on import.
func exportedClaim(c gamify.Claim) bool {
	switch {
	case strings.HasPrefix(c.Payout, "challenge "):
		return true
	case c.Payout != "":
		return false
	}
	// A free claim without a key and without Payout, made before claims
	// named their payout, is taken for a streak milestone's.
	return !c.Cost.IsZero() || c.IdempotencyKey != ""
}

// challengeOf is the challenge a payout names ("challenge KEY ...").
func challengeOf(payout string) string {
	f := strings.Fields(payout)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// leagueResults writes a user's results of a league, oldest first, in
// lines of up to 100.
func (x *exporter) leagueResults(l gamify.League, user string) error {
	if l.Status == gamify.StatusArchived {
		return nil // its results are not readable; the league only keeps them
	}
	var all []gamify.LeagueResult
	var before time.Time
	for {
		page, err := x.eng.Leagues().HistoryBefore(x.ctx, l.Key, user, before, 100)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < 100 {
			break
		}
		before = page[len(page)-1].RunStart
	}
	slices.Reverse(all)
	for len(all) > 0 {
		n := min(len(all), 100)
		raw, err := json.Marshal(all[:n])
		if err != nil {
			return err
		}
		if err := x.put(line{Kind: "league-results", User: user, League: l.Key, Data: raw}); err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}

// leagueRunChunk is the most places a league-run line holds.
const leagueRunChunk = 1000

// leagueRuns writes the cohorts of a league's runs not ended, each tier's
// places in lines of up to leagueRunChunk.
func (x *exporter) leagueRuns(l gamify.League) error {
	if l.Status == gamify.StatusArchived {
		return nil
	}
	runs, err := x.eng.Leagues().Runs(x.ctx, l.Key)
	if err != nil {
		return err
	}
	for _, r := range runs {
		for i, places := range r.Tiers {
			for from := 0; from < len(places) || (i == 0 && from == 0); from += leagueRunChunk {
				part := gamify.LeagueRun{League: r.League, RunStart: r.RunStart, RunEnd: r.RunEnd, Size: r.Size,
					Tiers: make([][]string, len(r.Tiers)), First: make([]int, len(r.Tiers))}
				for j := range part.Tiers {
					part.Tiers[j] = []string{}
				}
				part.Tiers[i], part.First[i] = places[from:min(len(places), from+leagueRunChunk)], from
				raw, err := json.Marshal(part)
				if err != nil {
					return err
				}
				if err := x.put(line{Kind: "league-run", League: l.Key, Data: raw}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// challenges writes a user's participations, when they have any: those
// User reads, then those in the archived challenges.
func (x *exporter) challenges(user string, archived []string) error {
	ps, err := x.eng.Challenges().User(x.ctx, user)
	if err != nil {
		return err
	}
	for _, key := range archived {
		p, err := x.eng.Challenges().Progress(x.ctx, key, user)
		switch {
		case errors.Is(err, gamify.ErrNotFound):
		case err != nil:
			return err
		default:
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	raw, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	return x.put(line{Kind: "challenges", User: user, Data: raw})
}

// defaultPrefs are a new user's preferences as documented (every type on
// every channel): users who kept them need no line. Should the engine's
// default change, a line too many is written, which import finds equal.
var defaultPrefs = func() gamify.Preferences {
	all := []gamify.Channel{gamify.ChannelEmail, gamify.ChannelPush}
	return gamify.Preferences{Notifications: map[gamify.NotificationType][]gamify.Channel{
		gamify.NotifyAchievementCompleted: all, gamify.NotifyRecap: all, gamify.NotifyReactivation: all, gamify.NotifyStreakReminder: all,
	}}
}()

// ledgerPage is how many ledger entries a read takes.
const ledgerPage = 4096

// ledger writes, in sequence order, the metric events, manual awards,
// spends and claims. Trigger awards, streak milestone and reward bundle
// awards, and the debits of claims are left out: import pays them again by
// applying what caused them.
func (x *exporter) ledger(claims []gamify.Claim, rewards []gamify.Reward) error {
	debits, err := x.claimDebits(claims, rewards)
	if err != nil {
		return err
	}
	ci := 0
	putClaims := func(before uint64) error {
		for ; ci < len(claims) && claims[ci].Seq < before; ci++ {
			c := claims[ci]
			key := cmp.Or(c.IdempotencyKey, derivedKey(c.Seq))
			l := line{Kind: "claim", Seq: c.Seq, User: c.User, Reward: c.Reward, Time: c.At, Key: key}
			if c.Payout != "" {
				l.Challenge, l.Payout = challengeOf(c.Payout), c.Payout
			}
			if err := x.put(l); err != nil {
				return err
			}
		}
		return nil
	}
	for after := uint64(0); ; {
		es, err := x.eng.LedgerEntries(x.ctx, after, ledgerPage)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := putClaims(e.Seq); err != nil {
				return err
			}
			amt := e.Amount
			l := line{Seq: e.Seq, User: e.User, Amount: &amt, Time: e.At, Key: cmp.Or(e.IdempotencyKey, derivedKey(e.Seq))}
			switch {
			case e.Kind == "metric":
				l.Kind, l.Metric = "event", e.Key
			case e.Kind == "award" && e.Trigger == "" && !derivedAward(e.Reason):
				l.Kind, l.System, l.Reason = "award", e.Key, e.Reason
			case e.Kind == "spend" && !debits[e.Seq]:
				l.Kind, l.System = "spend", e.Key
			default:
				continue
			}
			if err := x.put(l); err != nil {
				return err
			}
		}
		if len(es) < ledgerPage {
			return putClaims(^uint64(0))
		}
		after = es[len(es)-1].Seq
	}
}

// derivedAward reports a manual-looking award the engine made itself: a
// streak milestone's ("milestone STREAK N") or a reward bundle's
// ("reward KEY").
func derivedAward(reason string) bool {
	return strings.HasPrefix(reason, "milestone ") || strings.HasPrefix(reason, "reward ")
}

// claimDebits finds the spend entry of each claim's cost: the user's last
// spend in the reward's system before the claim's sequence (a claim debits
// its cost in the command that records it, just before it).
func (x *exporter) claimDebits(claims []gamify.Claim, rewards []gamify.Reward) (map[uint64]bool, error) {
	system := map[string]string{}
	for _, r := range rewards {
		system[r.Key] = r.System
	}
	type owner struct{ user, system string }
	want := map[owner][]uint64{} // claim sequences, ascending
	for _, c := range claims {
		if c.Cost.Sign() > 0 && system[c.Reward] != "" {
			o := owner{c.User, system[c.Reward]}
			want[o] = append(want[o], c.Seq)
		}
	}
	debits := map[uint64]bool{}
	if len(want) == 0 {
		return debits, nil
	}
	spends := map[owner][]uint64{}
	for after := uint64(0); ; {
		es, err := x.eng.LedgerEntries(x.ctx, after, ledgerPage)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if o := (owner{e.User, e.Key}); e.Kind == "spend" && want[o] != nil {
				spends[o] = append(spends[o], e.Seq)
			}
		}
		if len(es) < ledgerPage {
			break
		}
		after = es[len(es)-1].Seq
	}
	for o, seqs := range want {
		for _, c := range seqs {
			ss := spends[o]
			i, _ := slices.BinarySearch(ss, c) // ss[i-1] is the last spend before c
			if i > 0 {
				debits[ss[i-1]] = true
			}
		}
	}
	return debits, nil
}
