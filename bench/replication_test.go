package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/internal/natscluster"
	"github.com/gamifykit/gamify/jetstream"
)

// BenchmarkReplicated measures replication over NATS JetStream on three
// embedded servers (one process, loopback): Track throughput and its
// p50/p99 latency with 3 replicas × 64 producers each; raw JetStream async
// publish of messages the size of a Track record to a stream of the same
// configuration, in the same run; and the catch-up rate of a fresh replica
// that applies the whole stream at Open; with the process's CPU time per
// event and per raw message. Each iteration is one run of 60,000 events
// (2,000 in the short smoke run).
func BenchmarkReplicated(b *testing.B) {
	n := 60_000
	if testing.Short() {
		n = 2_000
	}
	const replicas, producers = 3, 64
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		c, err := natscluster.Start(filepath.Join(dir, "nats"), 3, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Shutdown)
		cfg := func(i int, stream string) jetstream.Config {
			urls := c.URLs()
			return jetstream.Config{URLs: append(urls[i%3:], urls[:i%3]...), Name: fmt.Sprint("bench", i),
				Stream: stream, SnapshotInterval: -1}
		}
		ctx := context.Background()
		var reps []*jetstream.Replica
		for i := range replicas {
			r, err := jetstream.Open(filepath.Join(dir, fmt.Sprintf("r%d.db", i)), cfg(i, "GAMIFY"), nil)
			if err != nil {
				b.Fatal(err)
			}
			reps = append(reps, r)
		}
		if _, err := reps[0].Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
			b.Fatal(err)
		}
		ids := userIDs(1_000)
		for _, r := range reps {
			if err := r.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
		for i, id := range ids { // first sight of every user, untimed
			if _, err := reps[i%replicas].Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 1}); err != nil {
				b.Fatal(err)
			}
		}

		// Track: n events from replicas × producers goroutines.
		lat := make([][]time.Duration, replicas*producers)
		var wg sync.WaitGroup
		b.StartTimer()
		start, cpu := time.Now(), cpuTime()
		for g := range replicas * producers {
			r := reps[g%replicas]
			wg.Go(func() {
				for i := g; i < n; i += replicas * producers {
					t := time.Now()
					if _, err := r.Track(ctx, gamify.Event{Metric: "xp", User: ids[i%len(ids)], Value: 1}); err != nil {
						b.Error(err)
						return
					}
					lat[g] = append(lat[g], time.Since(t))
				}
			})
		}
		wg.Wait()
		elapsed, trackCPU := time.Since(start), cpuTime()-cpu
		b.StopTimer()
		all := slices.Concat(lat...)
		slices.Sort(all)
		trackRate := float64(n) / elapsed.Seconds()
		b.ReportMetric(trackRate, "events/s")
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")

		// The size of a Track record as stored: the stream's last message.
		l := reps[0].Log()
		st, err := l.JetStream().Stream(ctx, "GAMIFY")
		if err != nil {
			b.Fatal(err)
		}
		head := st.CachedInfo().State.LastSeq
		last, err := st.GetMsg(ctx, head)
		if err != nil {
			b.Fatal(err)
		}
		size := len(last.Data)

		// Raw: the same number of messages of that size, published async
		// from one goroutine to a stream configured alike (no message id:
		// the raw side does no de-duplication).
		raw, err := jetstream.New(ctx, cfg(0, "RAW"))
		if err != nil {
			b.Fatal(err)
		}
		cpu = cpuTime()
		rawRate, err := publishAsync(raw, n, size)
		if err != nil {
			b.Fatal(err)
		}
		rawCPU := cpuTime() - cpu
		raw.Close()
		b.ReportMetric(rawRate, "raw-msgs/s")
		b.ReportMetric(trackRate/rawRate, "vs-raw")
		b.ReportMetric(float64(size), "record-bytes")
		// The process's CPU (servers and replicas alike) per event and per
		// raw message: on one machine the servers and all three replicas
		// share its cores.
		b.ReportMetric(float64(trackCPU.Microseconds())/float64(n), "cpu-us/event")
		b.ReportMetric(float64(rawCPU.Microseconds())/float64(n), "raw-cpu-us/msg")

		// Catch-up: a fresh replica applies the whole stream at Open.
		t := time.Now()
		fresh, err := jetstream.Open(filepath.Join(dir, "fresh.db"), cfg(1, "GAMIFY"), nil)
		if err != nil {
			b.Fatal(err)
		}
		catchUp := time.Since(t)
		if got := fresh.Stats().LogPosition; got < head {
			b.Fatalf("fresh replica at %d after Open, stream at %d", got, head)
		}
		b.ReportMetric(float64(head)/catchUp.Seconds(), "catchup-cmds/s")
		fresh.Close()
		for _, r := range reps {
			r.Close()
		}
		c.Shutdown()
	}
}

// publishAsync publishes n messages of size bytes to l's stream with
// JetStream's async publish and returns the rate at which they were
// acknowledged.
func publishAsync(l *jetstream.Log, n, size int) (float64, error) {
	js := l.JetStream()
	data := make([]byte, size)
	subject := l.Config().Subject
	start := time.Now()
	deadline := start.Add(time.Minute)
	for i := 0; i < n; {
		if _, err := js.PublishAsync(subject, data); err != nil {
			// Stalled with too many acknowledgements outstanding (the
			// window is 4,000): wait for some, then publish again.
			if js.PublishAsyncPending() > 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
				continue
			}
			return 0, err
		}
		i++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		return 0, fmt.Errorf("raw publish: %d acknowledgements missing after a minute", js.PublishAsyncPending())
	}
	elapsed := time.Since(start)
	st, err := js.Stream(context.Background(), l.Config().Stream)
	if err != nil {
		return 0, err
	}
	if got := st.CachedInfo().State.Msgs; got != uint64(n) {
		return 0, fmt.Errorf("raw publish: the stream holds %d of %d messages", got, n)
	}
	return float64(n) / elapsed.Seconds(), nil
}
