package httpapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// FuzzAmountOf: a number is taken exactly or refused with a 422 naming the
// field, never rounded.
func FuzzAmountOf(f *testing.F) {
	for _, s := range []string{"12", "-0.5", "0.000001", "0.0000001", "1e3", "1.5e-7", "NaN", "Inf", "", "9223372036854.775807", "1e400", "0x10", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := amountOf("value", numberIn(s))
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusUnprocessableEntity || ae.field != "value" {
				t.Fatalf("amountOf(%q) error %v: want a 422 naming value", s, err)
			}
			return
		}
		back, err := gamify.ParseAmount(a.String())
		if err != nil || back != a {
			t.Fatalf("amountOf(%q) = %s does not round-trip", s, a)
		}
		if f, perr := strconv.ParseFloat(s, 64); perr == nil && math.Abs(f-a.Float64()) > 1e-6*math.Max(1, math.Abs(f)) {
			t.Fatalf("amountOf(%q) = %s, far from %v", s, a, f)
		}
	})
}

// FuzzRequests sends arbitrary requests to the handler: every answer is
// JSON with a known status, never a 500 or a panic.
func FuzzRequests(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/v1/metrics/words/event", `{"user":{"id":"ana"},"value":1}`},
		{"POST", "/v1/users", `{"id":"bo","tz":"Europe/Paris"}`},
		{"GET", "/v1/users/ana/streak?historyPeriods=3", ""},
		{"GET", "/v1/leaderboards/top?offset=-1&userId=ana", ""},
		{"POST", "/admin/v1/metrics/events", `[{"key":"words","user":{"id":"x"},"value":"2.5"}]`},
		{"PATCH", "/admin/v1/metrics", `[{"id":"words","name":"W"}]`},
		{"GET", "/api/v1/gamify/admin/participants?sort_by=total_points&page=2", ""},
		{"POST", "/api/v1/gamify/admin/badges", `{"code":"b","name":"B"}`},
		{"DELETE", "/api/v1/gamify/admin/participants/ana?anonymize=true", ""},
		{"GET", "/tenants/acme/v1/users/ana", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(f.TempDir(), "fuzz.db"), &gamify.Options{Clock: clock, Durability: gamify.Buffered})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { eng.Close() })
	ctx := f.Context()
	if _, err := eng.Apply(ctx, gamify.Game{
		Metrics:      []gamify.Metric{{Key: "words", Name: "Words"}},
		Leaderboards: []gamify.Leaderboard{{Key: "top", Name: "Top", RankBy: gamify.RankByMetric, Metric: "words"}},
		Tenants:      []gamify.Tenant{{Key: "acme", Name: "Acme"}},
	}); err != nil {
		f.Fatal(err)
	}
	h, err := New(eng, Options{Keys: []Key{{Secret: "k", Scopes: []string{ScopeAdmin}}}, MaxBodyBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			method = "GET"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("X-API-Key", "k")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, rec.Body)
		}
	})
}

// TestAmountOfExponent checks exponent forms are read exactly: no float64
// rounding, and more than 6 fractional digits refused.
func TestAmountOfExponent(t *testing.T) {
	for s, want := range map[string]string{
		"9000000000.000001e0": "9000000000.000001", "1.25e2": "125", "-125E-2": "-1.25", "+5e0": "5",
		"1e3": "1000", "10e-7": "0.000001", "0.0000015e1": "0.000015", "1.000000000e0": "1",
	} {
		a, err := amountOf("value", numberIn(s))
		if err != nil || a.String() != want {
			t.Errorf("amountOf(%q) = %s, %v; want %s", s, a, err, want)
		}
	}
	for _, s := range []string{"1000000000.00000001e0", "1.5e-7", "1e-400", "1e400", "e5", "1.2.3e0", "1e", "1e+-2", "0x1p3"} {
		if a, err := amountOf("value", numberIn(s)); err == nil {
			t.Errorf("amountOf(%q) = %s; want an error", s, a)
		}
	}
}
