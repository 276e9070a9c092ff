package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/webhook"
)

// BenchmarkWebhookDeliver measures delivery of outbox entries (UserCreated)
// to one loopback endpoint that accepts everything: one signed POST per
// entry, an Ack per 100.
func BenchmarkWebhookDeliver(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	eng, err := gamify.Open(filepath.Join(dir, "bench.db"), &gamify.Options{Durability: gamify.Buffered})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
		b.Fatal(err)
	}
	warmUsers(b, eng, userIDs(b.N))
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if got.Add(1) == int64(b.N) {
			close(done)
		}
	}))
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	s, err := webhook.Start(ctx, eng, webhook.Config{DeadLetterDir: dir,
		Endpoints: []webhook.Endpoint{{Name: "bench", URL: srv.URL, Secret: []byte("k")}}})
	if err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
