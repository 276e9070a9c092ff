package gamify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// remindEngine opens an engine with reminders on (defaults unless ro says
// otherwise), a metric "lessons" and a default daily streak on it.
func remindEngine(t *testing.T, ro *gamify.ReminderOptions, mod func(*gamify.Options)) *testEngine {
	t.Helper()
	if ro == nil {
		ro = &gamify.ReminderOptions{}
	}
	o := gamify.Options{Reminders: ro, CheckpointInterval: time.Hour}
	if mod != nil {
		mod(&o)
	}
	eng := openTest(t, &o)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Streaks().Create(context.Background(), gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, Default: true,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	return eng
}

func identify(t testing.TB, eng *testEngine, in gamify.UserInput) {
	t.Helper()
	_, err := eng.Users().Identify(context.Background(), in)
	require.NoError(t, err)
}

func remLesson(t testing.TB, eng *testEngine, user string) {
	t.Helper()
	_, err := eng.Track(context.Background(), gamify.Event{Metric: "lessons", User: user, Value: 1})
	require.NoError(t, err)
}

// runAt sets the clock and runs what is due.
func runAt(t testing.TB, eng *testEngine, at time.Time) {
	t.Helper()
	eng.clock.Set(at)
	for {
		n, err := eng.RunDue(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

// reminderLog reads the reminders in the outbox after seq *from and moves
// *from past them.
func newReminders(t testing.TB, eng *gamify.Engine, from *uint64) []gamify.Notification {
	t.Helper()
	var out []gamify.Notification
	for {
		es, err := eng.Outbox().Read(context.Background(), *from, 1000)
		require.NoError(t, err)
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			switch e.Notification.(type) {
			case gamify.StreakReminder, gamify.Reactivation, gamify.Recap:
				out = append(out, e.Notification)
			}
			*from = e.Seq
		}
	}
}

func TestStreakReminderAtEachUsersLocalHour(t *testing.T) {
	ny, tokyo := mustZone(t, "America/New_York"), mustZone(t, "Asia/Tokyo")
	eng := remindEngine(t, nil, nil)
	var seen uint64
	// Day 1 (Tuesday 2026-03-10 in both zones): both start a streak; a third
	// user in New York keeps it going on day 2 before the hour.
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, tokyo))
	identify(t, eng, gamify.UserInput{ID: "kenji", TZ: "Asia/Tokyo"})
	remLesson(t, eng, "kenji")
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	identify(t, eng, gamify.UserInput{ID: "bob", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	remLesson(t, eng, "bob")
	require.Empty(t, newReminders(t, eng.Engine, &seen), "day 1: every streak was extended")

	// Day 2 in Tokyo: a minute before 20:00 nothing, at 20:00 kenji's.
	runAt(t, eng, time.Date(2026, 3, 11, 19, 59, 0, 0, tokyo))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
	kenjiAt := time.Date(2026, 3, 11, 20, 0, 0, 0, tokyo)
	runAt(t, eng, kenjiAt)
	got := newReminders(t, eng.Engine, &seen)
	require.Equal(t, normalize([]gamify.Notification{gamify.StreakReminder{User: "kenji", Streak: "daily", Length: 1,
		Deadline: time.Date(2026, 3, 12, 0, 0, 0, 0, tokyo), Channels: []gamify.Channel{gamify.ChannelEmail, gamify.ChannelPush}, At: kenjiAt}}),
		normalize(got))

	// Day 2 in New York: bob extends in the morning, so only ana is reminded.
	runAt(t, eng, time.Date(2026, 3, 11, 8, 0, 0, 0, ny))
	remLesson(t, eng, "bob")
	anaAt := time.Date(2026, 3, 11, 20, 0, 0, 0, ny)
	runAt(t, eng, anaAt)
	got = newReminders(t, eng.Engine, &seen)
	require.Len(t, got, 1)
	require.Equal(t, "ana", got[0].UserID())
	require.True(t, got[0].(gamify.StreakReminder).At.Equal(anaAt))

	// Running again, later the same evening, sends nothing more.
	runAt(t, eng, time.Date(2026, 3, 11, 23, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
}

// normalize puts the times of reminders in UTC, as the outbox returns them,
// so that tests can compare with times built in a zone.
func normalize(ns []gamify.Notification) []gamify.Notification {
	out := make([]gamify.Notification, len(ns))
	for i, n := range ns {
		switch n := n.(type) {
		case gamify.StreakReminder:
			n.Deadline, n.At = n.Deadline.UTC(), n.At.UTC()
			out[i] = n
		case gamify.Reactivation:
			n.LastActive, n.At = n.LastActive.UTC(), n.At.UTC()
			out[i] = n
		case gamify.Recap:
			n.At = n.At.UTC()
			out[i] = n
		default:
			out[i] = n
		}
	}
	return out
}

// A reminder hour that a spring-forward gap skips goes out when the gap
// ends; one that a fall-back repeats goes out once, at its first instant.
func TestStreakReminderAcrossDST(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	for _, tc := range []struct {
		name     string
		hour     int
		dayOne   time.Time // a lesson, the day before the change
		before   time.Time // nothing yet
		at       time.Time // the reminder
		repeated time.Time // the hour again, after the change
	}{
		{"spring forward, 02:00 does not exist", 2, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), time.Time{}},
		{"fall back, 01:00 twice", 1, time.Date(2026, 10, 31, 12, 0, 0, 0, ny),
			time.Date(2026, 11, 1, 4, 59, 0, 0, time.UTC), time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := remindEngine(t, &gamify.ReminderOptions{Hour: tc.hour}, nil)
			var seen uint64
			runAt(t, eng, tc.dayOne)
			identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
			remLesson(t, eng, "ana")
			runAt(t, eng, tc.before)
			require.Empty(t, newReminders(t, eng.Engine, &seen))
			runAt(t, eng, tc.at)
			got := newReminders(t, eng.Engine, &seen)
			require.Len(t, got, 1)
			r := got[0].(gamify.StreakReminder)
			require.True(t, r.At.Equal(tc.at), "At = %v, want %v", r.At, tc.at)
			require.True(t, r.Deadline.Equal(time.Date(tc.dayOne.Year(), tc.dayOne.Month(), tc.dayOne.Day()+2, 0, 0, 0, 0, ny)), "Deadline = %v", r.Deadline)
			if !tc.repeated.IsZero() {
				runAt(t, eng, tc.repeated)
				require.Empty(t, newReminders(t, eng.Engine, &seen), "the repeated hour sends nothing more")
			}
		})
	}
}

// A reminder is sent once however often and however late the due work
// runs: again the same evening, after a reopen, and on a replica that
// replays the command log (a crash that lost the file but kept the log).
func TestRemindersExactlyOnceAcrossReopenAndReplay(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, nil, nil)
	var seen uint64
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 11, 20, 0, 0, 0, ny))
	require.Len(t, newReminders(t, eng.Engine, &seen), 1)
	runAt(t, eng, time.Date(2026, 3, 11, 21, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen), "run again")
	info, err := eng.Outbox().Info(context.Background())
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "replica.db")
	copyDir(t, eng.path+".log", path+".log")
	o := eng.opts
	o.Clock = gamify.NewManualClock(eng.clock.Now())
	rep, err := gamify.Open(path, &o)
	require.NoError(t, err)
	defer rep.Close()
	require.NotZero(t, rep.Stats().Replayed)
	require.Zero(t, rep.Stats().ReplayFailed)
	_, err = rep.RunDue(context.Background())
	require.NoError(t, err)
	repInfo, err := rep.Outbox().Info(context.Background())
	require.NoError(t, err)
	require.Equal(t, info.Last, repInfo.Last, "the replica sent nothing the log had not")
	var repSeen uint64
	got := newReminders(t, rep, &repSeen)
	require.Len(t, got, 1)
	require.Equal(t, "ana", got[0].UserID())

	eng.reopen(t)
	runAt(t, eng, time.Date(2026, 3, 11, 22, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen), "after reopen")

	// Extended after the reminder, the streak is at risk again the next
	// day: one reminder, for the new deadline.
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 12, 20, 0, 0, 0, ny))
	got = newReminders(t, eng.Engine, &seen)
	require.Len(t, got, 1)
	require.Equal(t, 2, got[0].(gamify.StreakReminder).Length)
	runAt(t, eng, time.Date(2026, 3, 12, 23, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
}

// Control users and users who opted out of streaks get no streak reminder;
// channel preferences choose the channels, and a muted type is not sent.
func TestRemindersFollowExperimentsAndChannels(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, nil, nil)
	ctx := context.Background()
	yes, no := true, false
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	for _, id := range []string{"all", "control", "optout", "push", "muted", "noemail"} {
		in := gamify.UserInput{ID: id, TZ: "America/New_York"}
		switch id {
		case "control":
			in.Control = &yes
		case "noemail":
			in.SubscribeToEmails = &no
		}
		identify(t, eng, in)
		remLesson(t, eng, id)
	}
	edit := func(id string, fn func(*gamify.Preferences)) {
		_, err := eng.Users().PatchPreferences(ctx, id, fn)
		require.NoError(t, err)
	}
	edit("optout", func(p *gamify.Preferences) { p.Streak.OptOut = true })
	edit("push", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyStreakReminder] = []gamify.Channel{gamify.ChannelPush}
	})
	edit("muted", func(p *gamify.Preferences) { p.Notifications[gamify.NotifyStreakReminder] = nil })
	var seen uint64
	runAt(t, eng, time.Date(2026, 3, 11, 20, 0, 0, 0, ny))
	got := map[string][]gamify.Channel{}
	for _, n := range newReminders(t, eng.Engine, &seen) {
		got[n.UserID()] = n.(gamify.StreakReminder).Channels
	}
	require.Equal(t, map[string][]gamify.Channel{
		"all":     {gamify.ChannelEmail, gamify.ChannelPush},
		"push":    {gamify.ChannelPush},
		"noemail": {gamify.ChannelPush},
	}, got)

	// Unmuted later, the user is not reminded again for the same deadline.
	edit("muted", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyStreakReminder] = []gamify.Channel{gamify.ChannelPush}
	})
	runAt(t, eng, time.Date(2026, 3, 11, 21, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
}

// Reactivation messages go out at the reminder hour after 3, 5, 7… idle
// days; after downtime only the latest one due is sent, and activity starts
// the count again.
func TestReactivationAfterIdleDays(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, &gamify.ReminderOptions{ReactivationDays: []int{3, 5, 7, 14}}, nil)
	var seen uint64
	reactivations := func() []gamify.Reactivation {
		var out []gamify.Reactivation
		for _, n := range newReminders(t, eng.Engine, &seen) {
			if r, ok := n.(gamify.Reactivation); ok {
				out = append(out, r)
			}
		}
		return out
	}
	last := time.Date(2026, 3, 10, 21, 0, 0, 0, ny) // Tuesday
	runAt(t, eng, last)
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	// 3 days idle is Friday 21:00; the first 20:00 after it is Saturday's.
	runAt(t, eng, time.Date(2026, 3, 13, 22, 0, 0, 0, ny))
	require.Empty(t, reactivations())
	sat := time.Date(2026, 3, 14, 20, 0, 0, 0, ny)
	runAt(t, eng, sat)
	got := reactivations()
	require.Len(t, got, 1)
	require.Equal(t, 1, got[0].Message)
	require.Equal(t, 3, got[0].DaysInactive)
	require.True(t, got[0].At.Equal(sat))
	require.True(t, got[0].LastActive.Equal(last))

	// Down from then until day 10: the 5-day message is skipped, the 7-day
	// one sent once (the latest due), late.
	runAt(t, eng, time.Date(2026, 3, 20, 9, 0, 0, 0, ny))
	got = reactivations()
	require.Len(t, got, 1)
	require.Equal(t, 3, got[0].Message)
	require.Equal(t, 7, got[0].DaysInactive)
	require.True(t, got[0].At.Equal(time.Date(2026, 3, 18, 20, 0, 0, 0, ny)), "At = %v", got[0].At)
	runAt(t, eng, time.Date(2026, 3, 20, 21, 0, 0, 0, ny))
	require.Empty(t, reactivations())

	// Back: the count starts again from the new latest event.
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 23, 20, 0, 0, 0, ny))
	require.Empty(t, reactivations(), "3 days after Friday 21:00 is Monday 21:00")
	runAt(t, eng, time.Date(2026, 3, 24, 20, 0, 0, 0, ny))
	got = reactivations()
	require.Len(t, got, 1)
	require.Equal(t, 1, got[0].Message)

	// Down for weeks: the latest message due (14 days, on 2026-04-04) is
	// more than 7 days old, so none is sent, and none later either.
	runAt(t, eng, time.Date(2026, 4, 12, 9, 0, 0, 0, ny))
	require.Empty(t, reactivations())
	runAt(t, eng, time.Date(2026, 6, 1, 20, 0, 0, 0, ny))
	require.Empty(t, reactivations())
}

