package gamify_test

import (
	"context"
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

var _ = filepath.Join
