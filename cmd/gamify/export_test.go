package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// seedGame writes a game using most of what an export carries: every kind
// of definition, users with profiles, events with and without keys, a
// manual award, a spend, a paid claim, a manual completion and an inactive
// metric and user.
func seedGame(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "game.db")
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	ctx := context.Background()
	n := gamify.AmountFromInt
	_, err = eng.Apply(ctx, gamify.Game{
		Attributes: []gamify.Attribute{{Key: "country", Name: "Country", Type: gamify.UserAttribute}},
		Metrics:    []gamify.Metric{{Key: "words", Name: "Words", Units: "words"}, {Key: "old", Name: "Old"}},
		Streaks: []gamify.Streak{{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, Default: true,
			Metrics: []gamify.StreakMetric{{Metric: "words", Min: n(1)}}}},
		Achievements: []gamify.Achievement{
			{Key: "w10", Name: "Ten words", Kind: gamify.AchievementMetric, Metric: "words", Threshold: n(10)},
			{Key: "hero", Name: "Hero", Kind: gamify.AchievementManual},
		},
		Points: []gamify.PointsSystem{{Key: "xp", Name: "XP",
			Triggers: []gamify.Trigger{{Key: "xp-words", Kind: gamify.TriggerMetric, Metric: "words", Threshold: n(1), Points: n(2)}},
			Levels:   []gamify.Level{{Key: "pro", Name: "Pro", Level: 1, Threshold: n(20)}},
			// Doubles the points of events dated on its day, whenever they are applied.
			Boosts: []gamify.Boost{{Key: "double", Name: "Double day", Scope: gamify.BoostGlobal, Multiplier: n(2),
				From: gamify.Date{Year: 2026, Month: 3, Day: 10}, To: gamify.Date{Year: 2026, Month: 3, Day: 10}}}}},
		Leaderboards: []gamify.Leaderboard{{Key: "top", Name: "Top", RankBy: gamify.RankByMetric, Metric: "words"},
			{Key: "rich", Name: "Rich", RankBy: gamify.RankByPoints, System: "xp"},
			{Key: "week", Name: "Week", RankBy: gamify.RankByMetric, Metric: "words", TZ: "UTC", RunEvery: 1, RunUnit: gamify.RunWeek}},
		Leagues: []gamify.League{{Key: "league", Name: "League", Board: "week", Tiers: []string{"bronze", "silver"}, CohortSize: 5, Promote: 1, Demote: 1,
			Status: gamify.StatusInactive}},
		Rewards: []gamify.Reward{{Key: "mug", Name: "Mug", Type: gamify.RewardPhysical, Cost: n(5), System: "xp", PerUserLimit: gamify.RewardUnlimited},
			{Key: "turbo", Name: "Turbo", Type: gamify.RewardPointsMultiplier, Cost: n(1), System: "xp", Multiplier: n(3), Duration: time.Hour}},
		Tenants: []gamify.Tenant{{Key: "acme", Name: "Acme"}},
	})
	require.NoError(t, err)
	// A milestone names a reward, which is defined after streaks.
	_, err = eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) {
		s.Milestones = []gamify.StreakMilestone{{Length: 2, Reward: "mug", System: "xp", Points: n(5)}}
	})
	require.NoError(t, err)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: "Ana", TZ: "Europe/Berlin", Attributes: map[string]string{"country": "DE"}})
	require.NoError(t, err)
	evs := []gamify.Event{
		{Metric: "words", User: "ana", Value: 7, IdempotencyKey: "ana-1"},
		{Metric: "words", User: "bo", Value: 3, Time: clock.Now().Add(-26 * time.Hour)},
		{Metric: "words", User: "bo", Amount: gamify.MustParseAmount("4.5")},
		{Metric: "old", User: "cy", Value: 1},
	}
	for _, ev := range evs {
		_, err = eng.Track(ctx, ev)
		require.NoError(t, err)
	}
	clock.Advance(time.Hour)
	_, err = eng.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: 5})
	require.NoError(t, err)
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "xp", User: "bo", Amount: n(3), Reason: "bug report"})
	require.NoError(t, err)
	_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "xp", User: "ana", Amount: n(1), IdempotencyKey: "sp-1"})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "ana"})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "turbo", User: "ana", IdempotencyKey: "turbo-1"})
	require.NoError(t, err)
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hero", User: "bo"})
	require.NoError(t, err)
	_, err = eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Notifications = map[gamify.NotificationType][]gamify.Channel{gamify.NotifyAchievementCompleted: {gamify.ChannelEmail}}
	})
	require.NoError(t, err)
	_, err = eng.Points().PinLevel(ctx, "xp", "cy", "pro")
	require.NoError(t, err)
	_, err = eng.Metrics().Deactivate(ctx, "old")
	require.NoError(t, err)
	_, err = eng.Users().Deactivate(ctx, "cy")
	require.NoError(t, err)
	require.NoError(t, eng.Check(ctx))
	require.NoError(t, eng.Close())
	return path
}

