package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/webhook"
)

var secret = []byte("s3cret")

// receiver is a loopback endpoint that verifies signatures and records
// each delivery id once; fail decides, per request, to answer 500 ("fail"),
// to hang past the client's timeout ("hang") or to accept ("").
type receiver struct {
	t    *testing.T
	mu   sync.Mutex
	seen map[string]int // attempts per id
	got  []webhook.Payload
	fail func(id string, attempt int) string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	require.NoError(rc.t, err)
	if err := webhook.Verify(secret, r.Header, body, time.Now(), time.Minute); err != nil {
		rc.t.Errorf("Verify: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	require.NoError(rc.t, json.Unmarshal(body, &p))
	id := r.Header.Get(webhook.HeaderDelivery)
	require.Equal(rc.t, p.ID, id)
	rc.mu.Lock()
	rc.seen[id]++
	n := rc.seen[id]
	mode := ""
	if rc.fail != nil {
		mode = rc.fail(id, n)
	}
	if mode == "" && rc.seen[id+"/ok"] == 0 {
		rc.seen[id+"/ok"] = 1
		rc.got = append(rc.got, p)
	}
	rc.mu.Unlock()
	switch mode {
	case "fail":
		w.WriteHeader(http.StatusInternalServerError)
	case "hang":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second): // past the client's timeout
		}
	}
}

func (rc *receiver) delivered() []uint64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []uint64
	for _, p := range rc.got {
		out = append(out, p.Seq)
	}
	return out
}

