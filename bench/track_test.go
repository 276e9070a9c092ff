package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/gamifykit/gamify"
)

// producerCounts are the concurrency levels of the write benchmarks.
var producerCounts = []int{1, 8, 64, 256}

// users is the number of distinct users the write benchmarks spread events over.
const users = 10_000

// runProducers splits b.N operations over p goroutines; op receives a
// globally unique operation number.
func runProducers(b *testing.B, p int, op func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	for range p {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// The process's CPU time over the timed part (every goroutine: the
	// committer and checkpoints too): a shared machine inflates it far less
	// than the wall time.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTrack measures Engine.Track of one-metric events.
func BenchmarkTrack(b *testing.B) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		for _, p := range producerCounts {
			b.Run(fmt.Sprintf("mode=%s/producers=%d", mode, p), func(b *testing.B) {
				ctx := context.Background()
				eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: mode})
				if err != nil {
					b.Fatal(err)
				}
				defer eng.Close()
				if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
					b.Fatal(err)
				}
				ids := userIDs(users)
				warmUsers(b, eng, ids)
				b.ReportAllocs()
				runProducers(b, p, func(i int64) error {
					_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[i%users], Value: 1})
					return err
				})
				if err := eng.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// warmUsers tracks one event per user before the timer starts, so that the
// benchmark measures steady state: known users, whose first-sight records
// (profile and id index, two more keys) are already written.
func warmUsers(b *testing.B, eng *gamify.Engine, ids []string) {
	ctx := context.Background()
	evs := make([]gamify.Event, 0, 1000)
	for i, id := range ids {
		evs = append(evs, gamify.Event{Metric: "xp", User: id, Value: 1})
		if len(evs) == cap(evs) || i == len(ids)-1 {
			if _, err := eng.TrackBatch(ctx, evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
}

func userIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%07d", i)
	}
	return ids
}

func openBolt(b *testing.B) *bolt.DB {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{Timeout: 1e9, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("events")); return err }); err != nil {
		b.Fatal(err)
	}
	return db
}

// oneKeyEvent is the raw baseline's whole event: one 16-byte key, one 8-byte value.
func oneKeyEvent(tx *bolt.Tx, i int64) error {
	k := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(i%users)), uint64(i))
	return tx.Bucket([]byte("events")).Put(k, binary.BigEndian.AppendUint64(nil, uint64(i)))
}

// BenchmarkBoltUpdate is the raw baseline for one producer: one durable
// bbolt Update per one-key event.
func BenchmarkBoltUpdate(b *testing.B) {
	db := openBolt(b)
	defer db.Close()
	b.ReportAllocs()
	runProducers(b, 1, func(i int64) error {
		return db.Update(func(tx *bolt.Tx) error { return oneKeyEvent(tx, i) })
	})
}

// BenchmarkBoltUpdateTwoKeys is BenchmarkBoltUpdate writing what an engine
// event writes: a record per user in one bucket and an append to a log in
// another. It separates the cost of touching two B-tree leaves per commit
// from the engine's own work.
func BenchmarkBoltUpdateTwoKeys(b *testing.B) {
	db := openBolt(b)
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("log")); return err }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runProducers(b, 1, func(i int64) error {
		return db.Update(func(tx *bolt.Tx) error {
			k := binary.BigEndian.AppendUint64(nil, uint64(i%users))
			if err := tx.Bucket([]byte("events")).Put(k, binary.BigEndian.AppendUint64(nil, uint64(i))); err != nil {
				return err
			}
			return tx.Bucket([]byte("log")).Put(binary.BigEndian.AppendUint64(nil, uint64(i)), k)
		})
	})
}

// BenchmarkBoltGroupCommit is the raw baseline for concurrent producers: a
// minimal one-writer group commit (drain what is waiting, one Update, wake
// everyone) of one-key events.
func BenchmarkBoltGroupCommit(b *testing.B) {
	for _, p := range producerCounts {
		b.Run(fmt.Sprintf("producers=%d", p), func(b *testing.B) { groupCommit(b, p, true, nil, perEvent(oneKeyEvent)) })
	}
}

// BenchmarkBoltGroupCommitRecords is BenchmarkBoltGroupCommit writing what a
// full-pipeline event (BenchmarkTrackFull) stores, at the sizes it stores
// them: two ledger entries, an award and an outbox note appended, and the
// user's state record rewritten. It is bbolt's own cost of those records,
// with no engine: the floor under the full pipeline's storage. In mode
// buffered a producer does not wait for the commit (the last event does),
// so batches grow to 4096 events, as the engine's Buffered ones do. Layout
// packed stores each batch's appended entries as one record per bucket
// (the state records stay one per user): what a layout of one record per
// batch and keyspace would cost. Layout runs stores them as the engine's
// store does since schema 6: one record per range of 32 sequences, a
// partly filled one read and rewritten by the next batch.
func BenchmarkBoltGroupCommitRecords(b *testing.B) {
	for _, mode := range []string{"durable", "buffered"} {
		for _, p := range []int{1, 64} {
			for _, layout := range []string{"perevent", "packed", "runs"} {
				if mode == "buffered" && p > 1 {
					continue
				}
				write := map[string]func(*bolt.Tx, []int64) error{"perevent": perEvent(fullRecordsEvent), "packed": packedRecords, "runs": runRecords}[layout]
				b.Run(fmt.Sprintf("mode=%s/producers=%d/layout=%s", mode, p, layout), func(b *testing.B) {
					groupCommit(b, p, mode == "durable", []string{"ledger", "awards", "outbox", "state"}, write)
				})
			}
		}
	}
}