// userView is what a user reads the same after a round trip (times of
// creation and of import-time awards aside).
type userView struct {
	User         gamify.User
	Metrics      []gamify.UserMetric
	Points       []gamify.UserPoints
	Streaks      []gamify.UserStreak
	Achievements []string
	Claims       []string
	Preferences  gamify.Preferences
}

// snapshot reads a database through the public API: every user, every
// board's standings, every definition's key and status.
func snapshot(t *testing.T, path string) map[string]any {
	t.Helper()
	ctx := context.Background()
	// A fixed clock: streak periods are read as of the same instant.
	clock := gamify.NewManualClock(time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(path, &gamify.Options{LockTimeout: time.Second, Clock: clock})
	require.NoError(t, err)
	defer eng.Close()
	require.NoError(t, eng.Check(ctx))
	out := map[string]any{}
	page, err := eng.Users().List(ctx, gamify.UserQuery{PageSize: 100})
	require.NoError(t, err)
	for _, row := range page.Rows {
		rep, err := userOf(ctx, eng, row.ID)
		require.NoError(t, err)
		v := userView{User: rep.User, Metrics: rep.Metrics, Points: rep.Points, Streaks: rep.Streaks}
		v.User.Created, v.User.Updated = time.Time{}, time.Time{}
		for i := range v.Metrics {
			for j := range v.Metrics[i].Achievements {
				v.Metrics[i].Achievements[j].CompletedAt = time.Time{} // the time of the import
			}
		}
		for _, a := range rep.Achievements {
			v.Achievements = append(v.Achievements, a.Key)
		}
		v.Preferences, err = eng.Users().Preferences(ctx, row.ID)
		require.NoError(t, err)
		cs, err := eng.Users().Claims(ctx, row.ID)
		require.NoError(t, err)
		for _, c := range cs {
			v.Claims = append(v.Claims, c.Reward+" "+c.Cost.String()+" "+c.Balance.String())
		}
		out["user "+row.ID] = v
	}
	boards, err := eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeInactive: true})
	require.NoError(t, err)
	for _, b := range boards {
		p, err := eng.Leaderboards().Rankings(ctx, b.Key, gamify.BoardQuery{Limit: 100})
		require.NoError(t, err)
		var rows []string
		for _, r := range p.Rows {
			rows = append(rows, r.User+" "+r.Score.String())
		}
		out["board "+b.Key] = rows
	}
	ms, err := eng.Metrics().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	for _, m := range ms {
		out["metric "+m.Key] = m.Status
	}
	return out
}

