package bench

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

var (
	replayCommands = flag.Int("replaycmds", 100_000, "commands in the crash image of BenchmarkReplay")
	ckptInterval   = flag.Duration("ckptinterval", 0, "CheckpointInterval of BenchmarkCheckpointDefaults (0: the default)")
	ckptSize       = flag.Int64("ckptsize", 0, "CheckpointSize of BenchmarkCheckpointDefaults (0: the default)")
	storeDir       = flag.String("storedir", "", "directory keeping the built stores (fullStore, boardStore) between runs; "+
		"BenchmarkTrackFullScaling then opens a copy of one at 1M users instead of building it, BenchmarkOpen the stored one")
)

// noCheckpoint keeps every command in the log: no checkpoint runs before Close.
const noCheckpoint, noCheckpointSize = 24 * time.Hour, 1 << 50

var fullBuilt = map[int]string{}

// fullStore returns a full-pipeline store of n users (fullEngine), closed
// cleanly so the file holds everything and there is no log; built once per
// process, or once for all runs with -storedir (a 1M-user store takes
// minutes to build).
func fullStore(b *testing.B, n int) string {
	if p, ok := fullBuilt[n]; ok {
		return p
	}
	dir := cmp.Or(*storeDir, scratch)
	path := filepath.Join(dir, fmt.Sprintf("full-%d.db", n))
	done := path + ".done" // written last: a store without it is incomplete
	if _, err := os.Stat(done); err != nil || *storeDir == "" {
		os.Remove(path)
		os.RemoveAll(path + ".log")
		eng, _ := fullEngineAt(b, path, &gamify.Options{Durability: gamify.Buffered}, n)
		if err := eng.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	fullBuilt[n] = path
	return path
}

// copyStore copies the database file src and its command log (src + ".log",
// if there is one) to dst, as a crash would leave them.
func copyStore(b *testing.B, src, dst string) {
	copyFile := func(from, to string) {
		in, err := os.Open(from)
		if err != nil {
			b.Fatal(err)
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
	copyFile(src, dst)
	segs, err := os.ReadDir(src + ".log")
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dst+".log", 0o700); err != nil {
		b.Fatal(err)
	}
	for _, s := range segs {
		copyFile(filepath.Join(src+".log", s.Name()), filepath.Join(dst+".log", s.Name()))
	}
}

// crashImage returns a copy, taken while the engine was open and after
// Flush, of a full-pipeline store of n users whose log holds k tracked events
// (one command each, as one Buffered producer sends them) that no checkpoint
// folded.
func crashImage(b *testing.B, n, k int) string {
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "full.db")
	copyStore(b, fullStore(b, n), path)
	eng, err := gamify.Open(path, &gamify.Options{Durability: gamify.Buffered, Clock: gamify.NewManualClock(fullEngine0),
		CheckpointInterval: noCheckpoint, CheckpointSize: noCheckpointSize})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	ids := userIDs(n)
	for i := range int64(k) {
		if _, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[(i*7919)%int64(n)], Value: 3}); err != nil {
			b.Fatal(err)
		}
	}
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if st := eng.Stats(); st.Checkpoints != 0 || st.LogPosition-st.CheckpointPosition != uint64(k) {
		b.Fatalf("crash image: %d checkpoints, %d commands after the checkpoint; want 0 and %d",
			st.Checkpoints, st.LogPosition-st.CheckpointPosition, k)
	}
	img := filepath.Join(dir, "image.db")
	copyStore(b, path, img)
	return img
}

// BenchmarkReplay measures Open after a crash whose log holds -replaycmds
// un-checkpointed events of the full pipeline: one op is one Open, which
// replays them all.
func BenchmarkReplay(b *testing.B) {
	cmds := *replayCommands
	if testing.Short() {
		cmds = min(cmds, 2_000) // the CI's smoke run
	}
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d/commands=%d", n, cmds), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			img := crashImage(b, n, cmds)
			path := filepath.Join(b.TempDir(), "open.db")
			var replayed uint64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				os.RemoveAll(path + ".log")
				copyStore(b, img, path)
				b.StartTimer()
				eng, err := gamify.Open(path, &gamify.Options{Durability: gamify.Buffered, Clock: gamify.NewManualClock(fullEngine0)})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st := eng.Stats()
				if st.Replayed != uint64(cmds) || st.ReplayFailed != 0 {
					b.Fatalf("replayed %d commands (%d failed), want %d", st.Replayed, st.ReplayFailed, cmds)
				}
				replayed += st.Replayed
				if err := eng.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(replayed)/b.Elapsed().Seconds(), "commands/s")
		})
	}
}

