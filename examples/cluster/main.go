// Command cluster shows three gamify replicas sharing one state over NATS
// JetStream: it starts three embedded NATS servers (loopback, JetStream
// on, routed as one cluster), opens one replica on each, tracks events on
// all three at once and prints one leaderboard as every replica sees it.
//
//	go run ./examples/cluster
//	go run ./examples/cluster -urls nats://a:4222,nats://b:4222,nats://c:4222
//
// With -urls it uses that cluster instead of embedded servers (it needs
// JetStream with three servers, or -replicas 1 on a single one).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/internal/natscluster"
	"github.com/gamifykit/gamify/jetstream"
)

func main() {
	urls := flag.String("urls", "", "comma-separated NATS URLs of a cluster to use instead of embedded servers")
	dir := flag.String("dir", "", "directory of the replicas' files (default: a new temporary one)")
	stream := flag.String("stream", "GAMIFY_EXAMPLE", "stream name (also names the lease and snapshot buckets)")
	replicas := flag.Int("replicas", 3, "stream replicas")
	rounds := flag.Int("rounds", 3, "rounds of events")
	flag.Parse()
	if err := run(*urls, *dir, *stream, *replicas, *rounds); err != nil {
		log.Fatal(err)
	}
}

var players = []string{"ana", "ben", "cai", "dee", "eli", "fay"}

func run(urls, dir, stream string, replicas, rounds int) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "gamify-cluster-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var servers []string
	if urls == "" {
		c, err := natscluster.Start(filepath.Join(dir, "nats"), 3, 30*time.Second)
		if err != nil {
			return err
		}
		defer c.Shutdown()
		servers = c.URLs()
		fmt.Println("three embedded NATS servers:", strings.Join(servers, " "))
	} else {
		servers = strings.Split(urls, ",")
	}

	// One replica per server, each with its own file.
	var reps []*jetstream.Replica
	for i := range 3 {
		cfg := jetstream.Config{
			URLs:     append(servers[i%len(servers):], servers[:i%len(servers)]...),
			Name:     fmt.Sprintf("replica-%d", i+1),
			Stream:   stream,
			Replicas: replicas,
		}
		r, err := jetstream.Open(filepath.Join(dir, fmt.Sprintf("replica-%d.db", i+1)), cfg, nil)
		if err != nil {
			return err
		}
		defer r.Close()
		reps = append(reps, r)
	}
	ctx := context.Background()

	// The game, applied through the first replica; the others Sync before
	// they write against it.
	if _, err := reps[0].Apply(ctx, gamify.Game{
		Metrics: []gamify.Metric{{Key: "lessons", Name: "Lessons"}},
		Leaderboards: []gamify.Leaderboard{{Key: "all-time", Name: "All-time lessons",
			RankBy: gamify.RankByMetric, Metric: "lessons"}},
	}); err != nil {
		return err
	}
	for _, r := range reps {
		if err := r.Sync(ctx); err != nil {
			return err
		}
	}

	for round := 1; round <= rounds; round++ {
		// Every replica tracks events at once.
		var wg sync.WaitGroup
		errs := make(chan error, len(reps))
		for i, r := range reps {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
				for k := range 20 {
					_, err := r.Track(ctx, gamify.Event{User: players[rng.IntN(len(players))], Metric: "lessons",
						Value: float64(1 + rng.IntN(3)), IdempotencyKey: fmt.Sprintf("round%d-replica%d-%d", round, i, k)})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		for _, r := range reps {
			if err := r.Sync(ctx); err != nil {
				return err
			}
		}
		// Every Sync appends a barrier record to the log, so a replica read
		// just after another's Sync may stand one or two positions behind
		// the others, with the same standings (no event is among those
		// records) and a lag of 0 (it has not heard of them yet).
		fmt.Printf("\nround %d: the top 3 as each replica reads it (locally)\n", round)
		for i, r := range reps {
			page, err := r.Leaderboards().Rankings(ctx, "all-time", gamify.BoardQuery{Limit: 3})
			if err != nil {
				return err
			}
			var row []string
			for _, e := range page.Rows {
				row = append(row, fmt.Sprintf("%d. %s %s", e.Rank, e.User, e.Score))
			}
			st := r.Stats()
			fmt.Printf("  replica %d (position %d, lag %d, lease %v): %s\n", i+1, st.LogPosition,
				st.LogHead-st.LogPosition, r.Log().Leader(), strings.Join(row, "  "))
		}
	}
	return nil
}