// The recap of a week goes out at the first reminder hour of the next week
// to users with events in it: points, streak and achievements of the week.
func TestRecapSummarizesTheWeek(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, nil, nil)
	ctx := context.Background()
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-lesson", System: "xp", Kind: gamify.TriggerMetric,
		Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "first", Name: "First", Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1)})
	require.NoError(t, err)
	var seen uint64
	recaps := func() []gamify.Recap {
		var out []gamify.Recap
		for _, n := range newReminders(t, eng.Engine, &seen) {
			if r, ok := n.(gamify.Recap); ok {
				out = append(out, r)
			}
		}
		return out
	}
	// The week of Monday 2026-03-09: lessons on Wednesday and Thursday; one
	// user without events that week.
	runAt(t, eng, time.Date(2026, 3, 11, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	identify(t, eng, gamify.UserInput{ID: "idle", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 12, 9, 0, 0, 0, ny))
	remLesson(t, eng, "ana")
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 16, 19, 0, 0, 0, ny))
	require.Empty(t, recaps(), "before Monday's hour")
	mon := time.Date(2026, 3, 16, 20, 0, 0, 0, ny)
	runAt(t, eng, mon)
	got := recaps()
	require.Len(t, got, 1)
	r := got[0]
	require.Equal(t, "ana", r.User)
	require.Equal(t, gamify.Date{Year: 2026, Month: 3, Day: 9}, r.WeekStart)
	require.Equal(t, uint64(3), r.Events)
	require.Equal(t, map[string]gamify.Amount{"xp": gamify.AmountFromInt(30)}, r.Points)
	require.Equal(t, 0, r.Streak, "lost on Sunday")
	require.Equal(t, []string{"first"}, r.Achievements)
	require.True(t, r.At.Equal(mon))
	runAt(t, eng, time.Date(2026, 3, 17, 20, 0, 0, 0, ny))
	require.Empty(t, recaps(), "once a week")
	// A week without events sends none.
	runAt(t, eng, time.Date(2026, 3, 23, 20, 0, 0, 0, ny))
	require.Empty(t, recaps())
}

