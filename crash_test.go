package gamify_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// crashChildEnv makes the test binary act as the crashing child process.
const crashChildEnv = "GAMIFY_CRASH_CHILD"

// TestMain lets the crash test re-run this binary as a child that dies
// without closing the engine.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if spec := os.Getenv(crashKillChildEnv); spec != "" {
		crashKillChild(spec) // TestCrashKill's child, in crashkill_test.go
		return
	}
	if spec := os.Getenv(outboxKillChildEnv); spec != "" {
		outboxKillChild(spec) // in outbox_crash_test.go
		return
	}
	if spec := os.Getenv(remindKillChildEnv); spec != "" {
		remindKillChild(spec) // in reminders_crash_test.go
		return
	}
	code := m.Run()
	failures, unlogged, unapplied := gamify.CodecFailures()
	if !fullRun() {
		unapplied = nil
	}
	if bad := slices.Concat(failures, unlogged, unapplied); len(bad) > 0 {
		fmt.Fprintln(os.Stderr, "commands that the command log cannot hold (commands.go):")
		for _, f := range bad {
			fmt.Fprintln(os.Stderr, "  ", f)
		}
		code = max(code, 1)
	}
	os.Exit(code)
}

// fullRun reports whether every test ran (no -run, no -short), so that an
// op no test applied is a gap rather than a filter.
func fullRun() bool {
	f := flag.Lookup("test.run")
	return f != nil && f.Value.String() == "" && !testing.Short()
}

// crashChild tracks events in Buffered mode, logging each acknowledged
// event number, and exits abruptly (no Close, no Flush) part-way.
func crashChild(dir string) {
	ctx := context.Background()
	eng, err := gamify.Open(filepath.Join(dir, "crash.db"), &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: 2 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	acks, err := os.Create(filepath.Join(dir, "acks"))
	if err != nil {
		os.Exit(2)
	}
	w := bufio.NewWriter(acks)
	stopAt := 2000 + time.Now().Nanosecond()%3000
	for i := 0; ; i++ {
		if i == stopAt {
			w.Flush()
			os.Exit(3) // the crash: no Close, no Flush of the engine
		}
		if _, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "u" + strconv.Itoa(i%7), Value: 1, IdempotencyKey: strconv.Itoa(i)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(w, i)
	}
}

func TestBufferedCrashLosesOnlyASuffixAndRetryAppliesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	ctx := context.Background()
	for round := range 3 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "child output: %s", out)
		require.Equal(t, 3, exit.ExitCode(), "child output: %s", out)

		acked := 0
		f, err := os.Open(filepath.Join(dir, "acks"))
		require.NoError(t, err)
		for s := bufio.NewScanner(f); s.Scan(); acked++ {
			require.Equal(t, strconv.Itoa(acked), s.Text())
		}
		f.Close()

		eng, err := gamify.Open(filepath.Join(dir, "crash.db"), nil)
		require.NoError(t, err)
		require.NoError(t, eng.Check(ctx), "a crash never corrupts")
		var committed gamify.Amount
		for u := range 7 {
			m, err := eng.Users().Metric(ctx, "u"+strconv.Itoa(u), "xp")
			if err == nil {
				committed = committed.Add(m.Total)
			}
		}
		n := int(committed.Floor())
		require.LessOrEqual(t, n, acked)
		// Batches commit in order, so what survived is a prefix: every event
		// before the first lost one is present, none after it.
		for lo := 0; lo < acked; lo += 1000 {
			var evs []gamify.Event
			for i := lo; i < min(lo+1000, acked); i++ {
				evs = append(evs, gamify.Event{Metric: "xp", User: "u" + strconv.Itoa(i%7), Value: 1, IdempotencyKey: strconv.Itoa(i)})
			}
			rs, err := eng.TrackBatch(ctx, evs)
			require.NoError(t, err)
			for j, r := range rs {
				i := lo + j
				require.Equal(t, i < n, r.IdempotentReplayed, "round %d event %d of %d acked, %d committed", round, i, acked, n)
			}
		}
		var total gamify.Amount
		for u := range 7 {
			m, err := eng.Users().Metric(ctx, "u"+strconv.Itoa(u), "xp")
			require.NoError(t, err)
			total = total.Add(m.Total)
		}
		require.Equal(t, gamify.AmountFromInt(int64(acked)), total, "after the retry every acknowledged event counts once")
		require.NoError(t, eng.Check(ctx))
		require.NoError(t, eng.Close())
		t.Logf("round %d: %d acknowledged, %d survived the crash", round, acked, n)
	}
}
