package gamify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// remindKillChildEnv makes the test binary run TestRemindersCrashKill's
// child; its value is the child's JSON configuration.
const remindKillChildEnv = "GAMIFY_REMIND_KILL_CHILD"

type remindKillSpec struct {
	Dir      string
	FirstDay int // the child's first day (days after remindDay0)
}

const remindKillUsers = 100

var remindDay0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func remindKillOpts(at time.Time) *gamify.Options {
	// Entries are kept: the check reads every reminder ever sent.
	return &gamify.Options{Clock: gamify.NewManualClock(at), Reminders: &gamify.ReminderOptions{}, OutboxMaxAge: 1000 * 24 * time.Hour}
}

// remindKillChild runs days until it is killed: at 20:00 UTC it runs what
// is due (each user's streak is at risk: one StreakReminder each), at 21:00
// every user tracks a lesson (one batch). Its side log holds, one write(2) per line:
//
//	C <unix ns>  the clock is set to this
//	B <day>      RunDue of the day's 20:00 starts
//	R <day>      it returned nil
//	T <day>      every user tracked on the day
func remindKillChild(spec string) {
	var s remindKillSpec
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fail(err)
	}
	ctx := context.Background()
	opts := remindKillOpts(remindDay0.AddDate(0, 0, s.FirstDay).Add(19 * time.Hour))
	clock := opts.Clock.(*gamify.ManualClock)
	eng, err := gamify.Open(filepath.Join(s.Dir, "kill.db"), opts)
	if err != nil {
		fail(err)
	}
	if _, err := eng.Metrics().Get(ctx, "lessons"); err != nil {
		if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"}); err != nil {
			fail(err)
		}
		if _, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, Default: true,
			Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}}); err != nil {
			fail(err)
		}
	}
	side, err := os.OpenFile(filepath.Join(s.Dir, "side"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fail(err)
	}
	logf := func(format string, args ...any) {
		if _, err := side.WriteString(fmt.Sprintf(format, args...) + "\n"); err != nil {
			fail(err)
		}
	}
	set := func(at time.Time) {
		logf("C %d", at.UnixNano())
		clock.Set(at)
	}
	for d := s.FirstDay; ; d++ {
		day := remindDay0.AddDate(0, 0, d)
		set(day.Add(20 * time.Hour))
		logf("B %d", d)
		if _, err := eng.RunDue(ctx); err != nil {
			fail(err)
		}
		logf("R %d", d)
		set(day.Add(21 * time.Hour))
		evs := make([]gamify.Event, remindKillUsers)
		for u := range evs {
			evs[u] = gamify.Event{Metric: "lessons", User: "u" + strconv.Itoa(u), Value: 1}
		}
		if _, err := eng.TrackBatch(ctx, evs); err != nil { // one commit, as the evening's reminders
			fail(err)
		}
		logf("T %d", d)
	}
}

// TestRemindersCrashKill kills a child that sends evening streak reminders
// and tracks lessons (SIGKILL at a random moment, several rounds on one
// file), reopens the file half an hour after the child's last clock and
// runs what is due, and checks: no user is ever reminded twice for one
// deadline, and on every evening whose RunDue started, with every user's
// streak alive, every user has exactly one reminder (a RunDue the kill cut
// short is caught up).
func TestRemindersCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	const seed = 21 // fixed; the kill moment itself follows the machine's timing
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := context.Background()
	dir := t.TempDir()
	side := filepath.Join(dir, "side")
	firstDay := 0
	for round := range 4 {
		spec, _ := json.Marshal(remindKillSpec{Dir: dir, FirstDay: firstDay})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), remindKillChildEnv+"="+string(spec))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		begun := func() int {
			b, _ := os.ReadFile(side)
			return strings.Count(string(b), "\nB ") + map[bool]int{true: 1}[strings.HasPrefix(string(b), "C ")]
		}
		before := begun()
		deadline := time.Now().Add(20 * time.Second)
		for begun() == before {
			require.True(t, time.Now().Before(deadline), "child did not start: %s", stderr.String())
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(50+rng.IntN(300)) * time.Millisecond)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		require.NotContains(t, stderr.String(), "gamify", "child failed: %s", stderr.String())

		var last time.Time
		began, tracked := map[int]bool{}, map[int]bool{}
		f, err := os.Open(side)
		require.NoError(t, err)
		for sc := bufio.NewScanner(f); sc.Scan(); {
			fs := strings.Fields(sc.Text())
			if len(fs) != 2 {
				continue // the line the kill cut
			}
			n, _ := strconv.ParseInt(fs[1], 10, 64)
			switch fs[0] {
			case "C":
				last = time.Unix(0, n).UTC()
			case "B":
				began[int(n)] = true
			case "T":
				tracked[int(n)] = true
			}
		}
		f.Close()

		eng, err := gamify.Open(filepath.Join(dir, "kill.db"), remindKillOpts(last.Add(30*time.Minute)))
		require.NoError(t, err)
		_, err = eng.RunDue(ctx)
		require.NoError(t, err)
		require.NoError(t, eng.Check(ctx))
		sent := map[string]int{} // user/deadline → reminders
		for _, e := range readAll(t, eng, 0) {
			if r, ok := e.Notification.(gamify.StreakReminder); ok {
				k := r.User + "/" + r.Deadline.UTC().Format(time.DateOnly)
				sent[k]++
				require.Equal(t, 1, sent[k], "round %d: %s reminded twice", round, k)
				_, err := eng.Users().Get(ctx, r.User)
				require.NoError(t, err, "round %d: %s invented", round, r.User)
			}
		}
		checked := 0
		for d := range began {
			if !tracked[d-1] {
				continue // some streaks were not alive that evening
			}
			deadline := remindDay0.AddDate(0, 0, d+1).Format(time.DateOnly)
			for u := range remindKillUsers {
				require.Equal(t, 1, sent["u"+strconv.Itoa(u)+"/"+deadline], "round %d: u%d on day %d", round, u, d)
			}
			checked++
		}
		t.Logf("round %d: killed at %v, %d evenings checked, %d reminders in all", round, last, checked, len(sent))
		require.NoError(t, eng.Close())
		firstDay = int(last.Sub(remindDay0)/(24*time.Hour)) + 1
	}
}