func openEngine(t *testing.T, path string) *gamify.Engine {
	t.Helper()
	eng, err := gamify.Open(path, &gamify.Options{Clock: gamify.NewManualClock(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	return eng
}

// xpEngine opens an engine with metric xp, closed at the end of the test.
func xpEngine(t *testing.T, path string) *gamify.Engine {
	t.Helper()
	eng := openEngine(t, path)
	t.Cleanup(func() { eng.Close() })
	_, err := eng.Metrics().Create(context.Background(), gamify.Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	return eng
}

func track(t *testing.T, eng *gamify.Engine, users ...string) {
	t.Helper()
	for _, u := range users {
		_, err := eng.Track(context.Background(), gamify.Event{Metric: "xp", User: u, Value: 1})
		require.NoError(t, err)
	}
}

func config(dir string, urls ...string) webhook.Config {
	cfg := webhook.Config{
		// Generous timeout and retry time: on a loaded machine a slow answer
		// must not become an extra attempt or a dead letter.
		Client:         &http.Client{Timeout: time.Second},
		InitialBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxRetryTime: 30 * time.Second,
		DeadLetterDir: filepath.Join(dir, "dead"), BatchSize: 3,
	}
	for i, u := range urls {
		cfg.Endpoints = append(cfg.Endpoints, webhook.Endpoint{Name: fmt.Sprint("ep", i), URL: u, Secret: secret})
	}
	return cfg
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 2*time.Millisecond)
}

func TestDeliversSignedInOrderThroughFailuresAndTimeouts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	flaky := &receiver{t: t, seen: map[string]int{}, fail: func(id string, n int) string {
		switch {
		case id == "gamify-2" && n == 1:
			return "hang"
		case n <= 2:
			return "fail"
		}
		return ""
	}}
	steady := &receiver{t: t, seen: map[string]int{}}
	s1, s2 := httptest.NewServer(flaky), httptest.NewServer(steady)
	defer s1.Close()
	defer s2.Close()
	track(t, eng, "a", "b", "c", "d", "e")
	s, err := webhook.Start(ctx, eng, config(dir, s1.URL, s2.URL))
	require.NoError(t, err)
	want := []uint64{1, 2, 3, 4, 5}
	waitFor(t, func() bool { return len(flaky.delivered()) == 5 && len(steady.delivered()) == 5 })
	waitFor(t, func() bool {
		infos, err := eng.Outbox().Consumers(ctx)
		require.NoError(t, err)
		return infos[0].Acked == 5 && infos[1].Acked == 5
	})
	require.NoError(t, s.Close())
	require.Equal(t, want, flaky.delivered(), "in commit order, each once")
	require.Equal(t, want, steady.delivered(), "a failing endpoint does not hold back the other")
	require.Equal(t, 3, flaky.seen["gamify-1"], "two failures, then success")
	require.Equal(t, "UserCreated", flaky.got[0].Type)
	require.Equal(t, "a", flaky.got[0].User)
	var n gamify.UserCreated
	require.NoError(t, json.Unmarshal(flaky.got[0].Notification, &n))
	require.Equal(t, "a", n.User)
	infos, err := eng.Outbox().Consumers(ctx)
	require.NoError(t, err)
	for _, i := range infos {
		require.Equal(t, uint64(5), i.Acked, i.Name)
	}
	dead, err := webhook.ReadDeadLetters(filepath.Join(dir, "dead"), "ep0")
	require.NoError(t, err)
	require.Empty(t, dead)
}

// failing is a receiver that refuses every attempt of the entry with id.
func failing(t *testing.T, id string) *receiver {
	return &receiver{t: t, seen: map[string]int{}, fail: func(got string, _ int) string {
		if got == id {
			return "fail"
		}
		return ""
	}}
}

func TestDeadLetterAfterMaxRetryTime(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	rc := failing(t, "gamify-2")
	srv := httptest.NewServer(rc)
	defer srv.Close()
	track(t, eng, "a", "poison", "c")
	cfg := config(dir, srv.URL)
	cfg.MaxRetryTime = 100 * time.Millisecond
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	waitFor(t, func() bool { return len(rc.delivered()) == 2 })
	require.NoError(t, s.Close())
	require.Equal(t, []uint64{1, 3}, rc.delivered())
	dead, err := webhook.ReadDeadLetters(cfg.DeadLetterDir, "ep0")
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, "gamify-2", dead[0].ID)
	require.Equal(t, uint64(2), dead[0].Seq)
	require.GreaterOrEqual(t, dead[0].Attempts, 2)
	require.Contains(t, dead[0].LastError, "500")
	var p webhook.Payload
	require.NoError(t, json.Unmarshal(dead[0].Body, &p))
	require.Equal(t, "poison", p.User)
}

// TestNothingAcknowledgedLostAcrossRestarts stops the receiver (its port
// refuses connections) while entries are pending, restarts the sender and
// the engine, then brings the receiver back on the same address: every
// entry arrives, and the writer never waited for the endpoint.
func TestNothingAcknowledgedLostAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "g.db")
	eng := openEngine(t, path)
	_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	rc := &receiver{t: t, seen: map[string]int{}}
	srv := httptest.NewServer(rc)
	addr := srv.Listener.Addr().String()
	cfg := config(dir, srv.URL)
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	track(t, eng, "a", "b")
	waitFor(t, func() bool { return len(rc.delivered()) == 2 })
	srv.Close() // the receiver goes down
	track(t, eng, "c", "d", "e", "f")
	require.NoError(t, s.Close())
	require.NoError(t, eng.Close())

	eng = openEngine(t, path)
	defer eng.Close()
	track(t, eng, "g")
	s, err = webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	defer s.Close()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: rc}}
	srv.Start()
	defer srv.Close()
	waitFor(t, func() bool { return len(rc.delivered()) == 7 })
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7}, rc.delivered())
}

func TestWriterNeverWaitsForAnEndpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := config(dir, srv.URL)
	cfg.Client = &http.Client{} // no timeout: the request hangs until the test ends
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	for i := range 200 {
		track(t, eng, fmt.Sprint("u", i))
	}
	info, err := eng.Outbox().Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(200), info.Last)
	require.NoError(t, s.Close(), "Close cancels the hanging attempt")
}

func TestConfigErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	eng := openEngine(t, filepath.Join(dir, "g.db"))
	defer eng.Close()
	_, err := webhook.Start(context.Background(), eng, webhook.Config{Endpoints: []webhook.Endpoint{{Name: "a/b", URL: "ftp://x"}}, BatchSize: -1})
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"Endpoints[0].Name", "Endpoints[0].URL", "Endpoints[0].Secret", "DeadLetterDir", "BatchSize"} {
		require.ErrorContains(t, err, "webhook.Config."+f)
	}
	_, err = webhook.Start(context.Background(), eng, webhook.Config{Endpoints: []webhook.Endpoint{{Name: "a", URL: "http://x", Secret: []byte("s")}},
		DeadLetterDir: dir, BatchSize: 10001})
	require.ErrorContains(t, err, "webhook.Config.BatchSize", "past the most an outbox read takes")
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"gamify-1"}`)
	now := time.Unix(1_700_000_000, 0)
	h := http.Header{}
	h.Set(webhook.HeaderTimestamp, "1700000000")
	h.Set(webhook.HeaderSignature, webhook.Sign(secret, "1700000000", body))
	require.NoError(t, webhook.Verify(secret, h, body, now, time.Minute))
	require.ErrorIs(t, webhook.Verify([]byte("other"), h, body, now, time.Minute), webhook.ErrSignature)
	require.ErrorIs(t, webhook.Verify(secret, h, []byte(`{"id":"gamify-2"}`), now, time.Minute), webhook.ErrSignature)
	require.ErrorIs(t, webhook.Verify(secret, h, body, now.Add(time.Hour), time.Minute), webhook.ErrSignature, "a replay")
	require.Equal(t, "sha256=", webhook.Sign(secret, "1", nil)[:7])
}

// TestDeadLetterAfterATornLine: a crash mid-append leaves a torn last line;
// the next dead letter must not be glued onto it (and so lost, though acked).
func TestDeadLetterAfterATornLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	rc := failing(t, "gamify-1")
	srv := httptest.NewServer(rc)
	defer srv.Close()
	cfg := config(dir, srv.URL)
	cfg.MaxRetryTime = 50 * time.Millisecond
	require.NoError(t, os.MkdirAll(cfg.DeadLetterDir, 0o700))
	old := `{"endpoint":"ep0","id":"old-1","seq":1}` + "\n"
	require.NoError(t, os.WriteFile(webhook.DeadLetterPath(cfg.DeadLetterDir, "ep0"), []byte(old+`{"endpoint":"ep0","id":"tor`), 0o600))
	track(t, eng, "poison", "b")
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	waitFor(t, func() bool { return len(rc.delivered()) == 1 })
	require.NoError(t, s.Close())
	dead, err := webhook.ReadDeadLetters(cfg.DeadLetterDir, "ep0")
	require.NoError(t, err)
	require.Len(t, dead, 2)
	require.Equal(t, "old-1", dead[0].ID)
	require.Equal(t, "gamify-1", dead[1].ID)
}

// TestCloseAcksWhatWasDelivered: Close cancels the attempt in progress; the
// entries of the batch delivered before it are acknowledged, not sent again.
func TestCloseAcksWhatWasDelivered(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	hanging := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client going
		if r.Header.Get(webhook.HeaderDelivery) == "gamify-2" {
			hanging <- struct{}{}
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	track(t, eng, "a", "b", "c")
	cfg := config(dir, srv.URL)
	cfg.Client = &http.Client{} // no timeout: only Close ends the attempt
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	select {
	case <-hanging:
	case <-time.After(10 * time.Second):
		t.Fatal("entry 2 never sent")
	}
	require.NoError(t, s.Close())
	infos, err := eng.Outbox().Consumers(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), infos[0].Acked, "entry 1 was delivered")
}

