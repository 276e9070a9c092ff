package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gamifykit/gamify"
)

// BenchmarkOutboxConsume measures a durable consumer reading the outbox:
// Fetch of 100 entries (decoded) and one Ack per fetch, over 100,000
// UserCreated entries committed beforehand.
func BenchmarkOutboxConsume(b *testing.B) {
	ctx := context.Background()
	eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: gamify.Buffered})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	warmUsers(b, eng, userIDs(n)) // one UserCreated per user
	b.ReportAllocs()
	b.ResetTimer()
	read := 0
	for i := 0; read < b.N; i++ {
		c, err := eng.Outbox().Consumer(ctx, fmt.Sprint("c", i))
		if err != nil {
			b.Fatal(err)
		}
		for read < b.N && c.Acked() < n {
			es, err := c.Fetch(ctx, 100)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Ack(ctx, es[len(es)-1].Seq); err != nil {
				b.Fatal(err)
			}
			read += len(es)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "entries/s")
}
