package gamify_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// crashImage copies the file and its command log as a crash would leave
// them: eng is open, everything it acknowledged is in the log, nothing was
// checkpointed since Open.
func crashImage(t *testing.T, eng *testEngine) string {
	t.Helper()
	require.NoError(t, eng.Flush(context.Background()))
	path := filepath.Join(t.TempDir(), "crashed.db")
	b, err := os.ReadFile(eng.path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	copyDir(t, eng.path+".log", path+".log")
	return path
}

func onlySegment(t *testing.T, path string) string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(path+".log", "*.log"))
	require.NoError(t, err)
	require.Len(t, segs, 1)
	return segs[0]
}

func trackN(t *testing.T, eng *testEngine, n int) {
	t.Helper()
	for i := range n {
		_, err := eng.Track(context.Background(), gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: string(rune('a' + i))})
		require.NoError(t, err)
	}
}

// A crash image opens with every acknowledged command, replayed from the
// log; a torn tail (an append cut short) is cut away; a damaged record with
// good ones after it is refused, the files untouched.
func TestCommandLogAfterCrash(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	trackN(t, eng, 10)

	t.Run("replayed", func(t *testing.T) {
		path := crashImage(t, eng)
		e, err := gamify.Open(path, &gamify.Options{Clock: eng.clock})
		require.NoError(t, err)
		require.Positive(t, e.Stats().Replayed)
		um, err := e.Users().Metric(ctx, "ana", "xp")
		require.NoError(t, err)
		require.Equal(t, "10", um.Total.String())
		require.NoError(t, e.Check(ctx))
		require.NoError(t, e.Close())
		require.NoDirExists(t, path+".log", "a clean Close leaves no log")
		e, err = gamify.Open(path, &gamify.Options{Clock: eng.clock})
		require.NoError(t, err)
		um, err = e.Users().Metric(ctx, "ana", "xp")
		require.NoError(t, err)
		require.Equal(t, "10", um.Total.String(), "folded into the file by Close")
		require.NoError(t, e.Close())
	})

	t.Run("torn tail", func(t *testing.T) {
		path := crashImage(t, eng)
		seg := onlySegment(t, path)
		f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.Write([]byte{0, 0, 0, 40, 1, 2, 3}) // half a frame
		require.NoError(t, err)
		require.NoError(t, f.Close())
		e, err := gamify.Open(path, &gamify.Options{Clock: eng.clock})
		require.NoError(t, err)
		um, err := e.Users().Metric(ctx, "ana", "xp")
		require.NoError(t, err)
		require.Equal(t, "10", um.Total.String())
		_, err = e.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
		require.NoError(t, err, "the log goes on after the cut")
		require.NoError(t, e.Close())
	})

	t.Run("damaged record", func(t *testing.T) {
		path := crashImage(t, eng)
		seg := onlySegment(t, path)
		b, err := os.ReadFile(seg)
		require.NoError(t, err)
		b[20] ^= 0xff // inside the first record's payload; good records follow
		require.NoError(t, os.WriteFile(seg, b, 0o600))
		_, err = gamify.Open(path, &gamify.Options{Clock: eng.clock})
		require.ErrorIs(t, err, gamify.ErrCorrupt)
		got, err := os.ReadFile(seg)
		require.NoError(t, err)
		require.Equal(t, b, got, "a refused log is left as it was")
	})

	t.Run("lost log", func(t *testing.T) {
		// A log deleted by hand loses what no checkpoint folded (here,
		// everything since Open): Open cannot tell it from a file without
		// a log, and starts a new one after the file's checkpoint.
		path := crashImage(t, eng)
		require.NoError(t, os.Remove(onlySegment(t, path)))
		e, err := gamify.Open(path, &gamify.Options{Clock: eng.clock})
		require.NoError(t, err)
		um, err := e.Users().Metric(ctx, "ana", "xp")
		if err == nil {
			require.Equal(t, "0", um.Total.String())
		} else {
			require.ErrorIs(t, err, gamify.ErrNotFound)
		}
		require.NoError(t, e.Close())
	})
}

