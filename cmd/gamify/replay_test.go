package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// crashCopy leaves, beside a copy of the seeded file, the command log of an
// engine that tracked n more events and did not close: a crash image.
func crashCopy(t *testing.T, n int) (path, log string) {
	t.Helper()
	src := seedDB(t)
	eng, err := gamify.Open(src, &gamify.Options{Clock: gamify.NewManualClock(time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)),
		CheckpointInterval: time.Hour, CheckpointSize: 1 << 40})
	require.NoError(t, err)
	ctx := context.Background()
	for range n {
		_, err := eng.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: 1})
		require.NoError(t, err)
	}
	require.NoError(t, eng.Flush(ctx))
	dir := t.TempDir()
	path = filepath.Join(dir, "copy.db")
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	log = filepath.Join(dir, "saved.log")
	require.NoError(t, copyLog(src+".log", log))
	require.NoError(t, eng.Close())
	return path, log
}

func wordsOf(t *testing.T, path, user string) string {
	t.Helper()
	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	defer eng.Close()
	um, err := eng.Users().Metric(context.Background(), user, "words")
	require.NoError(t, err)
	return um.Total.String()
}

func TestReplayRollsAFileForward(t *testing.T) {
	path, log := crashCopy(t, 5)
	code, out, errs := runCmd("replay", "--db", path, "--log", log, "--json")
	require.Equal(t, exitOK, code, errs)
	var sum struct {
		Replayed uint64 `json:"replayed"`
		Failed   uint64 `json:"failed"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.Equal(t, uint64(5), sum.Replayed)
	require.Zero(t, sum.Failed)
	require.NoDirExists(t, path+".log", "folded into the file and removed")
	require.Equal(t, "12", wordsOf(t, path, "ana"))

	// Nothing is left to replay; the saved log again holds only commands
	// the file has folded: nothing is applied twice.
	code, _, errs = runCmd("replay", "--db", path)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errs, "no command log")
	code, _, errs = runCmd("replay", "--db", path, "--log", log)
	require.Equal(t, exitOK, code, errs)
	require.Equal(t, "12", wordsOf(t, path, "ana"), "a log the file already holds applies nothing twice")
}

func TestReplayRefusesALogOfAnotherFile(t *testing.T) {
	_, log := crashCopy(t, 3)
	other := seedDB(t) // another history: its checkpoint is ahead of nothing in that log
	eng, err := gamify.Open(other, &gamify.Options{Clock: gamify.NewManualClock(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	for range 40 { // moves this file's checkpoint past the saved log's end
		_, err := eng.Track(context.Background(), gamify.Event{Metric: "words", User: "bo", Value: 1})
		require.NoError(t, err)
	}
	require.NoError(t, eng.Close())
	before, err := os.ReadFile(other)
	require.NoError(t, err)
	code, _, errs := runCmd("replay", "--db", other, "--log", log)
	require.Equal(t, exitFailure, code, errs)
	require.Contains(t, errs, "command log")
	require.NoDirExists(t, other+".log", "the refused copy is removed")
	after, err := os.ReadFile(other)
	require.NoError(t, err)
	require.Equal(t, len(before), len(after))
	require.Equal(t, "43", wordsOf(t, other, "bo"))
}

// TestReplayRefusesALogWithoutSegments: a --log directory holding no
// segment is no log to replay (exit 1), and the file is left as it was.
func TestReplayRefusesALogWithoutSegments(t *testing.T) {
	path := seedDB(t)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o600))
	code, out, errs := runCmd("replay", "--db", path, "--log", empty)
	require.Equal(t, exitFailure, code, out)
	require.Contains(t, errs, "no log to replay")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.NoDirExists(t, path+".log")
	code, _, _ = runCmd("replay", "--db", path, "--log", filepath.Join(empty, "none"))
	require.Equal(t, exitFailure, code)
}
