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
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// outboxKillChildEnv makes the test binary run TestOutboxCrashKill's child;
// its value is the child's JSON configuration.
const outboxKillChildEnv = "GAMIFY_OUTBOX_KILL_CHILD"

type outboxKillSpec struct {
	Dir      string
	Buffered bool
	First    int // number of the child's first user
}

// outboxKillChild opens the database, registers consumer "c" and then, until
// it is killed, tracks one event per new user "u<n>" on one goroutine and
// fetches and acknowledges the outbox on another. Its side log holds, one
// write(2) per line:
//
//	S              set up
//	I <n>          Track of u<n> starts
//	A <n>          it returned nil
//	D <seq> <user> the consumer was handed this entry
//	K <seq>        Ack(seq) returned nil
func outboxKillChild(spec string) {
	var s outboxKillSpec
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fail(err)
	}
	ctx := context.Background()
	opts := &gamify.Options{Clock: gamify.NewManualClock(t0), MaxFlushDelay: time.Millisecond}
	if s.Buffered {
		opts.Durability = gamify.Buffered
	}
	eng, err := gamify.Open(filepath.Join(s.Dir, "kill.db"), opts)
	if err != nil {
		fail(err)
	}
	if _, err := eng.Metrics().Get(ctx, "xp"); err != nil {
		if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
			fail(err)
		}
	}
	c, err := eng.Outbox().Consumer(ctx, "c")
	if err != nil {
		fail(err)
	}
	side, err := os.OpenFile(filepath.Join(s.Dir, "side"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fail(err)
	}
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if _, err := side.WriteString(fmt.Sprintf(format, args...) + "\n"); err != nil {
			fail(err)
		}
	}
	logf("S")
	go func() {
		for {
			es, err := c.Fetch(ctx, 50)
			if err != nil {
				fail(err)
			}
			for _, e := range es {
				logf("D %d %s", e.Seq, e.Notification.UserID())
			}
			if err := c.Ack(ctx, es[len(es)-1].Seq); err != nil {
				fail(err)
			}
			logf("K %d", es[len(es)-1].Seq)
		}
	}()
	for n := s.First; ; n++ {
		logf("I %d", n)
		if _, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "u" + strconv.Itoa(n), Value: 1}); err != nil {
			fail(err)
		}
		logf("A %d", n)
	}
}

// TestOutboxCrashKill kills a child that tracks events and consumes the
// outbox (SIGKILL at a random moment, several rounds on one file per mode)
// and checks after each kill: the outbox holds a UserCreated exactly for
// the users that exist (a notification commits with its cause); in Durable
// mode every acknowledged event's user exists, so its notification is
// delivered; nothing is invented (every user started a Track); entries the
// child was handed keep their sequence number; the consumer's stored
// position is at least its last acknowledged one and a new Fetch resumes
// right after it.
func TestOutboxCrashKill(t *testing.T) {
	const seed = 20 // fixed; the kill moment itself follows the machine's timing
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	ctx := context.Background()
	for _, buffered := range []bool{false, true} {
		dir := t.TempDir()
		started := map[string]bool{}
		for round := range 3 {
			spec, _ := json.Marshal(outboxKillSpec{Dir: dir, Buffered: buffered, First: round * 1_000_000})
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), outboxKillChildEnv+"="+string(spec))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			side := filepath.Join(dir, "side")
			deadline := time.Now().Add(20 * time.Second)
			for {
				b, _ := os.ReadFile(side)
				if strings.Count(string(b), "S\n") > round {
					break
				}
				require.True(t, time.Now().Before(deadline), "child did not start: %s", stderr.String())
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(time.Duration(20+rng.IntN(150)) * time.Millisecond)
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()
			require.NotContains(t, stderr.String(), "gamify", "child failed: %s", stderr.String())

			acked := map[string]bool{}
			handed := map[uint64]string{}
			var lastK uint64
			f, err := os.Open(side)
			require.NoError(t, err)
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fs := strings.Fields(sc.Text())
				switch fs[0] {
				case "I":
					started["u"+fs[1]] = true
				case "A":
					acked["u"+fs[1]] = true
				case "D":
					seq, _ := strconv.ParseUint(fs[1], 10, 64)
					handed[seq] = fs[2]
				case "K":
					lastK, _ = strconv.ParseUint(fs[1], 10, 64)
				}
			}
			f.Close()

			opts := &gamify.Options{Clock: gamify.NewManualClock(t0)}
			eng, err := gamify.Open(filepath.Join(dir, "kill.db"), opts)
			require.NoError(t, err)
			require.NoError(t, eng.Check(ctx))
			entries := readAll(t, eng, 0)
			created := map[string]int{}
			for i, e := range entries {
				require.Equal(t, uint64(i+1), e.Seq, "round %d: consecutive, nothing trimmed", round)
				if uc, ok := e.Notification.(gamify.UserCreated); ok {
					created[uc.User]++
				}
				if u, ok := handed[e.Seq]; ok {
					require.Equal(t, u, e.Notification.UserID(), "entry %d handed out before the kill", e.Seq)
				}
			}
			require.LessOrEqual(t, len(handed), len(entries), "no entry handed out was lost")
			for u, n := range created {
				require.True(t, started[u], "round %d: %s invented", round, u)
				require.Equal(t, 1, n, "round %d: %s once", round, u)
			}
			for u := range started {
				_, err := eng.Users().Get(ctx, u)
				exists := err == nil
				require.Equal(t, exists, created[u] == 1, "round %d: %s's notification commits with it", round, u)
				if !buffered && acked[u] {
					require.True(t, exists, "round %d: acknowledged %s lost", round, u)
				}
			}
			infos, err := eng.Outbox().Consumers(ctx)
			require.NoError(t, err)
			require.Len(t, infos, 1)
			require.GreaterOrEqual(t, infos[0].Acked, lastK, "round %d: an acknowledged Ack kept", round)
			c, err := eng.Outbox().Consumer(ctx, "c")
			require.NoError(t, err)
			if infos[0].Acked < uint64(len(entries)) {
				got, err := c.Fetch(ctx, 1)
				require.NoError(t, err)
				require.Equal(t, []uint64{infos[0].Acked + 1}, seqs(got), "round %d: resumes after the Ack", round)
			}
			t.Logf("buffered=%v round %d: %d users started, %d acknowledged, %d entries, consumer at %d", buffered, round, len(started), len(acked), len(entries), infos[0].Acked)
			require.NoError(t, eng.Close())
		}
	}
}
