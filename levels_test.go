package gamify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

type levelNotes struct {
	mu    sync.Mutex
	moves map[string]gamify.LevelChange // by user, the last level change
	n     int
}

func (l *levelNotes) add(n gamify.Notification) {
	if p, ok := n.(gamify.PointsChanged); ok && p.Level != nil {
		l.mu.Lock()
		l.moves[p.User] = *p.Level
		l.n++
		l.mu.Unlock()
	}
}

func (l *levelNotes) reset() {
	l.mu.Lock()
	l.moves, l.n = map[string]gamify.LevelChange{}, 0
	l.mu.Unlock()
}

func (l *levelNotes) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func levelEngine(t *testing.T) (*testEngine, *levelNotes) {
	t.Helper()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, NotifyBuffer: 1 << 14})
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Points().Create(context.Background(), gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(context.Background(), perUnits("per1", "xp", 1, 1))
	require.NoError(t, err)
	mustLevels(t, eng, "coins", gamify.Level{Key: "bronze", Level: 1, Name: "Bronze"},
		gamify.Level{Key: "silver", Level: 2, Name: "Silver", Threshold: gamify.AmountFromInt(50)},
		gamify.Level{Key: "gold", Level: 3, Name: "Gold", Threshold: gamify.AmountFromInt(100)},
		gamify.Level{Key: "platinum", Level: 4, Name: "Platinum", Threshold: gamify.AmountFromInt(200)})
	notes := &levelNotes{moves: map[string]gamify.LevelChange{}}
	sub := eng.Subscribe(notes.add)
	t.Cleanup(sub.Close)
	return eng, notes
}

func listLevel(t *testing.T, eng *testEngine, level string) int {
	t.Helper()
	p, err := eng.Users().List(context.Background(), gamify.UserQuery{System: "coins", Level: level, PageSize: 1})
	require.NoError(t, err)
	return p.Total
}

// Deleting a level moves its users (more than one chunk of them) to the
// level of their total, unpins those pinned to it, notifies each move, and
// the users list follows.
func TestDeleteLevelMovesItsUsers(t *testing.T) {
	ctx := context.Background()
	eng, notes := levelEngine(t)
	const golds = 520 // more than one chunk
	for i := range golds {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprintf("g%03d", i), Value: 150})
		require.NoError(t, err)
	}
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "pinned", Value: 10})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "plat", Value: 250})
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	_, err = eng.Points().PinLevel(ctx, "coins", "pinned", "gold")
	require.NoError(t, err)
	require.Equal(t, golds+1, listLevel(t, eng, "gold"), "the users list is built before the delete, and must follow it")
	// Each user was created below bronze, then reached their level.
	require.Eventually(t, func() bool { return notes.count() == 2*golds+4 }, 5*time.Second, time.Millisecond)
	notes.reset()

	require.NoError(t, eng.Points().Levels("coins").Delete(ctx, "gold"))
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, golds+2, "every user was examined")

	for _, u := range []string{"g000", "g519"} {
		up, err := eng.Users().Points(ctx, u, "coins")
		require.NoError(t, err)
		require.Equal(t, "silver", up.Level, u)
		require.Equal(t, "150", up.Total.String(), "the total does not change")
	}
	up, err := eng.Users().Points(ctx, "pinned", "coins")
	require.NoError(t, err)
	require.Equal(t, "bronze", up.Level)
	require.False(t, up.Pinned, "a pin to the deleted level is cleared")
	up, err = eng.Users().Points(ctx, "plat", "coins")
	require.NoError(t, err)
	require.Equal(t, "platinum", up.Level)

	require.Equal(t, 0, listLevel(t, eng, "gold"))
	require.Equal(t, golds, listLevel(t, eng, "silver"))
	require.Equal(t, 1, listLevel(t, eng, "bronze"))
	require.Equal(t, 1, listLevel(t, eng, "platinum"))
	require.Eventually(t, func() bool { return notes.count() == golds+1 }, 5*time.Second, time.Millisecond, "one notification per user moved")
	require.Never(t, func() bool { return notes.count() > golds+1 }, 50*time.Millisecond, time.Millisecond)
	notes.mu.Lock()
	require.NotContains(t, notes.moves, "plat")
	require.Equal(t, gamify.LevelChange{From: "gold", To: "silver"}, notes.moves["g007"], "a demotion")
	require.Equal(t, gamify.LevelChange{From: "gold", To: "bronze"}, notes.moves["pinned"])
	notes.mu.Unlock()

	// Nothing is left to do, and a reopened engine agrees.
	n, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	eng.reopen(t)
	require.Equal(t, 0, listLevel(t, eng, "gold"))
	require.Equal(t, golds, listLevel(t, eng, "silver"))
}