// TestRedirectIsAFailure: a followed 302 would turn the POST into a bodiless
// GET whose 200 acknowledged an entry never delivered.
func TestRedirectIsAFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	track(t, eng, "a")
	cfg := config(dir, srv.URL+"/hook")
	cfg.Client = nil // the default client
	cfg.MaxRetryTime = 50 * time.Millisecond
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	waitFor(t, func() bool {
		infos, err := eng.Outbox().Consumers(ctx)
		require.NoError(t, err)
		return infos[0].Acked == 1
	})
	require.NoError(t, s.Close())
	dead, err := webhook.ReadDeadLetters(cfg.DeadLetterDir, "ep0")
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Contains(t, dead[0].LastError, "302")
}

// TestNewDeadLetterFileSyncsItsDirectory: the entry is acked after the dead
// letter, so a new file's directory entry must be durable first.
func TestNewDeadLetterFileSyncsItsDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	cfg := config(dir, srv.URL)
	cfg.MaxRetryTime = 20 * time.Millisecond
	var mu sync.Mutex
	var synced []string
	defer webhook.SetSyncDir(func(d string) error {
		mu.Lock()
		defer mu.Unlock()
		synced = append(synced, d)
		return nil
	})()
	track(t, eng, "a", "b")
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	waitFor(t, func() bool {
		infos, err := eng.Outbox().Consumers(ctx)
		require.NoError(t, err)
		return infos[0].Acked == 2
	})
	require.NoError(t, s.Close())
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{cfg.DeadLetterDir}, synced, "once, when the file is created")
}

func TestConfigErrorsBackoffAndHost(t *testing.T) {
	dir := t.TempDir()
	eng := openEngine(t, filepath.Join(dir, "g.db"))
	defer eng.Close()
	cfg := config(dir, "http:///nohost")
	cfg.InitialBackoff = 2 * time.Minute // MaxBackoff is 40 ms
	_, err := webhook.Start(context.Background(), eng, cfg)
	require.ErrorContains(t, err, "webhook.Config.InitialBackoff")
	require.ErrorContains(t, err, "webhook.Config.Endpoints[0].URL")
	infos, err := eng.Outbox().Consumers(context.Background())
	require.NoError(t, err)
	require.Empty(t, infos, "nothing registered")
}

// TestEngineClosedMidRetryIsNoError: Close reports no error for the engine
// closing, even when it closes while an entry awaits its first retry.
func TestEngineClosedMidRetryIsNoError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := openEngine(t, filepath.Join(dir, "g.db"))
	_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	sent, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get(webhook.HeaderDelivery) == "gamify-2" {
			select {
			case sent <- struct{}{}:
				<-release
			default:
			}
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	track(t, eng, "a", "b")
	s, err := webhook.Start(ctx, eng, config(dir, srv.URL))
	require.NoError(t, err)
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("entry 2 never sent")
	}
	require.NoError(t, eng.Close())
	close(release)                                      // the failure makes the worker ack entry 1 before its retry
	waitFor(t, func() bool { return !workerRunning() }) // it stops by itself
	require.NoError(t, s.Close())
}

// workerRunning reports whether a delivery goroutine exists.
func workerRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "webhook.(*worker).run")
}

// TestReadDeadLettersRefusesADamagedLine: only a torn (unterminated) last
// line is skipped; a bad complete line is an error, not a lost dead letter.
func TestReadDeadLettersRefusesADamagedLine(t *testing.T) {
	dir := t.TempDir()
	p := webhook.DeadLetterPath(dir, "ep0")
	good := `{"endpoint":"ep0","id":"gamify-1","seq":1}` + "\n"
	require.NoError(t, os.WriteFile(p, []byte(good+`{"endpoint":"ep0","id":"gam`), 0o600))
	dead, err := webhook.ReadDeadLetters(dir, "ep0")
	require.NoError(t, err)
	require.Len(t, dead, 1, "the torn last line is skipped")
	require.NoError(t, os.WriteFile(p, []byte(good+"garbage\n"+good), 0o600))
	_, err = webhook.ReadDeadLetters(dir, "ep0")
	require.ErrorContains(t, err, "line 2")
}