// A reminder hour missed by downtime is made up once while the streak can
// still be saved; one whose deadline passed is not sent.
func TestStreakReminderCatchUp(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, nil, nil)
	var seen uint64
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	identify(t, eng, gamify.UserInput{ID: "bob", TZ: "America/Chicago"})
	remLesson(t, eng, "ana")
	remLesson(t, eng, "bob")
	// Down from 19:00 to 23:30 New York (22:30 Chicago): both hours missed.
	runAt(t, eng, time.Date(2026, 3, 11, 19, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
	runAt(t, eng, time.Date(2026, 3, 11, 23, 30, 0, 0, ny))
	got := newReminders(t, eng.Engine, &seen)
	require.Len(t, got, 2)
	for _, n := range got {
		r := n.(gamify.StreakReminder)
		require.Equal(t, 20, r.At.In(mustZone(t, map[string]string{"ana": "America/New_York", "bob": "America/Chicago"}[r.User])).Hour())
	}
	// Down over a whole evening and past midnight: the streak is lost, nothing is sent.
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 13, 1, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
}

// AtRisk lists the users whose streak would be lost within the window,
// page by page; users who extended, opted out or have no streak are not
// listed, nor those whose deadline is further.
func TestStreaksAtRisk(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, nil, nil)
	ctx := context.Background()
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	zones := map[string]string{"ny1": "America/New_York", "ny2": "America/New_York", "ny3": "America/New_York",
		"la": "America/Los_Angeles", "tokyo": "Asia/Tokyo", "optout": "America/New_York", "met": "America/New_York", "none": "America/New_York"}
	for id, z := range zones {
		identify(t, eng, gamify.UserInput{ID: id, TZ: z})
		if id != "none" {
			remLesson(t, eng, id)
		}
	}
	_, err := eng.Users().PatchPreferences(ctx, "optout", func(p *gamify.Preferences) { p.Streak.OptOut = true })
	require.NoError(t, err)
	// 2026-03-11 20:00 New York: New York deadlines are in 4 h, Los
	// Angeles' in 7 h; Tokyo's day 2 (3-11) ended at 11:00 New York: lost.
	runAt(t, eng, time.Date(2026, 3, 11, 8, 0, 0, 0, ny))
	remLesson(t, eng, "met")
	runAt(t, eng, time.Date(2026, 3, 11, 20, 0, 0, 0, ny))

	all := func(within time.Duration, limit int) ([]string, int) {
		var ids []string
		pages := 0
		q := gamify.AtRiskQuery{Within: within, Limit: limit}
		for {
			p, err := eng.Streaks().AtRisk(ctx, q)
			require.NoError(t, err)
			pages++
			for _, u := range p.Users {
				ids = append(ids, u.User)
				require.Equal(t, 1, u.Length)
				require.True(t, u.Deadline.Equal(time.Date(2026, 3, 12, 0, 0, 0, 0, mustZone(t, zones[u.User]))), "%s: Deadline %v", u.User, u.Deadline)
			}
			if p.Next == "" {
				return ids, pages
			}
			q.After = p.Next
		}
	}
	ids, _ := all(5*time.Hour, 100)
	require.Equal(t, []string{"ny1", "ny2", "ny3"}, ids)
	ids, pages := all(8*time.Hour, 2)
	require.Equal(t, []string{"ny1", "ny2", "ny3", "la"}, ids)
	require.GreaterOrEqual(t, pages, 2)
	ids, _ = all(3*time.Hour, 0)
	require.Empty(t, ids)
	empty, err := eng.Streaks().AtRisk(ctx, gamify.AtRiskQuery{Within: 3 * time.Hour})
	require.NoError(t, err)
	b, err := json.Marshal(empty)
	require.NoError(t, err)
	require.Contains(t, string(b), `"Users":[]`, "an empty page is [] in JSON, as every list read")

	_, err = eng.Streaks().AtRisk(ctx, gamify.AtRiskQuery{Within: 0, Limit: 101, After: "x"})
	for _, f := range []string{"AtRiskQuery.Within", "AtRiskQuery.Limit", "AtRiskQuery.After"} {
		require.ErrorContains(t, err, f)
	}
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Streaks().AtRisk(ctx, gamify.AtRiskQuery{Streak: "nope", Within: time.Hour})
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestReminderOptionsAndPreferencesAreValidated(t *testing.T) {
	_, err := gamify.Open(filepath.Join(t.TempDir(), "x.db"), &gamify.Options{Reminders: &gamify.ReminderOptions{Hour: 25, ReactivationDays: []int{3, 3, 400}}})
	for _, f := range []string{"Options.Reminders.Hour", "Options.Reminders.ReactivationDays[1]", "Options.Reminders.ReactivationDays[2]"} {
		require.ErrorContains(t, err, f)
	}
	require.ErrorIs(t, err, gamify.ErrInvalid)
	eng := remindEngine(t, nil, nil)
	identify(t, eng, gamify.UserInput{ID: "ana"})
	_, err = eng.Users().PatchPreferences(context.Background(), "ana", func(p *gamify.Preferences) { p.ReminderHour = 25 })
	requireField(t, err, "Preferences.ReminderHour")
}

// A user's own reminder hour replaces the engine's.
func TestReminderHourPreference(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, nil, nil)
	var seen uint64
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	_, err := eng.Users().PatchPreferences(context.Background(), "ana", func(p *gamify.Preferences) { p.ReminderHour = 7 })
	require.NoError(t, err)
	runAt(t, eng, time.Date(2026, 3, 11, 6, 59, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
	runAt(t, eng, time.Date(2026, 3, 11, 7, 0, 0, 0, ny))
	require.Len(t, newReminders(t, eng.Engine, &seen), 1)
	runAt(t, eng, time.Date(2026, 3, 11, 20, 0, 0, 0, ny))
	require.Empty(t, newReminders(t, eng.Engine, &seen))
}

// A reminder hour costs the users due at it: with 30 users in Tokyo and one
// in New York, New York's hour processes one user.
func TestRemindersCostTheUsersDue(t *testing.T) {
	ny, tokyo := mustZone(t, "America/New_York"), mustZone(t, "Asia/Tokyo")
	eng := remindEngine(t, nil, nil)
	ctx := context.Background()
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, tokyo))
	for i := range 30 {
		id := "tokyo" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		identify(t, eng, gamify.UserInput{ID: id, TZ: "Asia/Tokyo"})
		remLesson(t, eng, id)
	}
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	runAt(t, eng, time.Date(2026, 3, 11, 19, 0, 0, 0, ny))
	eng.clock.Set(time.Date(2026, 3, 11, 20, 0, 0, 0, ny))
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// Reminders go out at 20:00 in each user's zone: Ana (New York) did her
// lesson yesterday, not yet today, so her streak is at risk tonight.
func ExampleReminderOptions() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gamify-example")
	defer os.RemoveAll(dir)
	ny, _ := time.LoadLocation("America/New_York")
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, ny))
	eng, err := gamify.Open(filepath.Join(dir, "game.db"), &gamify.Options{Clock: clock, Reminders: &gamify.ReminderOptions{Hour: 20}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily lesson", Frequency: gamify.StreakDaily, Default: true,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}})
	eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})

	clock.Set(time.Date(2026, 11, 3, 18, 0, 0, 0, ny))
	page, _ := eng.Streaks().AtRisk(ctx, gamify.AtRiskQuery{Within: 6 * time.Hour})
	for _, u := range page.Users {
		fmt.Printf("at risk: %s, %d day, until %s\n", u.User, u.Length, u.Deadline.In(ny).Format("Jan 2 15:04"))
	}
	clock.Set(time.Date(2026, 11, 3, 20, 0, 0, 0, ny))
	eng.RunDue(ctx)
	es, _ := eng.Outbox().Read(ctx, 0, 100)
	for _, e := range es {
		if r, ok := e.Notification.(gamify.StreakReminder); ok {
			fmt.Printf("%s reminder to %s on %v at %s\n", e.Type, r.User, r.Channels, r.At.In(ny).Format("Jan 2 15:04"))
		}
	}
	// Output:
	// at risk: ana, 1 day, until Nov 4 00:00
	// StreakReminder reminder to ana on [email push] at Nov 3 20:00
}