func TestExportImportRoundTrip(t *testing.T) {
	src := seedGame(t)
	dir := t.TempDir()
	exp := filepath.Join(dir, "game.jsonl")
	code, out, errs := runCmd("export", "--db", src, "--out", exp)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "exported "+src)

	// The file: a header first, an end last, definitions before users before ledger lines.
	lines := readLines(t, exp)
	require.Equal(t, "header", lines[0].Kind)
	require.Equal(t, exportFormat, lines[0].Format)
	require.Equal(t, exportVersion, lines[0].Version)
	require.Equal(t, "end", lines[len(lines)-1].Kind)
	kinds := map[string]int{}
	for _, l := range lines {
		kinds[l.Kind]++
	}
	require.Equal(t, map[string]int{"header": 1, "attribute": 1, "metric": 2, "points": 1, "level": 1, "streak": 1,
		"achievement": 2, "trigger": 1, "boost": 1, "leaderboard": 3, "league": 1, "reward": 2, "milestones": 1, "tenant": 1,
		"user": 3, "preferences": 1, "event": 5, "award": 1, "spend": 1, "claim": 2, "completion": 1, "pin": 1, "end": 1}, kinds,
		"trigger and milestone awards, the milestone's claim, paid claims' debits and the turbo claim's boost are not exported")
	var events []line
	for _, l := range lines {
		if l.Kind == "event" {
			events = append(events, l)
		}
	}
	require.Equal(t, "ana-1", events[0].Key, "a caller's key is kept")
	require.Equal(t, derivedKey(events[1].Seq), events[1].Key, "a key is derived from the sequence")
	require.Equal(t, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC), events[1].Time.UTC())
	require.Equal(t, "4.5", events[2].Amount.String())

	dst := filepath.Join(dir, "copy.db")
	code, out, errs = runCmd("import", "--db", dst, "--in", exp)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "imported "+exp)
	// The weekly board's run holds the source's events, dated in March:
	// the import runs at the machine's time, past that run, where they count
	// nowhere (an export carries no runs, docs/cli.md).
	snap := func(path string) map[string]any {
		m := snapshot(t, path)
		delete(m, "board week")
		return m
	}
	want := snap(src)
	require.Equal(t, want, snap(dst))
	require.Equal(t, gamify.StatusInactive, want["metric old"])
	require.False(t, want["user cy"].(userView).User.Active)
	require.True(t, want["user cy"].(userView).Points[0].Pinned)
	require.NotEmpty(t, want["user ana"].(userView).Preferences.Notifications)
	bo := want["user bo"].(userView)
	require.Equal(t, []string{"mug 0 22"}, bo.Claims, "the milestone's free claim, made again by the events")
	require.Equal(t, "30", bo.Points[0].Total.String(), "2×3 on the 9th, 2×4 doubled on the 10th, 5 at the milestone, 3 awarded")

	// The turbo claim made its per-user boost again (once).
	eng, err := gamify.Open(dst, nil)
	require.NoError(t, err)
	ub, err := eng.Points().UserBoosts(context.Background(), "xp", "ana")
	require.NoError(t, err)
	// The league's definition, with its status; not its tiers or history.
	l, err := eng.Leagues().Get(context.Background(), "league")
	require.NoError(t, err)
	require.Equal(t, []string{"bronze", "silver"}, l.Tiers)
	require.Equal(t, []any{"week", 5, 1, 1, gamify.StatusInactive}, []any{l.Board, l.CohortSize, l.Promote, l.Demote, l.Status})
	require.NoError(t, eng.Close())
	require.Len(t, ub, 1)
	require.Equal(t, "3", ub[0].Multiplier.String())

	// A second run changes nothing and says so.
	code, out, errs = runCmd("import", "--db", dst, "--in", exp, "--json")
	require.Equal(t, exitOK, code, errs)
	var sum importSummary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.Empty(t, sum.Applied)
	require.Equal(t, len(lines)-2, sum.Unchanged+sum.Skipped, "every line but header and end is unchanged or skipped (the inactive metric's event)")
	require.Equal(t, 1, sum.Skipped)
	require.Equal(t, want, snap(dst))
}

