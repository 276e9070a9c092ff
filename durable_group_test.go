package gamify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/stretchr/testify/require"
)

// Durable callers committed in one group are each answered with their own
// result or error, every event applied once: many producers at once, some
// of them with events the writer refuses as it applies them (an
// idempotency key used again for another value).
func TestDurableCallersInOneGroupGetTheirOwnAnswers(t *testing.T) {
	eng := openTest(t, &gamify.Options{Durability: gamify.Durable})
	mustMetric(t, eng.Engine, "xp")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a lost request hangs its caller
	defer cancel()
	const producers, each = 32, 20
	var wg sync.WaitGroup
	errs := make([][]error, producers)
	totals := make([][]float64, producers)
	for p := range producers {
		errs[p], totals[p] = make([]error, each), make([]float64, each)
		wg.Go(func() {
			for i := range each {
				ev := gamify.Event{Metric: "xp", User: fmt.Sprint("u", p), Value: 1, IdempotencyKey: fmt.Sprint("k", p, "-", i)}
				if i%5 == 4 {
					ev.IdempotencyKey, ev.Value = fmt.Sprint("k", p, "-", i-1), 2 // ErrConflict, as the command applies
				}
				res, err := eng.Track(ctx, ev)
				errs[p][i] = err
				if err == nil {
					totals[p][i] = res.Total.Float64()
				}
			}
		})
	}
	wg.Wait()
	for p := range producers {
		want := 0.0
		for i := range each {
			if i%5 == 4 {
				require.ErrorIs(t, errs[p][i], gamify.ErrConflict, "producer %d event %d: answered, not left waiting", p, i)
				continue
			}
			require.NoError(t, errs[p][i], "producer %d event %d", p, i)
			want++
			require.Equal(t, want, totals[p][i], "producer %d event %d: its own result", p, i)
		}
		got, err := eng.Users().Metric(ctx, fmt.Sprint("u", p), "xp")
		require.NoError(t, err)
		require.Equal(t, want, got.Total.Float64(), "producer %d: each event applied once", p)
	}
	require.NoError(t, eng.Check(ctx))
}