// A moved threshold and a new level move the users they concern, as a
// deleted level does: every read agrees once the job ran, and the next event
// reports no level change of its own.
func TestLadderChangesMoveUsers(t *testing.T) {
	ctx := context.Background()
	eng, notes := levelEngine(t)
	for u, v := range map[string]float64{"ana": 80, "bo": 30, "cy": 120} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: v})
		require.NoError(t, err)
	}
	_, err := eng.Points().PinLevel(ctx, "coins", "bo", "bronze")
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	require.Eventually(t, func() bool { return notes.count() == 5 }, 5*time.Second, time.Millisecond)
	notes.reset()
	level := func(u string) gamify.UserPoints {
		t.Helper()
		up, err := eng.Users().Points(ctx, u, "coins")
		require.NoError(t, err)
		return up
	}
	require.Equal(t, "silver", level("ana").Level)

	// Gold from 100 down to 60: ana (80) is promoted, cy (120) stays gold.
	_, err = eng.Points().Levels("coins").Patch(ctx, "gold", func(l *gamify.Level) { l.Threshold = gamify.AmountFromInt(60) })
	require.NoError(t, err)
	// A new level above them all, which nobody reaches, and one at 25 that
	// takes bo's total but not their pin.
	mustLevels(t, eng, "coins", gamify.Level{Key: "diamond", Level: 5, Name: "Diamond", Threshold: gamify.AmountFromInt(1000)},
		gamify.Level{Key: "copper", Level: 6, Name: "Copper", Threshold: gamify.AmountFromInt(25)})
	require.Equal(t, "silver", level("ana").Level, "until the job runs, reads show the old level")
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)

	ana := level("ana")
	require.Equal(t, "gold", ana.Level)
	require.Equal(t, "platinum", ana.NextLevel)
	require.Equal(t, "80", ana.Total.String())
	require.Equal(t, "gold", level("cy").Level)
	bo := level("bo")
	require.Equal(t, "bronze", bo.Level)
	require.True(t, bo.Pinned, "a pin to a level of the ladder holds")
	require.Equal(t, 2, listLevel(t, eng, "gold"))
	require.Equal(t, 0, listLevel(t, eng, "silver"))
	require.Eventually(t, func() bool { return notes.count() == 1 }, 5*time.Second, time.Millisecond)
	require.Never(t, func() bool { return notes.count() > 1 }, 50*time.Millisecond, time.Millisecond)
	notes.mu.Lock()
	require.Equal(t, gamify.LevelChange{From: "silver", To: "gold", Promotion: true}, notes.moves["ana"])
	notes.mu.Unlock()
	per, err := eng.Points().UsersPerLevel(ctx, "coins")
	require.NoError(t, err)
	counts := map[string]int{}
	for _, c := range per {
		counts[c.Level] = c.Users
	}
	require.Equal(t, map[string]int{"": 0, "bronze": 1, "copper": 0, "silver": 0, "gold": 2, "platinum": 0, "diamond": 0}, counts)

	// The next event awards points and reports no level change of its own.
	res, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Len(t, res.Points, 1)
	require.Nil(t, res.Points[0].Level)
}

// Deactivating a level moves its users too; the pending move survives a
// restart, and the users move to the ladder of the moment the job runs.
func TestDeactivateLevelMovesItsUsersAfterARestart(t *testing.T) {
	ctx := context.Background()
	eng, _ := levelEngine(t)
	for _, u := range []string{"a", "b"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 60})
		require.NoError(t, err)
	}
	_, err := eng.Points().PinLevel(ctx, "coins", "b", "platinum")
	require.NoError(t, err)
	_, err = eng.Points().Levels("coins").Deactivate(ctx, "silver")
	require.NoError(t, err)
	_, err = eng.Points().Levels("coins").Deactivate(ctx, "platinum")
	require.NoError(t, err)
	up, err := eng.Users().Points(ctx, "a", "coins")
	require.NoError(t, err)
	require.Equal(t, "silver", up.Level, "the move is eventual: it waits for the job")

	eng.reopen(t) // Open catches up on pending jobs
	up, err = eng.Users().Points(ctx, "a", "coins")
	require.NoError(t, err)
	require.Equal(t, "bronze", up.Level)
	up, err = eng.Users().Points(ctx, "b", "coins")
	require.NoError(t, err)
	require.Equal(t, "bronze", up.Level)
	require.False(t, up.Pinned)
	require.Equal(t, 2, listLevel(t, eng, "bronze"))
	require.Equal(t, 0, listLevel(t, eng, "silver"))

	// Activated again before its job runs, a level keeps its users.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "c", Value: 120})
	require.NoError(t, err)
	_, err = eng.Points().Levels("coins").Deactivate(ctx, "gold")
	require.NoError(t, err)
	_, err = eng.Points().Levels("coins").Activate(ctx, "gold")
	require.NoError(t, err)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	up, err = eng.Users().Points(ctx, "c", "coins")
	require.NoError(t, err)
	require.Equal(t, "gold", up.Level)
}