// The sizes of a full-pipeline event's values (keys are 8 bytes), as its
// batches stage them.
var (
	ledgerValue = make([]byte, 21)
	awardValue  = make([]byte, 47)
	noteValue   = make([]byte, 154)
	stateValue  = make([]byte, 364)
)

func fullRecordsEvent(tx *bolt.Tx, i int64) error {
	seq := func(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }
	for _, r := range []struct {
		bucket string
		key    []byte
		val    []byte
	}{
		{"ledger", seq(2 * i), ledgerValue},
		{"ledger", seq(2*i + 1), ledgerValue},
		{"awards", seq(i), awardValue},
		{"outbox", seq(i), noteValue},
		{"state", seq(i % users), stateValue},
	} {
		if err := tx.Bucket([]byte(r.bucket)).Put(r.key, r.val); err != nil {
			return err
		}
	}
	return nil
}

// packedRecords writes a batch of full-pipeline events with their appended
// entries packed: one ledger, one awards and one outbox record per batch.
func packedRecords(tx *bolt.Tx, batch []int64) error {
	pack := func(bucket string, key int64, val []byte, per int) error {
		v := make([]byte, 0, len(batch)*per*len(val))
		for range len(batch) * per {
			v = append(v, val...)
		}
		return tx.Bucket([]byte(bucket)).Put(binary.BigEndian.AppendUint64(nil, uint64(key)), v)
	}
	first := batch[0]
	if err := errors.Join(pack("ledger", 2*first, ledgerValue, 2), pack("awards", first, awardValue, 1), pack("outbox", first, noteValue, 1)); err != nil {
		return err
	}
	return putStates(tx, batch)
}

// runRecords writes a batch of full-pipeline events with their appended
// entries in runs of 32 sequences (each entry a 1-byte slot, a length and
// its value), reading and rewriting a run an earlier batch began.
func runRecords(tx *bolt.Tx, batch []int64) error {
	const runLen = 32
	appendRuns := func(bucket string, first, n int64, val []byte) error {
		bk := tx.Bucket([]byte(bucket))
		for seq := first; seq < first+n; {
			start := seq &^ (runLen - 1)
			key := binary.BigEndian.AppendUint64(nil, uint64(start))
			v := append([]byte(nil), bk.Get(key)...)
			for ; seq < first+n && seq < start+runLen; seq++ {
				v = append(v, byte(seq-start), byte(len(val)))
				v = append(v, val...)
			}
			if err := bk.Put(key, v); err != nil {
				return err
			}
		}
		return nil
	}
	first, n := batch[0], int64(len(batch))
	if err := errors.Join(appendRuns("ledger", 2*first, 2*n, ledgerValue), appendRuns("awards", first, n, awardValue), appendRuns("outbox", first, n, noteValue)); err != nil {
		return err
	}
	return putStates(tx, batch)
}

// putStates rewrites the state record of each event's user, one record per
// user as the engine's layout has it.
func putStates(tx *bolt.Tx, batch []int64) error {
	st := tx.Bucket([]byte("state"))
	for _, i := range batch {
		if err := st.Put(binary.BigEndian.AppendUint64(nil, uint64(i%users)), stateValue); err != nil {
			return err
		}
	}
	return nil
}

// perEvent writes a batch one event at a time.
func perEvent(event func(*bolt.Tx, int64) error) func(*bolt.Tx, []int64) error {
	return func(tx *bolt.Tx, batch []int64) error {
		for _, i := range batch {
			if err := event(tx, i); err != nil {
				return err
			}
		}
		return nil
	}
}

// groupCommit runs p producers of events written by event through a
// minimal one-writer group commit, in a bbolt file with the buckets
// "events" and buckets; write writes a batch of events (by number). Unless
// wait, a producer waits only for its last event's commit.
func groupCommit(b *testing.B, p int, wait bool, buckets []string, write func(*bolt.Tx, []int64) error) {
	db := openBolt(b)
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	type req struct {
		i    int64
		done chan error
	}
	queue := make(chan req, 4096)
	stop := make(chan struct{})
	var failed atomic.Pointer[error] // the first failed commit, for producers that do not wait
	go func() {
		var batch []req
		var nums []int64
		for {
			select {
			case r := <-queue:
				batch = append(batch[:0], r)
			case <-stop:
				return
			}
		drain:
			for len(batch) < 4096 {
				select {
				case r := <-queue:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			nums = nums[:0]
			for _, r := range batch {
				nums = append(nums, r.i)
			}
			err := db.Update(func(tx *bolt.Tx) error { return write(tx, nums) })
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
			for _, r := range batch {
				r.done <- err
			}
		}
	}()
	defer close(stop)
	b.ReportAllocs()
	runProducers(b, p, func(i int64) error {
		r := req{i: i, done: make(chan error, 1)}
		queue <- r
		if !wait && i < int64(b.N)-1 {
			return nil
		}
		if err := <-r.done; err != nil {
			return err
		}
		if err := failed.Load(); err != nil {
			return *err
		}
		return nil
	})
}