func readLines(t *testing.T, path string) []line {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l line
		require.NoError(t, decodeStrict(sc.Bytes(), &l), sc.Text())
		out = append(out, l)
	}
	require.NoError(t, sc.Err())
	return out
}

func writeLines(t *testing.T, path string, ls []string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(ls, "\n")+"\n"), 0o600))
}

func TestImportBadLines(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	header := `{"kind":"header","format":"gamify-export","version":1}`
	metric := `{"kind":"metric","data":{"Key":"words","Name":"Words"}}`
	event := func(user, amount string, seq int) string {
		return `{"kind":"event","seq":` + strings.Repeat("1", seq) + `,"user":"` + user + `","metric":"words","amount":"` + amount + `","time":"2026-11-30T10:00:00Z","key":"k` + strings.Repeat("1", seq) + `"}`
	}
	total := func(path, user string) string {
		eng, err := gamify.Open(path, &gamify.Options{LockTimeout: time.Second})
		require.NoError(t, err)
		defer eng.Close()
		m, err := eng.Users().Metric(context.Background(), user, "words")
		if errors.Is(err, gamify.ErrNotFound) {
			return "none"
		}
		require.NoError(t, err)
		return m.Total.String()
	}
	for _, c := range []struct {
		name  string
		lines []string
		want  string // in the error
		ana   string // ana's total after
	}{
		{"not JSON", []string{header, metric, event("ana", "2", 1), `{"kind":"event",`, event("ana", "3", 2)}, "line 4: not an export line", "2"}, // a chunk of its own
		{"unknown field", []string{header, metric, `{"kind":"metric","data":{"Key":"x","Name":"X","Colour":"red"}}`}, `line 3: json: unknown field "Colour"`, ""},
		{"unknown kind", []string{header, `{"kind":"badge"}`}, `line 2: unknown kind "badge"`, ""},
		{"no header", []string{metric}, "line 1: the first line must be", ""},
		{"newer version", []string{`{"kind":"header","format":"gamify-export","version":2}`}, "line 1: format version 2", ""},
		{"refused event", []string{header, metric, event("ana", "2", 1), `{"kind":"event","user":"bo","metric":"nope","amount":"1","time":"2026-11-30T10:00:00Z","key":"x"}`, event("ana", "3", 2), `{"kind":"end"}`},
			"line 4: gamify: invalid Events[1].Metric", "none"},
		{"missing amount", []string{header, metric, `{"kind":"event","user":"bo","metric":"words","time":"2026-11-30T10:00:00Z","key":"x"}`}, "line 3: the event line needs metric, user, amount, time, key; it has no amount", ""},
		{"truncated", []string{header, metric, event("ana", "2", 1)}, "line 3: the export ends without its end line", "2"},
		{"payout claim without its challenge", []string{header, `{"kind":"claim","user":"ana","reward":"mug","payout":"challenge trip completed","key":"c"}`},
			"line 2: a challenge payout's claim line needs challenge and payout; it has no challenge", ""},
		{"league run of an unknown league", []string{header, `{"kind":"league-run","league":"nope","data":{"League":"nope","RunStart":"2026-03-09T00:00:00Z","Size":2,"Tiers":[["ana"]]}}`},
			"line 2: import a run of league nope: league nope: gamify: not found", ""},
		{"league run field", []string{header, `{"kind":"league-run","league":"x","data":{"Colour":1}}`}, `line 2: league-run: json: unknown field "Colour"`, ""},
		{"a chunk before a bad line stays", []string{header, metric, event("ana", "2", 1), `{"kind":"award","user":"ana","system":"nope","amount":"1","key":"a"}`},
			"line 4: ", "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "g.db")
			writeLines(t, in, c.lines)
			code, _, errs := runCmd("import", "--db", db, "--in", in)
			require.Equal(t, exitFailure, code, errs)
			require.Contains(t, errs, c.want)
			if c.ana != "" {
				require.Equal(t, c.ana, total(db, "ana"))
			}
		})
	}

	// A definition that differs from the stored one is an error naming the
	// line and the field; an equal one is fine.
	db := filepath.Join(dir, "g.db")
	writeLines(t, in, []string{header, metric, `{"kind":"end"}`})
	code, _, errs := runCmd("import", "--db", db, "--in", in)
	require.Equal(t, exitOK, code, errs)
	writeLines(t, in, []string{header, `{"kind":"metric","data":{"Key":"words","Name":"Letters"}}`, `{"kind":"end"}`})
	code, _, errs = runCmd("import", "--db", db, "--in", in)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errs, "line 2: words exists and differs in Name")

	code, _, _ = runCmd("import", "--in", in)
	require.Equal(t, exitUsage, code)
	code, _, _ = runCmd("import", "--db", db, "--in", filepath.Join(dir, "none.jsonl"))
	require.Equal(t, exitFailure, code)
	code, _, _ = runCmd("import", "--db", db, "--in", in, "--tenant", "nope")
	require.Equal(t, exitNotFound, code)
}

