package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// seedDB writes a small game with one user to a new file and closes it.
func seedDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "game.db")
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = eng.Apply(ctx, gamify.Game{
		Metrics: []gamify.Metric{{Key: "words", Name: "Words"}},
		Points: []gamify.PointsSystem{{Key: "xp", Name: "XP", Triggers: []gamify.Trigger{
			{Key: "xp-words", Kind: gamify.TriggerMetric, Metric: "words", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(2)}}}},
		Leaderboards: []gamify.Leaderboard{{Key: "top", Name: "Top", RankBy: gamify.RankByMetric, Metric: "words"}},
	})
	require.NoError(t, err)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: "Ana"})
	require.NoError(t, err)
	for _, ev := range []gamify.Event{{Metric: "words", User: "ana", Value: 7}, {Metric: "words", User: "bo", Value: 3}} {
		_, err = eng.Track(ctx, ev)
		require.NoError(t, err)
	}
	require.NoError(t, eng.Close())
	return path
}

// runCmd runs a command line in-process.
func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, noEnv)
	return code, out.String(), errb.String()
}

func TestHelpAndUsageErrors(t *testing.T) {
	code, out, _ := runCmd("help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "Examples:")
	require.Contains(t, out, "gamify serve --db")
	code, out, _ = runCmd("--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "Exit codes")
	code, _, errs := runCmd()
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "Usage:")
	code, _, errs = runCmd("frobnicate")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, `unknown command "frobnicate"`)
	code, _, _ = runCmd("user", "--db", "x.db")
	require.Equal(t, exitUsage, code)
	code, _, _ = runCmd("user", "ana", "--nope")
	require.Equal(t, exitUsage, code)
	code, _, errs = runCmd("board", "top", "--db", "x.db", "--run", "soon")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "--run")
	code, _, errs = runCmd("user", "ana")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errs, "--db")
}

func TestUserCommand(t *testing.T) {
	path := seedDB(t)
	code, out, errs := runCmd("user", "ana", "--db", path)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "user ana")
	require.Regexp(t, `name\s+Ana`, out)
	require.Regexp(t, `words\s+7\s+1 events`, out)
	require.Regexp(t, `xp\s+total 14\s+available 14`, out)

	code, out, errs = runCmd("user", "--db", path, "--json", "ana")
	require.Equal(t, exitOK, code, errs)
	var rep userReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "Ana", rep.User.Name)
	require.Equal(t, "7", rep.Metrics[0].Total.String())
	require.Equal(t, "14", rep.Points[0].Total.String())

	code, _, errs = runCmd("user", "nobody", "--db", path)
	require.Equal(t, exitNotFound, code)
	require.Contains(t, errs, "not found")
	code, _, _ = runCmd("user", "ana", "--db", path, "--tenant", "nope")
	require.Equal(t, exitNotFound, code)
	// A read command does not create a missing file.
	missing := filepath.Join(t.TempDir(), "missing.db")
	code, _, _ = runCmd("user", "ana", "--db", missing)
	require.Equal(t, exitFailure, code)
	require.NoFileExists(t, missing)
}

func TestBoardCommand(t *testing.T) {
	path := seedDB(t)
	code, out, errs := runCmd("board", "top", "--db", path)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "board top (active)")
	require.Regexp(t, `1\s+ana\s+7\n\s+2\s+bo\s+3\n`, out)
	code, out, errs = runCmd("board", "top", "--db", path, "--json", "--limit", "1", "--offset", "1")
	require.Equal(t, exitOK, code, errs)
	var page gamify.BoardPage
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Rows, 1)
	require.Equal(t, "bo", page.Rows[0].User)
	require.Equal(t, 2, page.Participants)
	code, _, _ = runCmd("board", "nope", "--db", path)
	require.Equal(t, exitNotFound, code)
	code, _, _ = runCmd("board", "top", "--db", path, "--limit", "0")
	require.Equal(t, exitUsage, code)
	// Checked before the file is opened: no file needed.
	code, _, errs = runCmd("board", "top", "--db", filepath.Join(t.TempDir(), "none.db"), "--offset", "-3")
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, "--offset must be 0 or more, not -3")
	code, _, _ = runCmd("board", "top", "--db", path, "--group", "country:DE")
	require.Equal(t, exitFailure, code) // a ValidationError: the board has no breakdown
}

