package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

const participants = "/api/v1/gamify/admin/participants"

func TestAuthKeysAndScopes(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.do("GET", "/v1/leaderboards", "", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
	e.do("GET", "/v1/leaderboards", "wrong", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
	e.do("GET", participants, "", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")

	// Any valid key reaches the application API, in either header.
	e.do("GET", "/v1/leaderboards", appKey, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/leaderboards", "", nil, "Authorization", "Bearer "+appKey).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/leaderboards", adminKey, nil).requireStatus(t, http.StatusOK)

	// Admin endpoints need admin or gamify:admin.
	b := e.do("GET", participants, appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
	require.Contains(t, b.Detail, "gamify:admin")
	e.do("GET", participants, adminKey, nil).requireStatus(t, http.StatusOK)
	e.do("GET", participants, gadminKey, nil).requireStatus(t, http.StatusOK)
}

func TestNoKeysConfiguredRefusesAll(t *testing.T) {
	e := newEnv(t, httpapi.Options{Keys: []httpapi.Key{}})
	e.do("GET", "/v1/leaderboards", appKey, nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
}

// New refuses options it cannot serve with a ValidationError per field,
// naming the key by index and Name and never quoting a secret.
func TestNewRefusesBadOptions(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	for _, c := range []struct {
		name   string
		opts   httpapi.Options
		fields []string
	}{
		{"duplicate secret", httpapi.Options{Keys: []httpapi.Key{{Secret: "s3cr3t", Name: "a"}, {Secret: "s3cr3t", Name: "b"}}}, []string{"httpapi.Options.Keys[1].Secret"}},
		{"empty secret", httpapi.Options{Keys: []httpapi.Key{{Secret: "ok"}, {Secret: "", Name: "unset"}}}, []string{"httpapi.Options.Keys[1].Secret"}},
		{"admin confined to a user", httpapi.Options{Keys: []httpapi.Key{{Secret: "x", Scopes: []string{httpapi.ScopeGamifyAdmin}, User: "ana"}}}, []string{"httpapi.Options.Keys[0].User"}},
		{"negative body limit", httpapi.Options{MaxBodyBytes: -1}, []string{"httpapi.Options.MaxBodyBytes"}},
		{"all at once", httpapi.Options{Keys: []httpapi.Key{{Secret: ""}, {Secret: "y", Scopes: []string{httpapi.ScopeAdmin}, User: "bo"}}, MaxBodyBytes: -5},
			[]string{"httpapi.Options.Keys[0].Secret", "httpapi.Options.Keys[1].User", "httpapi.Options.MaxBodyBytes"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := httpapi.New(e.eng, c.opts)
			require.Nil(t, h)
			require.ErrorIs(t, err, gamify.ErrInvalid)
			var got []string
			for _, x := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ve *gamify.ValidationError
				require.ErrorAs(t, x, &ve)
				got = append(got, ve.Field)
			}
			require.Equal(t, c.fields, got)
			require.NotContains(t, err.Error(), "s3cr3t")
		})
	}
	_, err := httpapi.New(e.eng, httpapi.Options{Keys: []httpapi.Key{{Secret: "a"}, {Secret: "b", Scopes: []string{httpapi.ScopeAdmin}}}})
	require.NoError(t, err)
}

func TestBodySizeLimit(t *testing.T) {
	e := newEnv(t, httpapi.Options{MaxBodyBytes: 256})
	big := `{"id":"ana","name":"` + strings.Repeat("x", 300) + `"}`
	// Declared length over the limit: refused before reading.
	e.do("POST", "/v1/users", appKey, big).requireError(t, http.StatusRequestEntityTooLarge, "too_large", "")

	// No declared length (chunked): refused while reading.
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/users", &chunked{strings.NewReader(big)})
	require.NoError(t, err)
	req.Header.Set("X-API-Key", appKey)
	req.ContentLength = -1
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// Nothing was created; a body under the limit is served.
	e.do("GET", "/v1/users/ana", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("POST", "/v1/users", appKey, `{"id":"ana"}`).requireStatus(t, http.StatusCreated)
}

// chunked hides its length from net/http, forcing a chunked body.
type chunked struct{ r *strings.Reader }

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestErrorBodies(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	// A ValidationError names the engine's field.
	e.do("POST", "/v1/users", appKey, `{"id":"ana","tz":"Mars/Olympus"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "User.TZ")
	// Request-level checks name the JSON field.
	e.do("POST", "/v1/users", appKey, `{"name":"no id"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "id")
	e.do("POST", "/v1/users", appKey, `{"id":5}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "id")
	e.do("POST", "/v1/metrics/words/event", appKey, `{"user":{"id":"ana"},"value":"NaN"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "value")
	e.do("POST", "/v1/metrics/words/event", appKey, `{"user":{"id":"ana"},"value":0.0000001}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "value")
	e.do("POST", "/v1/metrics/words/event", appKey, `{"value":1}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "user.id")
	e.do("POST", "/v1/users", appKey, `{"id":`).requireError(t, http.StatusBadRequest, "bad_request", "")
	e.do("POST", "/v1/users", appKey, ``).requireError(t, http.StatusBadRequest, "bad_request", "")
	e.do("POST", "/v1/users", appKey, `{"id":"a"}{"id":"b"}`).requireError(t, http.StatusBadRequest, "bad_request", "")

	// Sentinels.
	e.do("GET", "/v1/users/nobody", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	// A missing metric is 404 as Trophy answers, naming the engine's field;
	// an inactive one 409, and neither creates the user.
	e.do("POST", "/v1/metrics/nosuch/event", appKey, `{"user":{"id":"cy"},"value":1}`).requireError(t, http.StatusNotFound, "not_found", "Event.Metric")
	_, err := e.eng.Metrics().Create(context.Background(), gamify.Metric{Key: "idle", Name: "Idle", Status: gamify.StatusInactive})
	require.NoError(t, err)
	e.do("POST", "/v1/metrics/idle/event", appKey, `{"user":{"id":"cy"},"value":1}`).requireError(t, http.StatusConflict, "conflict", "Event.Metric")
	e.do("GET", "/v1/users/cy", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	// The first bad field decides, and the metric is checked first.
	e.do("POST", "/v1/metrics/nosuch/event", appKey, `{"user":{"id":"cy"},"value":1,"attributes":{"nope":"x"}}`).requireError(t, http.StatusNotFound, "not_found", "Event.Metric")
	e.do("POST", "/v1/metrics/words/event", appKey, `{"user":{"id":"cy"},"value":1,"attributes":{"nope":"x"}}`).requireStatus(t, http.StatusUnprocessableEntity)
	e.do("POST", "/v1/users", appKey, `{"id":"bo"}`).requireStatus(t, http.StatusCreated)
	e.do("POST", "/v1/users", appKey, `{"id":"bo"}`).requireError(t, http.StatusConflict, "conflict", "")

	// Routing errors are JSON too.
	e.do("GET", "/v1/nothing-here", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	r := e.do("DELETE", "/v1/leaderboards", appKey, nil)
	r.requireError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
	require.Contains(t, r.header.Get("Allow"), "GET")
}

func TestClosedEngineIs503(t *testing.T) {
	eng, err := gamify.Open(filepath.Join(t.TempDir(), "closed.db"), nil)
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	h, err := httpapi.New(eng, httpapi.Options{Keys: []httpapi.Key{{Secret: appKey}}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, eng: eng, srv: srv}
	e.do("GET", "/v1/users/ana", appKey, nil).requireError(t, http.StatusServiceUnavailable, "unavailable", "")
	e.do("GET", "/healthz", "", nil).requireError(t, http.StatusServiceUnavailable, "unavailable", "")
}

func TestHealthNeedsNoKey(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	r := e.do("GET", "/healthz", "", nil)
	r.requireStatus(t, http.StatusOK)
	var b struct {
		Status string `json:"status"`
	}
	r.decode(t, &b)
	require.Equal(t, "ok", b.Status)
}

func TestTenantSelection(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	ctx := context.Background()
	acme, err := e.eng.Tenant("acme")
	require.NoError(t, err)
	_, err = acme.Apply(ctx, testGame())
	require.NoError(t, err)

	// By header: the user lives in the tenant only.
	e.do("POST", "/v1/users", appKey, `{"id":"ana"}`, "Tenant-ID", "acme").requireStatus(t, http.StatusCreated)
	_, err = acme.Users().Get(ctx, "ana")
	require.NoError(t, err)
	e.do("GET", "/v1/users/ana", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	// By path.
	e.do("GET", "/tenants/acme/v1/users/ana", appKey, nil).requireStatus(t, http.StatusOK)
	// An id with an encoded slash stays one path segment, with or without the prefix.
	e.do("PUT", "/tenants/acme/v1/users/a%2Fb", appKey, `{"name":"Slash"}`).requireStatus(t, http.StatusOK)
	var u struct {
		ID string `json:"id"`
	}
	r := e.do("GET", "/v1/users/a%2Fb", appKey, nil, "Tenant-ID", "acme")
	require.NoError(t, json.Unmarshal(r.body, &u))
	require.Equal(t, "a/b", u.ID)
	e.do("GET", "/tenants/acme/v1/users/a%2Fb", appKey, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/tenants/acme/v1/users/ana", appKey, nil, "Tenant-ID", "other").requireError(t, http.StatusBadRequest, "bad_request", "Tenant-ID")
	// Unknown tenants.
	e.do("GET", "/v1/users/ana", appKey, nil, "Tenant-ID", "nope").requireError(t, http.StatusNotFound, "tenant_not_found", "Tenant-ID")
	e.do("GET", "/tenants/nope/v1/users/ana", appKey, nil).requireError(t, http.StatusNotFound, "tenant_not_found", "Tenant-ID")

	// A key bound to a tenant uses it by default and cannot leave it.
	e.do("GET", "/v1/users/ana", acmeKey, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/users/ana", acmeKey, nil, "Tenant-ID", "acme").requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/users/ana", acmeKey, nil, "Tenant-ID", "globex").requireError(t, http.StatusForbidden, "forbidden", "Tenant-ID")
}

type eventGolden struct {
	EventID            string                       `json:"eventId"`
	MetricID           string                       `json:"metricId"`
	Total              float64                      `json:"total"`
	Achievements       []achievementGolden          `json:"achievements"`
	CurrentStreak      *streakGolden                `json:"currentStreak"`
	Points             map[string]pointsDiffGolden  `json:"points"`
	Leaderboards       map[string]boardChangeGolden `json:"leaderboards"`
	IdempotencyKey     string                       `json:"idempotencyKey"`
	IdempotentReplayed *bool                        `json:"idempotentReplayed"`
}

func TestIdempotencyKeyReplay(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	first := e.track("ana", 4, "Idempotency-Key", "k-1")
	first.requireStatus(t, http.StatusCreated)
	var a eventGolden
	first.decode(t, &a)
	require.Equal(t, "k-1", a.IdempotencyKey)
	require.NotNil(t, a.IdempotentReplayed)
	require.False(t, *a.IdempotentReplayed)
	require.Equal(t, 4.0, a.Total)
	require.Contains(t, a.Points, "xp")

	// The retry changes nothing and says so with 202.
	again := e.track("ana", 4, "Idempotency-Key", "k-1")
	again.requireStatus(t, http.StatusAccepted)
	var b eventGolden
	again.decode(t, &b)
	require.True(t, *b.IdempotentReplayed)
	require.Equal(t, a.EventID, b.EventID)
	require.Equal(t, 4.0, b.Total)
	require.Empty(t, b.Points)
	require.Empty(t, b.Achievements)

	// The same key with another value is a conflict naming the header, and
	// changes nothing.
	e.track("ana", 5, "Idempotency-Key", "k-1").requireError(t, http.StatusConflict, "conflict", "Idempotency-Key")
	m, err := e.eng.Users().Metric(context.Background(), "ana", "words")
	require.NoError(t, err)
	require.Equal(t, "4", m.Total.String())

	// Without a key, both fields are left out.
	plain := e.track("ana", 1)
	plain.requireStatus(t, http.StatusCreated)
	require.NotContains(t, string(plain.body), "idempotencyKey")
	require.NotContains(t, string(plain.body), "idempotentReplayed")
}

func TestUserScopedKey(t *testing.T) {
	keys := []httpapi.Key{{Secret: appKey}, {Secret: "ana-key", Name: "ana's phone", User: "ana"}}
	e := newEnv(t, httpapi.Options{Keys: keys})
	const k = "ana-key"
	e.do("POST", "/v1/metrics/words/event", k, `{"user":{"id":"ana"},"value":1}`).requireStatus(t, http.StatusCreated)
	e.do("POST", "/v1/metrics/words/event", k, `{"user":{"id":"bo"},"value":1}`).requireError(t, http.StatusForbidden, "forbidden", "")
	require.Equal(t, "missing", e.total("bo"))
	e.do("GET", "/v1/users/ana", k, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/users/ana/streak", k, nil).requireStatus(t, http.StatusOK)
	e.do("POST", "/v1/users", appKey, `{"id":"bo"}`).requireStatus(t, http.StatusCreated)
	e.do("GET", "/v1/users/bo", k, nil).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("PATCH", "/v1/users/bo", k, `{"name":"X"}`).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("GET", "/v1/users/bo/points/xp", k, nil).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("POST", "/v1/users", k, `{"id":"cy"}`).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("POST", "/v1/achievements/onboarded/complete", k, `{"user":{"id":"bo"}}`).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("POST", "/v1/achievements/onboarded/complete", k, `{"user":{"id":"ana"}}`).requireStatus(t, http.StatusCreated)
	e.do("GET", "/v1/streaks?userIds=ana", k, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/streaks?userIds=ana,bo", k, nil).requireError(t, http.StatusForbidden, "forbidden", "")
	// Shared reads stay open.
	e.do("GET", "/v1/leaderboards/top-words", k, nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/v1/achievements", k, nil).requireStatus(t, http.StatusOK)
}

// TestConcurrentRetriesApplyOnce sends events from several clients at once,
// each twice under its Idempotency-Key (a client retrying after a lost
// answer): every event counts exactly once.
func TestConcurrentRetriesApplyOnce(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	const clients, events = 6, 15
	var wg sync.WaitGroup
	statuses := make(chan int, clients*events*2)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range events {
				body := fmt.Sprintf(`{"user":{"id":"u%d"},"value":%d}`, c%3, i+1)
				for range 2 {
					req, _ := http.NewRequest("POST", e.srv.URL+"/v1/metrics/words/event", strings.NewReader(body))
					req.Header.Set("X-API-Key", appKey)
					req.Header.Set("Idempotency-Key", fmt.Sprintf("c%d-e%d", c, i))
					resp, err := e.srv.Client().Do(req)
					if err != nil {
						statuses <- -1
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					statuses <- resp.StatusCode
				}
			}
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	require.Equal(t, map[int]int{http.StatusCreated: clients * events, http.StatusAccepted: clients * events}, counts)
	// Each of u0, u1, u2 got two clients' events: 2 × (1+…+15) = 240.
	for _, u := range []string{"u0", "u1", "u2"} {
		require.Equal(t, "240", e.total(u), u)
	}
}

// TestTrailingDataRefused checks a body is exactly one JSON value: a stray
// bracket or a second value after it is a 400 and creates nothing.
func TestTrailingDataRefused(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	for _, body := range []string{`{"id":"bob"}]`, `{"id":"bob"}}`, `{"id":"bob"} {"id":"bo"}`, `{"id":"bob"} x`} {
		e.do("POST", "/v1/users", appKey, body).requireError(t, http.StatusBadRequest, "bad_request", "")
	}
	e.do("GET", "/v1/users/bob", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	e.do("POST", "/v1/users", appKey, "{\"id\":\"bob\"}\n  ").requireStatus(t, http.StatusCreated)
}

// A body value of the wrong JSON type is 422 naming the field and the JSON
// it must be, not a Go type; a time that does not parse is one too.
func TestTypeErrorsNameTheFieldInJSONTerms(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	b := e.do("POST", "/v1/metrics/words/event", appKey, `{"user":{"id":"ana"},"value":1,"time":"yesterday"}`).
		requireError(t, http.StatusUnprocessableEntity, "invalid", "time")
	require.Contains(t, b.Error, "RFC 3339")
	b = e.do("POST", "/v1/metrics/words/event", appKey, `{"user":"ana","value":1}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "user")
	require.Contains(t, b.Error, "user must be a JSON object, not string")
	b = e.do("POST", "/admin/v1/metrics", adminKey, `{"key":"x","name":"X"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "")
	require.Contains(t, b.Error, "the body must be a JSON array, not object")
	b = e.do("POST", "/v1/metrics/words/event", appKey, `{"user":{"id":"ana"},"value":1e40}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "value")
	require.Contains(t, b.Error, "too large")
	require.Equal(t, "missing", e.total("ana"), "nothing was applied")
}