// BenchmarkCheckpointDefaults runs the full pipeline at the default
// checkpoint thresholds (or -ckptinterval and -ckptsize, to measure others)
// from a clean Open until the first checkpoint is done, once whatever b.N (run it with -benchtime 1x). It reports when the
// first threshold tripped (trip-s, from Open), how long that checkpoint took
// and how much it folded (ckpt-ms, staged-MiB), the commands in the log just
// before it committed (outstanding: the worst case a crash leaves to replay),
// and Track latency before the checkpoint and while it ran.
func BenchmarkCheckpointDefaults(b *testing.B) {
	for _, c := range []struct {
		n         int
		mode      gamify.Durability
		producers int
	}{{10_000, gamify.Buffered, 1}, {1_000_000, gamify.Buffered, 1}, {10_000, gamify.Durable, 64}} {
		b.Run(fmt.Sprintf("users=%d/mode=%s/producers=%d", c.n, c.mode, c.producers), func(b *testing.B) {
			if c.n > 10_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			checkpointDefaults(b, c.n, c.mode, c.producers)
		})
	}
}

func checkpointDefaults(b *testing.B, n int, mode gamify.Durability, producers int) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "full.db")
	copyStore(b, fullStore(b, n), path)
	start := time.Now()
	eng, err := gamify.Open(path, &gamify.Options{Durability: mode, Clock: gamify.NewManualClock(fullEngine0),
		CheckpointInterval: *ckptInterval, CheckpointSize: *ckptSize})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	ids := userIDs(n)
	st0 := eng.Stats()
	b.ResetTimer()

	// The monitor samples Stats until the first checkpoint is done; the
	// checkpoint ran for LastCheckpoint before the sample that saw it.
	var stop atomic.Bool
	var done gamify.Stats
	var doneAt time.Duration
	var maxStaged int64
	monitor := make(chan struct{})
	go func() {
		defer close(monitor)
		defer stop.Store(true)
		for time.Since(start) < 5*time.Minute {
			st := eng.Stats()
			if st.Checkpoints > st0.Checkpoints {
				done, doneAt = st, time.Since(start)
				return
			}
			maxStaged = max(maxStaged, st.StagedBytes)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	type call struct{ at, took time.Duration }
	calls := make([][]call, producers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for !stop.Load() {
				i := next.Add(1) - 1
				t0 := time.Now()
				if _, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[(i*7919)%int64(n)], Value: 3}); err != nil {
					b.Error(err)
					return
				}
				calls[p] = append(calls[p], call{t0.Sub(start), time.Since(t0)})
			}
		})
	}
	wg.Wait()
	<-monitor
	b.StopTimer()
	if done.Checkpoints == 0 {
		b.Fatal("no checkpoint within 5 minutes")
	}
	ckptEnd := doneAt
	ckptStart := ckptEnd - done.LastCheckpoint
	var before, during []time.Duration
	for _, cs := range calls {
		for _, c := range cs {
			switch {
			case c.at+c.took < ckptStart:
				before = append(before, c.took)
			case c.at < ckptEnd:
				during = append(during, c.took)
			}
		}
	}
	pct := func(ds []time.Duration, q float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return float64(ds[int(q*float64(len(ds)-1))]) / 1e3
	}
	b.ReportMetric(ckptStart.Seconds(), "trip-s")
	b.ReportMetric(float64(done.LastCheckpoint)/1e6, "ckpt-ms")
	b.ReportMetric(float64(maxStaged)/(1<<20), "staged-MiB")
	b.ReportMetric(float64(done.LogPosition-st0.CheckpointPosition), "outstanding")
	b.ReportMetric(float64(next.Load())/ckptEnd.Seconds(), "events/s")
	b.ReportMetric(pct(before, 0.5), "p50-us")
	b.ReportMetric(pct(before, 0.99), "p99-us")
	b.ReportMetric(pct(during, 0.5), "ckpt-p50-us")
	b.ReportMetric(pct(during, 0.99), "ckpt-p99-us")
	b.ReportMetric(float64(len(during)), "ckpt-calls")
}