// A failed checkpoint keeps everything staged and in the log: reads go on,
// the next checkpoint folds it, and nothing is lost across a reopen.
func TestFailedCheckpointIsRetried(t *testing.T) {
	ctx := context.Background()
	fail := errors.New("disk on fire")
	var armed bool
	opts := &gamify.Options{}
	gamify.SetBeforeCheckpoint(opts, func() error {
		if armed {
			armed = false
			return fail
		}
		return nil
	})
	eng := openTest(t, opts)
	mustMetric(t, eng.Engine, "xp")
	trackN(t, eng, 5)
	armed = true
	require.ErrorIs(t, gamify.Checkpoint(eng.Engine), fail)
	st := eng.Stats()
	require.Equal(t, uint64(1), st.CheckpointFailures)
	require.Positive(t, st.StagedRecords, "still staged")
	um, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "5", um.Total.String())
	require.NoError(t, gamify.Checkpoint(eng.Engine))
	st = eng.Stats()
	require.Zero(t, st.StagedRecords)
	require.Equal(t, st.LogPosition, st.CheckpointPosition)
	eng.reopen(t)
	um, err = eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "5", um.Total.String())
}

// A checkpoint that fails is not retried after every batch, though what is
// staged still makes one due: the next try waits CheckpointInterval (or an
// explicit checkpoint), and a success ends the wait.
func TestFailedCheckpointWaitsTheInterval(t *testing.T) {
	fail := errors.New("disk full")
	var failing atomic.Bool
	var tries atomic.Int64
	opts := &gamify.Options{CheckpointInterval: time.Hour, CheckpointSize: 1}
	gamify.SetBeforeCheckpoint(opts, func() error {
		if failing.Load() {
			tries.Add(1)
			return fail
		}
		return nil
	})
	eng := openTest(t, opts)
	failing.Store(true)
	mustMetric(t, eng.Engine, "xp") // its batch makes a checkpoint due: it fails
	require.Eventually(t, func() bool { return tries.Load() == 1 }, 5*time.Second, time.Millisecond)
	trackN(t, eng, 30) // 30 batches, each leaving more staged
	require.Equal(t, int64(1), tries.Load(), "no retry before CheckpointInterval")
	require.Equal(t, uint64(1), eng.Stats().CheckpointFailures)

	failing.Store(false)
	require.NoError(t, gamify.Checkpoint(eng.Engine))
	done := eng.Stats().Checkpoints
	trackN(t, eng, 1)
	require.Eventually(t, func() bool { return eng.Stats().Checkpoints > done }, 5*time.Second, time.Millisecond,
		"after a success, staged records make a checkpoint due again")
}

// Compact of a file a crash left with a command log folds the log in first:
// nothing acknowledged is lost, and no log (with its commands of erased
// users) survives beside the compacted file.
func TestCompactFoldsACrashedLog(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	trackN(t, eng, 4)
	path := crashImage(t, eng)
	require.NoError(t, gamify.Compact(path))
	require.NoDirExists(t, path+".log")
	e, err := gamify.Open(path, &gamify.Options{Clock: eng.clock})
	require.NoError(t, err)
	require.Zero(t, e.Stats().Replayed, "the compacted file holds everything itself")
	um, err := e.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "4", um.Total.String())
	require.NoError(t, e.Close())
}

// Two copies of a file that went different ways after the same position
// hold logs whose positions match: Open took the other copy's log and
// replayed its commands onto this file. The record at the file's
// checkpoint position, which the checkpoint tags, now tells them apart.
func TestLogOfAnotherCopyRefused(t *testing.T) {
	ctx := context.Background()
	opts := &gamify.Options{CheckpointInterval: time.Hour}
	history := func(last float64) *testEngine {
		eng := openTest(t, opts)
		mustMetric(t, eng.Engine, "xp")
		trackN(t, eng, 2)
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: last})
		require.NoError(t, err)
		require.NoError(t, gamify.Checkpoint(eng.Engine))
		return eng
	}
	mine, other := history(1), history(5)
	require.Equal(t, mine.Stats().CheckpointPosition, other.Stats().CheckpointPosition)
	_, err := other.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 100})
	require.NoError(t, err)

	path := crashImage(t, mine)
	require.NoError(t, os.RemoveAll(path+".log"))
	copyDir(t, crashImage(t, other)+".log", path+".log")
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = gamify.Open(path, &gamify.Options{Clock: mine.clock})
	require.ErrorIs(t, err, gamify.ErrCorrupt, "the other copy's log would add its 100 to this file's 3")
	require.ErrorContains(t, err, "another copy")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(before, after), "a refused Open leaves the file's bytes as they were")

	own := crashImage(t, mine)
	e, err := gamify.Open(own, &gamify.Options{Clock: mine.clock})
	require.NoError(t, err, "the file's own log")
	um, err := e.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "3", um.Total.String())
	require.NoError(t, e.Close())
}