func TestHelpExportImport(t *testing.T) {
	code, out, _ := runCmd("help", "export")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, `{"kind":"header","format":"gamify-export","version":1,...}`)
	require.Contains(t, out, "Examples:\n  gamify export --db game.db --out game.jsonl")
	code, out, _ = runCmd("help", "import")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "Running an import again changes nothing")
	code, out, _ = runCmd("help", "check")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "-progress")
	code, _, errs := runCmd("help", "nope")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `unknown command "nope"`)
	code, out, _ = runCmd("help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "gamify import --db FILE")
	require.Contains(t, out, "[--run DATE] [--group G] [--offset N]")
	require.Contains(t, out, "--json | jq .Points") // userReport's field names
	require.Contains(t, out, "Long work (import, export, check")
	code, out, _ = runCmd("help", "export")
	require.Equal(t, exitOK, code)
	for _, k := range lineKinds {
		require.Contains(t, out, k, "help export names every kind")
	}
}

// TestExportProgressCountsEveryLine: the progress summary counts the end
// line too, as the export's summary does.
func TestExportProgressCountsEveryLine(t *testing.T) {
	path := seedGame(t)
	out := filepath.Join(t.TempDir(), "e.jsonl")
	code, stdout, errs := runCmd("export", "--db", path, "--out", out, "--progress")
	require.Equal(t, exitOK, code, errs)
	n := len(readLines(t, out))
	require.Contains(t, stdout, fmt.Sprintf(": %d lines (", n))
	require.Regexp(t, fmt.Sprintf(`export done: %d lines `, n), errs)
}

// TestExportToStdout: "--out -" writes the lines to stdout and the summary
// to stderr; --json prints the summary as JSON; an existing --out is kept.
func TestExportToStdout(t *testing.T) {
	path := seedDB(t)
	code, out, errs := runCmd("export", "--db", path, "--json")
	require.Equal(t, exitOK, code, errs)
	first, _, _ := strings.Cut(out, "\n")
	var h line
	require.NoError(t, decodeStrict([]byte(first), &h))
	require.Equal(t, line{Kind: "header", Format: exportFormat, Version: exportVersion, Created: h.Created}, h)
	require.NotNil(t, h.Created)
	var sum exportSummary
	require.NoError(t, json.Unmarshal([]byte(errs), &sum))
	require.Equal(t, strings.Count(out, "\n"), sum.Lines)
	require.Equal(t, 2, sum.Counts["event"])

	existing := filepath.Join(t.TempDir(), "x.jsonl")
	require.NoError(t, os.WriteFile(existing, []byte("keep"), 0o600))
	code, _, _ = runCmd("export", "--db", path, "--out", existing)
	require.Equal(t, exitFailure, code)
	raw, err := os.ReadFile(existing)
	require.NoError(t, err)
	require.Equal(t, "keep", string(raw))
	code, _, _ = runCmd("export", "--db", filepath.Join(t.TempDir(), "none.db"))
	require.Equal(t, exitFailure, code, "export never creates a file")

	// Import from stdin.
	stdin = strings.NewReader(out)
	defer func() { stdin = os.Stdin }()
	dst := filepath.Join(t.TempDir(), "copy.db")
	code, got, errs := runCmd("import", "--db", dst, "--json")
	require.Equal(t, exitOK, code, errs)
	var isum importSummary
	require.NoError(t, json.Unmarshal([]byte(got), &isum))
	require.Equal(t, 2, isum.Applied["event"])
	require.Equal(t, 2, isum.Applied["user"])
	require.Equal(t, "-", isum.In)
}

