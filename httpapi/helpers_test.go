package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

const (
	appKey    = "app-secret"
	adminKey  = "admin-secret"
	gadminKey = "gamify-admin-secret"
	acmeKey   = "acme-only-secret"
)

// t0 is the manual clock's start: a Tuesday.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	eng   *gamify.Engine
	clock *gamify.ManualClock
	srv   *httptest.Server
}

// newEnv opens an engine with the test game on a temp file, serves it on a
// loopback httptest server and checks the engine's invariants at cleanup.
func newEnv(t *testing.T, opts httpapi.Options) *env {
	t.Helper()
	clock := gamify.NewManualClock(t0)
	eng, err := gamify.Open(filepath.Join(t.TempDir(), "game.db"), &gamify.Options{Clock: clock})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = eng.Apply(ctx, testGame())
	require.NoError(t, err)
	if opts.Keys == nil {
		opts.Keys = []httpapi.Key{
			{Secret: appKey, Name: "app", Scopes: []string{"application"}},
			{Secret: adminKey, Name: "admin", Scopes: []string{httpapi.ScopeAdmin}},
			{Secret: gadminKey, Name: "gamify-admin", Scopes: []string{httpapi.ScopeGamifyAdmin}},
			{Secret: acmeKey, Name: "acme", Tenant: "acme"},
		}
	}
	h, err := httpapi.New(eng, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, eng.Check(ctx))
		require.NoError(t, eng.Close())
	})
	return &env{t: t, eng: eng, clock: clock, srv: srv}
}

func testGame() gamify.Game {
	amt := gamify.AmountFromInt
	return gamify.Game{
		Attributes: []gamify.Attribute{
			{Key: "plan", Name: "Plan", Type: gamify.UserAttribute},
			{Key: "source", Name: "Source", Type: gamify.EventAttribute},
		},
		Metrics: []gamify.Metric{{Key: "words", Name: "Words written", Units: "words"}},
		Streaks: []gamify.Streak{{Key: "daily", Name: "Daily writing", Frequency: gamify.StreakDaily,
			Metrics: []gamify.StreakMetric{{Metric: "words", Min: amt(1)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 3}}},
		Achievements: []gamify.Achievement{
			{Key: "ten-words", Name: "Ten words", Description: "Write ten words", Kind: gamify.AchievementMetric, Metric: "words", Threshold: amt(10)},
			{Key: "onboarded", Name: "Onboarded", Kind: gamify.AchievementManual},
		},
		Points: []gamify.PointsSystem{{Key: "xp", Name: "XP",
			Triggers: []gamify.Trigger{{Key: "xp-words", Kind: gamify.TriggerMetric, Metric: "words", Threshold: amt(1), Points: amt(2)}},
			Levels: []gamify.Level{
				{Key: "bronze", Level: 1, Name: "Bronze", Threshold: amt(0)},
				{Key: "silver", Level: 2, Name: "Silver", Threshold: amt(20)},
			}}},
		Leaderboards: []gamify.Leaderboard{{Key: "top-words", Name: "Top writers", RankBy: gamify.RankByMetric, Metric: "words"}},
		Tenants:      []gamify.Tenant{{Key: "acme", Name: "Acme"}},
	}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with key (none when "") and a JSON body (none when
// nil; a string or []byte is sent as is).
func (e *env) do(method, path, key string, body any, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := e.srv.Client().Do(req.WithContext(ctx))
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return response{resp.StatusCode, resp.Header, raw}
}

// decode unmarshals the body strictly into v: a field the golden struct
// does not name fails the test, so the JSON shape is pinned both ways.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	require.Equal(t, "application/json", r.header.Get("Content-Type"), "body %s", r.body)
	reflect.ValueOf(v).Elem().SetZero() // a reused target keeps no old fields
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "body %s", r.body)
}

// errBody is the golden error body.
type errBody struct {
	Code   string `json:"code"`
	Error  string `json:"error"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
}

// requireError checks status, code and field of an error response.
func (r response) requireError(t *testing.T, status int, code, field string) errBody {
	t.Helper()
	require.Equal(t, status, r.status, "body %s", r.body)
	var b errBody
	r.decode(t, &b)
	require.Equal(t, code, b.Code, "body %s", r.body)
	require.Equal(t, field, b.Field, "body %s", r.body)
	require.NotEmpty(t, b.Error)
	require.Equal(t, b.Error, b.Detail)
	return b
}

func (r response) requireStatus(t *testing.T, status int) {
	t.Helper()
	require.Equal(t, status, r.status, "body %s", r.body)
}

// track sends a Trophy metric event for user with value.
func (e *env) track(user string, value any, hdr ...string) response {
	e.t.Helper()
	return e.do("POST", "/v1/metrics/words/event", appKey, map[string]any{"user": map[string]any{"id": user}, "value": value}, hdr...)
}

func newBenchServer(b *testing.B, eng *gamify.Engine) *httptest.Server {
	h, err := httpapi.New(eng, httpapi.Options{Keys: []httpapi.Key{{Secret: appKey}}})
	require.NoError(b, err)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv
}