func TestReadWhileLockedExits4(t *testing.T) {
	path := seedDB(t)
	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	defer eng.Close()
	code, _, errs := runCmd("user", "ana", "--db", path)
	require.Equal(t, exitLocked, code)
	require.Contains(t, errs, "in use")
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"keys":[{"key":"k1","name":"ops","scopes":["admin"]},{"key":"k2","tenant":"acme"}]}`), 0o600))
	keys, err := loadKeys(file, envOf(map[string]string{"GAMIFY_ADMIN_KEYS": "a1, a2", "GAMIFY_APP_KEYS": "p1"}))
	require.NoError(t, err)
	require.Len(t, keys, 5)
	require.Equal(t, "acme", keys[1].Tenant)
	require.Equal(t, []string{"admin"}, keys[3].Scopes)
	require.Nil(t, keys[4].Scopes)
	// $GAMIFY_KEYS_FILE stands in for --keys.
	keys, err = loadKeys("", envOf(map[string]string{"GAMIFY_KEYS_FILE": file}))
	require.NoError(t, err)
	require.Len(t, keys, 2)

	_, err = loadKeys("", noEnv)
	require.ErrorContains(t, err, "no API keys")
	_, err = loadKeys(file, envOf(map[string]string{"GAMIFY_APP_KEYS": "k1"}))
	require.ErrorContains(t, err, "given twice")
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"keys":[{"secret":"x"}]}`), 0o600))
	_, err = loadKeys(bad, noEnv)
	require.ErrorContains(t, err, "unknown field")
	require.NoError(t, os.WriteFile(bad, []byte(`{"keys":[{"name":"x"}]}`), 0o600))
	_, err = loadKeys(bad, noEnv)
	require.ErrorContains(t, err, "keys[0].key is empty")

	var errb bytes.Buffer
	code := run(context.Background(), []string{"serve", "--db", filepath.Join(dir, "g.db")}, io.Discard, &errb, noEnv)
	require.Equal(t, exitUsage, code)
	require.NoFileExists(t, filepath.Join(dir, "g.db"))
}

// TestServeGracefulShutdown serves a file in-process, answers a request,
// and on cancellation (what SIGINT and SIGTERM do) shuts the server down
// and closes the engine, releasing the file.
func TestServeGracefulShutdown(t *testing.T) {
	path := seedDB(t)
	addrs := make(chan string, 1)
	listening = func(a string) { addrs <- a }
	defer func() { listening = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	codes := make(chan int, 1)
	var errb syncBuffer
	go func() {
		codes <- run(ctx, []string{"serve", "--db", path, "--addr", "127.0.0.1:0"}, io.Discard, &errb,
			envOf(map[string]string{"GAMIFY_APP_KEYS": "s3cret"}))
	}()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-codes:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not listen")
	}
	req, err := http.NewRequest("GET", "http://"+addr+"/v1/users/ana", nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"name":"Ana"`)

	cancel()
	select {
	case code := <-codes:
		require.Equal(t, exitOK, code, errb.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.Contains(t, errb.String(), "shutting down")
	// The engine was closed: the file opens again at once.
	eng, err := gamify.Open(path, &gamify.Options{LockTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, eng.Close())
}

// TestServeSIGTERM runs the real binary and stops it with SIGTERM.
func TestServeSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gamify")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	path := seedDB(t)

	cmd := exec.Command(bin, "serve", "--db", path, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GAMIFY_ADMIN_KEYS=adm")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill() //nolint:errcheck // a no-op once it exited

	addrs := make(chan string, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`addr=(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && strings.Contains(sc.Text(), "serving") {
				addrs <- m[1]
			}
			lines <- sc.Text()
		}
		close(lines)
	}()
	var addr string
	select {
	case addr = <-addrs:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not listen")
	}
	req, err := http.NewRequest("GET", "http://"+addr+"/api/v1/gamify/admin/participants", nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", "adm")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	var all []string
	for l := range lines {
		all = append(all, l)
	}
	require.NoError(t, cmd.Wait(), strings.Join(all, "\n"))
	require.Equal(t, 0, cmd.ProcessState.ExitCode())
	require.Contains(t, strings.Join(all, "\n"), "shutting down")
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCheckAndCompactCommands(t *testing.T) {
	path := seedDB(t)
	code, out, errs := runCmd("check", "--db", path)
	require.Equal(t, exitOK, code, errs)
	require.Equal(t, "ok\n", out)
	code, out, _ = runCmd("check", "--db", path, "--json")
	require.Equal(t, exitOK, code)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, checkReport{OK: true, Problems: []string{}}, rep)

	// Erase a user, then compact: the file is rewritten and still checks.
	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, eng.Users().Erase(context.Background(), "bo"))
	// Held open: compact refuses with exit 4.
	code, _, _ = runCmd("compact", "--db", path)
	require.Equal(t, exitLocked, code)
	require.NoError(t, eng.Close())
	code, out, errs = runCmd("compact", "--db", path)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "compacted "+path)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(raw), `"bo"`)
	code, _, _ = runCmd("check", "--db", path)
	require.Equal(t, exitOK, code)

	code, _, _ = runCmd("compact")
	require.Equal(t, exitUsage, code)
	code, _, _ = runCmd("compact", "--db", filepath.Join(t.TempDir(), "none.db"))
	require.Equal(t, exitFailure, code)
	code, _, _ = runCmd("check", "--db", path, "--tenant", "nope")
	require.Equal(t, exitNotFound, code)
}