// A weekly streak is reminded on the last evening of its week only.
func TestStreakReminderWeekly(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	o := gamify.Options{Reminders: &gamify.ReminderOptions{}}
	eng := openTest(t, &o)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Streaks().Create(context.Background(), gamify.Streak{Key: "weekly", Name: "Weekly", Frequency: gamify.StreakWeekly, Default: true,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	var seen uint64
	streakReminders := func() []gamify.StreakReminder {
		var out []gamify.StreakReminder
		for _, n := range newReminders(t, eng.Engine, &seen) {
			if r, ok := n.(gamify.StreakReminder); ok {
				out = append(out, r)
			}
		}
		return out
	}
	runAt(t, eng, time.Date(2026, 3, 4, 9, 0, 0, 0, ny)) // Wednesday of the week of Monday 3-2
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	for d := 10; d <= 14; d++ { // Tuesday to Saturday of the next week
		runAt(t, eng, time.Date(2026, 3, d, 20, 0, 0, 0, ny))
		require.Empty(t, streakReminders(), "day %d", d)
	}
	sun := time.Date(2026, 3, 15, 20, 0, 0, 0, ny)
	runAt(t, eng, sun)
	got := streakReminders()
	require.Len(t, got, 1)
	r := got[0]
	require.True(t, r.At.Equal(sun))
	require.True(t, r.Deadline.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, ny)), "Deadline = %v", r.Deadline)
}

