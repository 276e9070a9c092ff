package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestImport1M is the figure of docs/cli.md and bench/RESULTS.md: an import
// of 1M events of 10k users, with its progress line on stderr. It is off by
// default (a minute of a busy machine); run it with
//
//	GAMIFY_IMPORT_1M=1 go test -run TestImport1M -v ./cmd/gamify
func TestImport1M(t *testing.T) {
	if os.Getenv("GAMIFY_IMPORT_1M") == "" {
		t.Skip("set GAMIFY_IMPORT_1M=1 to import 1M events")
	}
	events, users := 1_000_000, 10_000
	if n, err := strconv.Atoi(os.Getenv("GAMIFY_IMPORT_1M")); err == nil && n > 1 {
		events = n // a smaller run, to profile
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "events.jsonl")
	f, err := os.Create(in)
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, `{"kind":"header","format":"gamify-export","version":1}`)
	fmt.Fprintln(w, `{"kind":"metric","data":{"Key":"words","Name":"Words"}}`)
	fmt.Fprintln(w, `{"kind":"points","data":{"Key":"xp","Name":"XP"}}`)
	fmt.Fprintln(w, `{"kind":"trigger","data":{"Key":"xp-words","System":"xp","Kind":"metric","Metric":"words","Threshold":"10","Points":"1"}}`)
	fmt.Fprintln(w, `{"kind":"leaderboard","data":{"Key":"top","Name":"Top","RankBy":"metric","Metric":"words"}}`)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range events {
		// Users in a fixed shuffle (a stride prime to 10k), one second apart.
		fmt.Fprintf(w, `{"kind":"event","seq":%d,"user":"u%05d","metric":"words","amount":"%d","time":"%s","key":"k%d"}`+"\n",
			i+1, (i*7919)%users, 1+i%9, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i+1)
	}
	fmt.Fprintln(w, `{"kind":"end"}`)
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	fi, err := os.Stat(in)
	require.NoError(t, err)
	t.Logf("%s: %d bytes", in, fi.Size())

	db := filepath.Join(dir, "game.db")
	start := time.Now()
	var out syncBuffer
	code := run(context.Background(), []string{"import", "--db", db, "--in", in, "--progress"}, &out, os.Stderr, noEnv)
	el := time.Since(start)
	require.Equal(t, exitOK, code)
	t.Logf("%s", out.String())
	t.Logf("%d events in %v: %.0f events/s", events, el.Round(time.Millisecond), float64(events)/el.Seconds())

	// The same file again: every event a replay.
	start = time.Now()
	out = syncBuffer{}
	code = run(context.Background(), []string{"import", "--db", db, "--in", in, "--progress"}, &out, os.Stderr, noEnv)
	el = time.Since(start)
	require.Equal(t, exitOK, code)
	t.Logf("again: %s", out.String())
	t.Logf("again: %d replays in %v: %.0f events/s", events, el.Round(time.Millisecond), float64(events)/el.Seconds())

	// And the database out again.
	start = time.Now()
	out = syncBuffer{}
	code = run(context.Background(), []string{"export", "--db", db, "--out", filepath.Join(dir, "again.jsonl")}, &out, os.Stderr, noEnv)
	el = time.Since(start)
	require.Equal(t, exitOK, code)
	t.Logf("export: %s", out.String())
	t.Logf("export: %.0f lines/s", float64(events)/el.Seconds())
}