// TestServeBadKeysCreateNothing: keys serve refuses are exit 2, named by
// where they come from, and leave no new db behind.
func TestServeBadKeysCreateNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "new.db")
	keys := filepath.Join(dir, "k.json")
	serveWith := func(env map[string]string, args ...string) (int, string) {
		var errb bytes.Buffer
		code := run(context.Background(), append([]string{"serve", "--db", db}, args...), io.Discard, &errb, envOf(env))
		return code, errb.String()
	}
	require.NoError(t, os.WriteFile(keys, []byte(`{"keys":[{"key":"a0","scopes":["application"]},{"key":"a1","scopes":["admin"],"user":"ana"}]}`), 0o600))
	code, errs := serveWith(nil, "--keys", keys, "--addr", "127.0.0.1:0")
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, "keys[1]")
	require.Contains(t, errs, "admin key cannot be confined to a user")
	require.NoFileExists(t, db)

	require.NoError(t, os.WriteFile(keys, []byte(`{"keys":[{"key":"a1"},{"key":"a1"}]}`), 0o600))
	code, errs = serveWith(nil, "--keys", keys)
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, "keys[1] of keys file")
	require.Contains(t, errs, "given twice (keys[0] of keys file")
	code, errs = serveWith(map[string]string{"GAMIFY_ADMIN_KEYS": "x", "GAMIFY_APP_KEYS": "y,x"})
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, "$GAMIFY_APP_KEYS[1] is given twice ($GAMIFY_ADMIN_KEYS[0]")

}

func TestServeBadFlagsCreateNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new.db")
	serveWith := func(env map[string]string, args ...string) (int, string) {
		var errb bytes.Buffer
		code := run(context.Background(), append([]string{"serve", "--db", db}, args...), io.Discard, &errb, envOf(env))
		return code, errb.String()
	}
	env := map[string]string{"GAMIFY_ADMIN_KEYS": "adm"}
	code, errs := serveWith(env, "--addr", "bogus")
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, `--addr "bogus"`)
	require.NoFileExists(t, db)
	code, errs = serveWith(env, "--addr", "127.0.0.1:0", "--max-body", "-5")
	require.Equal(t, exitUsage, code, errs)
	require.Contains(t, errs, "--max-body -5")
	require.NoFileExists(t, db)
	code, errs = serveWith(env, "--addr", "127.0.0.1:0", "--max-body", "0")
	require.Equal(t, exitUsage, code, errs)
	// An address taken already fails before the db is created.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	code, errs = serveWith(env, "--addr", ln.Addr().String())
	require.Equal(t, exitFailure, code, errs)
	require.NoFileExists(t, db)
}

// TestUnexpectedArgument: a command without positional arguments names a
// stray one (exit 2), before opening anything.
func TestUnexpectedArgument(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	for _, cmd := range []string{"serve", "check", "compact", "stats", "backup", "migrate", "export", "import", "replay"} {
		code, _, errs := runCmd(cmd, "--db", db, "extra")
		require.Equal(t, exitUsage, code, cmd)
		require.Contains(t, errs, `gamify `+cmd+`: unexpected argument "extra"`, cmd)
		require.NoFileExists(t, db, cmd)
	}
}
