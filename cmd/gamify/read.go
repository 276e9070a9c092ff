package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/gamifykit/gamify"
)

// userReport is what "gamify user" prints; its JSON uses the engine's types.
type userReport struct {
	User         gamify.User
	Metrics      []gamify.UserMetric
	Points       []gamify.UserPoints
	Streaks      []gamify.UserStreak
	Achievements []gamify.UserAchievement
}

func readUser(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("user", stderr)
	db := fs.String("db", "", "the database `FILE`")
	tenant := fs.String("tenant", "", "read the user of this tenant `KEY`")
	asJSON := fs.Bool("json", false, "print JSON (the engine's field names)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "gamify user: give one user ID")
		return exitUsage
	}
	root, eng, code := readOpen(*db, *tenant, stderr)
	if eng == nil {
		return code
	}
	defer root.Close()
	rep, err := userOf(ctx, eng, pos[0])
	if err != nil {
		return failed(stderr, err)
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	printUser(stdout, rep)
	return exitOK
}

func userOf(ctx context.Context, eng *gamify.Engine, id string) (userReport, error) {
	var rep userReport
	var err error
	if rep.User, err = eng.Users().Get(ctx, id); err != nil {
		return rep, err
	}
	if rep.Metrics, err = eng.Users().Metrics(ctx, id); err != nil {
		return rep, err
	}
	for skip := 0; ; skip += 100 {
		systems, err := eng.Points().List(ctx, gamify.ListOptions{Limit: 100, Skip: skip})
		if err != nil {
			return rep, err
		}
		for _, s := range systems {
			p, err := eng.Users().Points(ctx, id, s.Key)
			if err != nil {
				return rep, err
			}
			rep.Points = append(rep.Points, p)
		}
		if len(systems) < 100 {
			break
		}
	}
	if rep.Streaks, err = eng.Users().Streaks(ctx, id); err != nil {
		return rep, err
	}
	rep.Achievements, err = eng.Achievements().User(ctx, id, false)
	return rep, err
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func printUser(w io.Writer, r userReport) {
	u := r.User
	fmt.Fprintf(w, "user %s\n", u.ID)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  name\t%s\n  email\t%s\n  tz\t%s\n  active\t%t\n  created\t%s\n", u.Name, u.Email, u.TZ, u.Active, when(u.Created))
	for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
		fmt.Fprintf(tw, "  attribute %s\t%s\n", k, u.Attributes[k])
	}
	tw.Flush()
	fmt.Fprintln(w, "metrics:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range r.Metrics {
		fmt.Fprintf(tw, "  %s\t%s\t%d events\n", m.Key, m.Total, m.Events)
	}
	tw.Flush()
	fmt.Fprintln(w, "points:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range r.Points {
		fmt.Fprintf(tw, "  %s\ttotal %s\tavailable %s\tlevel %s\n", p.System, p.Total, p.Available, p.Level)
	}
	tw.Flush()
	fmt.Fprintln(w, "streaks:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range r.Streaks {
		fmt.Fprintf(tw, "  %s\tlength %d\tlongest %d\tfreezes %d\n", s.Key, s.Length, s.Longest, s.Freezes)
	}
	tw.Flush()
	fmt.Fprintln(w, "achievements:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range r.Achievements {
		fmt.Fprintf(tw, "  %s\t%s\n", a.Key, when(a.CompletedAt))
	}
	tw.Flush()
}

func readBoard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("board", stderr)
	db := fs.String("db", "", "the database `FILE`")
	tenant := fs.String("tenant", "", "read the board of this tenant `KEY`")
	run := fs.String("run", "", "the run containing this `DATE` (YYYY-MM-DD, in the board's zone); default the current run")
	group := fs.String("group", "", "the breakdown `GROUP` (attr:value,...) of a board with a breakdown")
	offset := fs.Int("offset", 0, "ranks to skip")
	limit := fs.Int("limit", 10, "ranks to print, 1 to 100")
	asJSON := fs.Bool("json", false, "print JSON (the engine's field names)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "gamify board: give one board KEY")
		return exitUsage
	}
	if *offset < 0 {
		fmt.Fprintf(stderr, "gamify board: --offset must be 0 or more, not %d\n", *offset)
		return exitUsage
	}
	if *limit < 1 || *limit > 100 {
		fmt.Fprintf(stderr, "gamify board: --limit must be from 1 to 100, not %d\n", *limit)
		return exitUsage
	}
	var runDay gamify.Date
	if err := runDay.UnmarshalText([]byte(*run)); err != nil {
		fmt.Fprintf(stderr, "gamify board: --run must be a date YYYY-MM-DD, not %q\n", *run)
		return exitUsage
	}
	root, eng, code := readOpen(*db, *tenant, stderr)
	if eng == nil {
		return code
	}
	defer root.Close()
	key := pos[0]
	b, err := eng.Leaderboards().Get(ctx, key)
	if err != nil {
		return failed(stderr, err)
	}
	q := gamify.BoardQuery{Group: *group, Offset: *offset, Limit: *limit}
	if runDay != (gamify.Date{}) {
		loc := time.UTC
		if b.TZ != "" {
			if loc, err = time.LoadLocation(b.TZ); err != nil {
				return failed(stderr, err)
			}
		}
		q.At = time.Date(runDay.Year, runDay.Month, runDay.Day, 0, 0, 0, 0, loc)
	}
	page, err := eng.Leaderboards().Rankings(ctx, key, q)
	if err != nil {
		return failed(stderr, err)
	}
	if *asJSON {
		return writeJSON(stdout, page)
	}
	fmt.Fprintf(stdout, "board %s (%s), run %s to %s, %d participants\n", b.Key, b.Status, when(page.RunStart), when(page.RunEnd), page.Participants)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  RANK\tUSER\tSCORE")
	for _, r := range page.Rows {
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", r.Rank, r.User, r.Score)
	}
	tw.Flush()
	return exitOK
}