// After a clean Close nothing is replayed at Open: the scan that rebuilds
// the reminder queue alone finds the users due, the idle as well as the
// recently active, and skips those with nothing ahead.
func TestRemindersAfterCleanReopen(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, &gamify.ReminderOptions{ReactivationDays: []int{3}}, nil)
	var seen uint64
	runAt(t, eng, time.Date(2026, 3, 10, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	identify(t, eng, gamify.UserInput{ID: "bob", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	remLesson(t, eng, "bob")
	runAt(t, eng, time.Date(2026, 3, 11, 9, 0, 0, 0, ny))
	remLesson(t, eng, "ana")
	eng.reopen(t)
	require.Zero(t, eng.Stats().Replayed)
	runAt(t, eng, time.Date(2026, 3, 12, 20, 0, 0, 0, ny))
	got := newReminders(t, eng.Engine, &seen)
	require.Len(t, got, 1)
	require.Equal(t, "ana", got[0].(gamify.StreakReminder).User)
	eng.reopen(t)
	runAt(t, eng, time.Date(2026, 3, 13, 20, 0, 0, 0, ny))
	got = newReminders(t, eng.Engine, &seen)
	require.Len(t, got, 1, "bob's reactivation, 3 days after his lesson")
	require.Equal(t, "bob", got[0].(gamify.Reactivation).User)
}

// TestReminderTypesTurnKindsOff: ReminderOptions.Types sends only the
// reminders listed: with streak reminders alone, an idle user gets no
// reactivation message and an active one no recap; a bad type is refused.
func TestReminderTypesTurnKindsOff(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	eng := remindEngine(t, &gamify.ReminderOptions{Types: []gamify.NotificationType{gamify.NotifyStreakReminder}}, nil)
	var seen uint64
	runAt(t, eng, time.Date(2026, 3, 11, 9, 0, 0, 0, ny))
	identify(t, eng, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	identify(t, eng, gamify.UserInput{ID: "idle", TZ: "America/New_York"})
	remLesson(t, eng, "ana")
	remLesson(t, eng, "idle")
	kinds := map[string]int{}
	for day := 11; day <= 24; day++ {
		if day == 12 {
			remLesson(t, eng, "ana")
		}
		runAt(t, eng, time.Date(2026, 3, day, 20, 0, 0, 0, ny))
		for _, n := range newReminders(t, eng.Engine, &seen) {
			kinds[fmt.Sprintf("%T", n)]++
		}
	}
	require.NotZero(t, kinds["gamify.StreakReminder"], "streak reminders go out: %v", kinds)
	require.Zero(t, kinds["gamify.Reactivation"], "%v", kinds)
	require.Zero(t, kinds["gamify.Recap"], "%v", kinds)

	_, err := gamify.Open(filepath.Join(t.TempDir(), "x.db"), &gamify.Options{Reminders: &gamify.ReminderOptions{
		Types: []gamify.NotificationType{gamify.NotifyRecap, gamify.NotifyRecap, gamify.NotifyAchievementCompleted}}})
	for _, f := range []string{"Options.Reminders.Types[1]", "Options.Reminders.Types[2]"} {
		require.ErrorContains(t, err, f)
	}
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

// One reminder per deadline: a user whose zone changes after the evening's
// reminder (UTC to Honolulu, the same day lasting ten hours longer) gets
// no second one for that day at the new zone's hour, in the file too.
func TestReminderNotRepeatedAfterAZoneChange(t *testing.T) {
	eng := remindEngine(t, nil, nil)
	var seen uint64
	runAt(t, eng, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))
	identify(t, eng, gamify.UserInput{ID: "z", TZ: "UTC"})
	remLesson(t, eng, "z")
	runAt(t, eng, time.Date(2026, 11, 3, 20, 0, 0, 0, time.UTC))
	require.Len(t, newReminders(t, eng.Engine, &seen), 1)
	runAt(t, eng, time.Date(2026, 11, 3, 20, 30, 0, 0, time.UTC))
	identify(t, eng, gamify.UserInput{ID: "z", TZ: "Pacific/Honolulu"})
	eng.reopen(t) // the record of what was sent survives
	honolulu := mustZone(t, "Pacific/Honolulu")
	for _, at := range []time.Time{time.Date(2026, 11, 3, 20, 0, 0, 0, honolulu), time.Date(2026, 11, 3, 23, 0, 0, 0, honolulu)} {
		runAt(t, eng, at)
		require.Empty(t, newReminders(t, eng.Engine, &seen), "the same day's deadline, moved by the zone: at %v", at)
	}
}
