package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkTrackHTTP measures a Trophy metric event over loopback HTTP
// (one client, Buffered), against BenchmarkTrackDirect for the same event
// through the Go API: the difference is the HTTP layer's cost.
func BenchmarkTrackHTTP(b *testing.B) {
	eng := benchEngine(b)
	srv := newBenchServer(b, eng)
	client := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf(`{"user":{"id":"u%d"},"value":1}`, i%1000)
		req, _ := http.NewRequest("POST", srv.URL+"/v1/metrics/words/event", strings.NewReader(body))
		req.Header.Set("X-API-Key", appKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func BenchmarkTrackDirect(b *testing.B) {
	eng := benchEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := eng.Track(ctx, gamify.Event{Metric: "words", User: fmt.Sprintf("u%d", i%1000), Value: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEngine(b *testing.B) *gamify.Engine {
	b.Helper()
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Clock: clock, Durability: gamify.Buffered})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	if _, err := eng.Apply(context.Background(), testGame()); err != nil {
		b.Fatal(err)
	}
	return eng
}