// TestLedgerEntries: pages of any size read the same entries, in sequence
// order, with each kind's key; a bad limit is a ValidationError.
func TestLedgerEntries(t *testing.T) {
	path := seedGame(t)
	ctx := context.Background()
	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	defer eng.Close()
	all, err := eng.LedgerEntries(ctx, 0, 10000)
	require.NoError(t, err)
	var paged []gamify.LedgerEntry
	for after := uint64(0); ; {
		es, err := eng.LedgerEntries(ctx, after, 2)
		require.NoError(t, err)
		paged = append(paged, es...)
		if len(es) < 2 {
			break
		}
		after = es[len(es)-1].Seq
	}
	require.Equal(t, all, paged)
	kinds := map[string]int{}
	for i, e := range all {
		if i > 0 {
			require.Greater(t, e.Seq, all[i-1].Seq)
		}
		kinds[e.Kind]++
		switch e.Kind {
		case "metric":
			require.Contains(t, []string{"words", "old"}, e.Key)
		default:
			require.Equal(t, "xp", e.Key)
		}
	}
	require.Equal(t, 5, kinds["metric"])
	require.Equal(t, 3, kinds["spend"], "Spend and the two claims' costs")
	require.Equal(t, all[0], gamify.LedgerEntry{Seq: all[0].Seq, At: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), User: "ana",
		Kind: "metric", Key: "words", Amount: gamify.AmountFromInt(7), IdempotencyKey: "ana-1"})
	var manual []string
	for _, e := range all {
		if e.Kind == "award" && e.Trigger == "" {
			manual = append(manual, e.Reason)
		}
	}
	require.Equal(t, []string{"milestone daily 2", "bug report"}, manual)

	page, err := eng.LedgerEntries(ctx, 0, 0) // 0: the default, 1000
	require.NoError(t, err)
	require.Len(t, page, len(all))
	_, err = eng.LedgerEntries(ctx, 0, 10001)
	require.ErrorIs(t, err, gamify.ErrInvalid)
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "limit", ve.Field)
	require.NoError(t, eng.Close())
	_, err = eng.LedgerEntries(ctx, 0, 10)
	require.ErrorIs(t, err, gamify.ErrClosed)
}