// TestCloseLeavesNoConnectionGoroutines: the default client's idle
// keep-alive connections end with Close, not 90 s later.
func TestCloseLeavesNoConnectionGoroutines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	rc := &receiver{t: t, seen: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	track(t, eng, "a")
	cfg := config(dir, srv.URL)
	cfg.Client = nil // the default client
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	waitFor(t, func() bool { return len(rc.delivered()) == 1 })
	require.NoError(t, s.Close())
	waitFor(t, func() bool {
		buf := make([]byte, 1<<20)
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "net/http.(*persistConn)")
	})
}

// TestStartCtxBoundsOnlyRegistration: cancelling Start's ctx does not stop
// delivery; Close does.
func TestStartCtxBoundsOnlyRegistration(t *testing.T) {
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	rc := &receiver{t: t, seen: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := webhook.Start(ctx, eng, config(dir, srv.URL))
	require.NoError(t, err)
	cancel()
	track(t, eng, "a")
	waitFor(t, func() bool { return len(rc.delivered()) == 1 })
	require.NoError(t, s.Close())
}

// TestStoppedEndpointIsLogged: a dead letter that cannot be written stops
// the endpoint (its entry stays unacked); the Logger hears of it at once.
func TestStoppedEndpointIsLogged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	cfg := config(dir, srv.URL)
	cfg.MaxRetryTime = 20 * time.Millisecond
	require.NoError(t, os.MkdirAll(webhook.DeadLetterPath(cfg.DeadLetterDir, "ep0"), 0o700)) // unopenable as a file
	var mu sync.Mutex
	var logs strings.Builder
	cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	track(t, eng, "a")
	s, err := webhook.Start(ctx, eng, cfg)
	require.NoError(t, err)
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "endpoint stopped")
	})
	require.ErrorContains(t, s.Close(), "dead letter")
	infos, err := eng.Outbox().Consumers(ctx)
	require.NoError(t, err)
	require.Zero(t, infos[0].Acked)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestTooLongNameRegistersNothing: a name the outbox would refuse is a
// config error before any endpoint's consumer is registered.
func TestTooLongNameRegistersNothing(t *testing.T) {
	dir := t.TempDir()
	eng := openEngine(t, filepath.Join(dir, "g.db"))
	defer eng.Close()
	cfg := config(dir, "http://127.0.0.1:1", "http://127.0.0.1:1")
	cfg.Endpoints[1].Name = strings.Repeat("n", 193)
	_, err := webhook.Start(context.Background(), eng, cfg)
	require.ErrorContains(t, err, "webhook.Config.Endpoints[1].Name")
	infos, err := eng.Outbox().Consumers(context.Background())
	require.NoError(t, err)
	require.Empty(t, infos)
	cfg.Endpoints[1].Name = strings.Repeat("n", 192)
	s, err := webhook.Start(context.Background(), eng, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// TestFailedStartRemovesItsConsumers: a registration failing part-way
// removes the consumers that Start registered, which would hold entries
// back, and keeps one an earlier Start left, with its position.
func TestFailedStartRemovesItsConsumers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng := xpEngine(t, filepath.Join(dir, "g.db"))
	rc := &receiver{t: t, seen: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := webhook.Start(ctx, eng, config(dir, srv.URL))
	require.NoError(t, err)
	track(t, eng, "a")
	waitFor(t, func() bool { return len(rc.delivered()) == 1 })
	require.NoError(t, s.Close())
	before, err := eng.Outbox().Consumers(ctx)
	require.NoError(t, err)
	require.Len(t, before, 1)
	require.NotZero(t, before[0].Acked)

	boom := errors.New("boom")
	restore := webhook.SetBeforeRegister(func(i int) error {
		if i == 2 {
			return boom
		}
		return nil
	})
	defer restore()
	_, err = webhook.Start(ctx, eng, config(dir, srv.URL, srv.URL, srv.URL))
	require.ErrorIs(t, err, boom)
	after, err := eng.Outbox().Consumers(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "ep1 is removed again, ep0 keeps its position")
}
