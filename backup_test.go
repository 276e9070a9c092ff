package gamify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestBackupUnderLoad backs up while writers track events: the restored
// copy passes Check and holds every event acknowledged before Backup was
// called, in both durability modes.
func TestBackupUnderLoad(t *testing.T) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			te := openTest(t, &gamify.Options{Durability: mode})
			mustMetric(t, te.Engine, "steps")
			const writers = 4
			var acked [writers]atomic.Int64
			stop := make(chan struct{})
			var failed atomic.Bool
			waitAcked := func(i int, n int64) {
				for acked[i].Load() < n && !failed.Load() {
					runtime.Gosched()
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for i := range writers {
				wg.Go(func() {
					user := fmt.Sprintf("u%d", i)
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						_, err := te.Track(ctx, gamify.Event{Metric: "steps", User: user, Amount: gamify.AmountFromInt(1), IdempotencyKey: fmt.Sprint(n)})
						if err != nil {
							failed.Store(true)
							errs <- err
							return
						}
						acked[i].Add(1)
					}
				})
			}
			// Let every writer get going, then back up in the middle of the load.
			for i := range writers {
				waitAcked(i, 20)
			}
			var before [writers]int64
			for i := range writers {
				before[i] = acked[i].Load()
			}
			var buf bytes.Buffer
			require.NoError(t, te.Backup(ctx, &buf))
			// Writers go on after the backup too.
			for i := range writers {
				waitAcked(i, before[i]+20)
			}
			close(stop)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}

			path := filepath.Join(t.TempDir(), "restored.db")
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
			restored, err := gamify.Open(path, &gamify.Options{Clock: te.clock})
			require.NoError(t, err)
			defer restored.Close()
			require.NoError(t, restored.Check(ctx))
			for i := range writers {
				user := fmt.Sprintf("u%d", i)
				m, err := restored.Users().Metric(ctx, user, "steps")
				require.NoError(t, err)
				// Each writer's events are sequential: the copy holds a prefix
				// of them, at least every one acknowledged before Backup.
				require.GreaterOrEqual(t, m.Total.Cmp(gamify.AmountFromInt(before[i])), 0, "%s: %s of %d acknowledged before the backup", user, m.Total, before[i])
				live, err := te.Users().Metric(ctx, user, "steps")
				require.NoError(t, err)
				require.LessOrEqual(t, m.Total.Cmp(live.Total), 0)
				// The copy's idempotency records agree with its totals: the
				// next key is new there, the last one it holds replays.
				res, err := restored.Track(ctx, gamify.Event{Metric: "steps", User: user, Amount: gamify.AmountFromInt(1), IdempotencyKey: fmt.Sprint(before[i] - 1)})
				require.NoError(t, err)
				require.True(t, res.IdempotentReplayed)
			}
		})
	}
}

func TestBackupStopsWithItsContextAndAfterClose(t *testing.T) {
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "steps")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	require.ErrorIs(t, te.Backup(ctx, &buf), context.Canceled)
	require.NoError(t, te.Close())
	require.ErrorIs(t, te.Backup(context.Background(), &buf), gamify.ErrClosed)
}

// TestBackupReportsLostBufferedEvents: in Buffered mode a failed commit of
// acknowledged events is Backup's error, and nothing is written: a copy
// without them would break the promise.
func TestBackupReportsLostBufferedEvents(t *testing.T) {
	ctx := context.Background()
	eng, f := openFaulty(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	for i := range 3 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	disk := errors.New("disk on fire")
	f.arm(disk)
	var buf bytes.Buffer
	require.ErrorIs(t, eng.Backup(ctx, &buf), disk)
	require.Zero(t, buf.Len())
	// Reported once: the next backup is of what the store holds.
	require.NoError(t, eng.Backup(ctx, &buf))
	require.NotZero(t, buf.Len())
}