// TestExportImportTenant moves a tenant's data: --tenant on both sides,
// and the tenant must exist where it is imported.
func TestExportImportTenant(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	eng, err := gamify.Open(src, nil)
	require.NoError(t, err)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	te, err := eng.Tenant("acme")
	require.NoError(t, err)
	_, err = te.Metrics().Create(ctx, gamify.Metric{Key: "words", Name: "Words"})
	require.NoError(t, err)
	_, err = te.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: 4})
	require.NoError(t, err)
	require.NoError(t, eng.Close())

	exp := filepath.Join(dir, "acme.jsonl")
	code, _, errs := runCmd("export", "--db", src, "--tenant", "acme", "--out", exp)
	require.Equal(t, exitOK, code, errs)
	lines := readLines(t, exp)
	require.Equal(t, "acme", lines[0].Tenant)
	for _, l := range lines {
		require.NotEqual(t, "tenant", l.Kind, "a tenant's export holds no tenants")
	}

	dst := filepath.Join(dir, "dst.db")
	code, _, errs = runCmd("import", "--db", dst, "--tenant", "acme", "--in", exp)
	require.Equal(t, exitNotFound, code, "the tenant must exist: %s", errs)
	eng, err = gamify.Open(dst, nil)
	require.NoError(t, err)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	// Held open: import waits for the lock, then exits 4.
	code, _, _ = runCmd("import", "--db", dst, "--tenant", "acme", "--in", exp)
	require.Equal(t, exitLocked, code)
	require.NoError(t, eng.Close())
	code, _, errs = runCmd("import", "--db", dst, "--tenant", "acme", "--in", exp)
	require.Equal(t, exitOK, code, errs)

	eng, err = gamify.Open(dst, nil)
	require.NoError(t, err)
	defer eng.Close()
	te, err = eng.Tenant("acme")
	require.NoError(t, err)
	m, err := te.Users().Metric(ctx, "ana", "words")
	require.NoError(t, err)
	require.Equal(t, "4", m.Total.String())
	_, err = eng.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound, "the root has no such user")
}

// TestImportHandWritten: a line may leave out what the engine fills in
// (a metric's UnitType), and running it again still changes nothing.
func TestImportHandWritten(t *testing.T) {
	dir := t.TempDir()
	in, db := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "g.db")
	writeLines(t, in, []string{`{"kind":"header","format":"gamify-export","version":1}`,
		`{"kind":"metric","data":{"Key":"words","Name":"Words"}}`,
		`{"kind":"event","user":"bo","metric":"words","amount":"2","key":"e1","time":"2026-11-30T10:00:00Z"}`,
		`{"kind":"end"}`})
	for _, applied := range []string{"applied 1 metric, 1 event; 0 unchanged", "applied nothing; 2 unchanged"} {
		code, out, errs := runCmd("import", "--db", db, "--in", in)
		require.Equal(t, exitOK, code, errs)
		require.Contains(t, out, applied)
	}
}

// FuzzImportLine: whatever a line holds, import refuses it with an error
// or applies it through the engine; it never panics, and the database
// still checks afterwards.
func FuzzImportLine(f *testing.F) {
	for _, s := range []string{
		`{"kind":"metric","data":{"Key":"words","Name":"Words"}}`,
		`{"kind":"points","data":{"Key":"xp","Name":"XP"}}`,
		`{"kind":"user","data":{"ID":"ana","Name":"Ana","SubscribeToEmails":true,"Active":true}}`,
		`{"kind":"event","seq":1,"user":"ana","metric":"words","amount":"2.5","time":"2026-11-30T10:00:00Z","key":"k1"}`,
		`{"kind":"award","user":"ana","system":"xp","amount":"3","reason":"r","key":"a1"}`,
		`{"kind":"spend","user":"ana","system":"xp","amount":"1","key":"s1"}`,
		`{"kind":"preferences","user":"ana","data":{"Notifications":{"recap":[]}}}`,
		`{"kind":"milestones","streak":"nope","data":[{"Length":2}]}`,
		`{"kind":"end"}`, `{"kind":"header","format":"gamify-export","version":1}`, `{`, `[]`, `{"kind":""}`,
	} {
		f.Add([]byte(s))
	}
	eng, err := gamify.Open(filepath.Join(f.TempDir(), "fuzz.db"), &gamify.Options{Durability: gamify.Buffered, MaxEventAge: importMaxEventAge})
	require.NoError(f, err)
	f.Cleanup(func() {
		require.NoError(f, eng.Check(context.Background()))
		require.NoError(f, eng.Close())
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		im := &importer{ctx: context.Background(), eng: eng, final: map[string]gamify.Status{}, header: true}
		im.sum.Applied = map[string]int{}
		im.n = 1
		if err := im.line(b); err == nil {
			_ = im.flush() // an event waits for its chunk
		}
	})
}
