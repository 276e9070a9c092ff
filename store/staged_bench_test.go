package store

import (
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

const benchUsers = 100_000

// cachedStore is a store file built once per process; each benchmark
// opens a copy of it.
type cachedStore struct {
	once sync.Once
	file []byte
}

// copy returns the path of a new copy of the file that build fills
// (through a DB opened with opts, closed after it).
func (c *cachedStore) copy(b *testing.B, opts Options, build func(db *DB) error) string {
	b.Helper()
	c.once.Do(func() {
		dir, err := os.MkdirTemp("", "staged-bench")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "s.db")
		db, err := Open(path, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := errors.Join(build(db), db.Close()); err != nil {
			b.Fatal(err)
		}
		if c.file, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	})
	path := filepath.Join(b.TempDir(), "s.db")
	if err := os.WriteFile(path, c.file, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

var usersStore cachedStore

// benchStore returns the path of a copy of a store holding benchUsers
// state records (16-byte keys, 64-byte values).
func benchStore(b *testing.B) string {
	return usersStore.copy(b, Options{LockTimeout: 1e9, NoSync: true}, func(db *DB) error {
		val := make([]byte, 64)
		for lo := 0; lo < benchUsers; lo += 10_000 {
			err := db.Update(func(tx *Tx) error {
				for i := lo; i < lo+10_000; i++ {
					if err := tx.Put(State, benchKey(i), val); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// openBenchStore opens a copy of benchStore, Staged or not, closed with b.
func openBenchStore(b *testing.B, staged bool) *DB {
	db, err := Open(benchStore(b), Options{LockTimeout: 1e9, NoSync: true, Staged: staged})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func benchKey(i int) []byte {
	return binary.BigEndian.AppendUint64([]byte("user-id-"), uint64(i))
}

// put100 writes 100 values of random users.
func put100(r *rand.Rand, val []byte) func(*Tx) error {
	return func(tx *Tx) error {
		for range 100 {
			if err := tx.Put(State, benchKey(r.Intn(benchUsers)), val); err != nil {
				return err
			}
		}
		return nil
	}
}

// BenchmarkUpdate100 is one update of 100 small writes to random users of
// 100k, NoSync: a bbolt Update, a staged UpdateAt (its layer grows to hold
// every user), and a staged UpdateAt with a Checkpoint after every 100 of
// them (10k writes) counted in.
func BenchmarkUpdate100(b *testing.B) {
	for _, mode := range []string{"bolt", "staged", "staged+checkpoint"} {
		b.Run(mode, func(b *testing.B) {
			db := openBenchStore(b, mode != "bolt")
			r := rand.New(rand.NewSource(1))
			val := make([]byte, 64)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := db.UpdateAt(uint64(i+1), put100(r, val)); err != nil {
					b.Fatal(err)
				}
				if mode == "staged+checkpoint" && i%100 == 99 {
					if _, err := db.Checkpoint(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkViewGet is one View reading one random user of 100k: of the
// file alone (bolt, staged with nothing staged) and through a staged layer
// holding a tenth of the users (staged+layer).
func BenchmarkViewGet(b *testing.B) {
	for _, mode := range []string{"bolt", "staged", "staged+layer"} {
		b.Run(mode, func(b *testing.B) {
			db := openBenchStore(b, mode != "bolt")
			r := rand.New(rand.NewSource(1))
			if mode == "staged+layer" {
				for i := range 100 {
					if err := db.UpdateAt(uint64(i+1), put100(r, make([]byte, 64))); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				err := db.View(func(tx *Tx) error {
					if tx.Get(State, benchKey(r.Intn(benchUsers))) == nil {
						return errors.New("no such user")
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanKeys is a walk of the 100k keys of a keyspace of the file,
// keys only (ScanKeys) and with their values checked (Scan), per key: what
// loading the idempotency filter costs Open.
func BenchmarkScanKeys(b *testing.B) {
	for _, mode := range []string{"keys", "scan"} {
		b.Run(mode, func(b *testing.B) {
			db := openBenchStore(b, true)
			b.ResetTimer()
			n := 0
			for b.Loop() {
				err := db.View(func(tx *Tx) error {
					if mode == "keys" {
						return tx.ScanKeys(State, func([]byte) error { n++; return nil })
					}
					return tx.Scan(State, nil, func(_, _ []byte) error { n++; return nil })
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/key")
		})
	}
}

// BenchmarkCheckpoint is a Checkpoint of 100k staged records (every user
// of the store written once, in random order), synced. It reports the heap
// a staged record takes (key 16 bytes, value 64).
func BenchmarkCheckpoint(b *testing.B) {
	val := make([]byte, 64)
	var perm []int
	benchCheckpoint(b,
		func(round int) { perm = rand.New(rand.NewSource(int64(round))).Perm(benchUsers) },
		func(tx *Tx, i int) error { return tx.Put(State, benchKey(perm[i]), val) })
}

// BenchmarkCheckpointAppends is BenchmarkCheckpoint with 100k appends to
// the ledger (8-byte keys, values of 64 bytes), in updates of 100.
func BenchmarkCheckpointAppends(b *testing.B) {
	val := make([]byte, 64)
	seq := uint64(0)
	benchCheckpoint(b, func(int) {}, func(tx *Tx, _ int) error {
		seq++
		return tx.Put(Ledger, seqKey(seq), val)
	})
}

// benchCheckpoint stages benchUsers puts (put of i, after start of the
// round) in updates of 100, reports the heap a staged record takes, and
// times the Checkpoint of them.
func benchCheckpoint(b *testing.B, start func(round int), put func(tx *Tx, i int) error) {
	db, err := Open(benchStore(b), Options{LockTimeout: 1e9, Staged: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var perRecord float64
	b.ReportAllocs()
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC() // and what sync.Pools kept through the first
		runtime.ReadMemStats(&before)
		start(r)
		for lo := 0; lo < benchUsers; lo += 100 {
			err := db.UpdateAt(db.Position()+1, func(tx *Tx) error {
				for i := lo; i < lo+100; i++ {
					if err := put(tx, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		n, _ := db.Staged()
		perRecord = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
		b.StartTimer()
		if _, err := db.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(perRecord, "heapB/record")
}

// eventUsers is the users of BenchmarkStagedEvents' store.
const eventUsers = 10_000

var eventsStore cachedStore

// eventStore returns the path of a copy of a store holding eventUsers
// state records of 370 bytes and, as the engine's history, the records of
// 50k events (100k ledger entries, 50k awards, 50k notifications).
func eventStore(b *testing.B) string {
	return eventsStore.copy(b, Options{LockTimeout: 1e9, NoSync: true, Staged: true}, func(db *DB) error {
		var ev eventWriter
		for u := range eventUsers {
			if err := db.Update(func(tx *Tx) error { return tx.Put(State, seqKey(uint64(u)), eventState) }); err != nil {
				return err
			}
		}
		for range 50 {
			if err := db.Update(ev.events(nil, 1000)); err != nil {
				return err
			}
		}
		_, err := db.Checkpoint()
		return err
	})
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// eventWriter writes the records of an engine's event: two ledger entries,
// a points award and a notification, each at the next sequence of its
// keyspace, and the user's state record.
type eventWriter struct {
	ledger, awards, outbox uint64
}

// eventState is a user's state record.
var eventState = make([]byte, 370)

func (w *eventWriter) events(r *rand.Rand, n int) func(*Tx) error {
	ledger, awards, outbox := make([]byte, 40), make([]byte, 60), make([]byte, 200)
	return func(tx *Tx) error {
		for range n {
			u := w.ledger / 2 % eventUsers
			if r != nil {
				u = uint64(r.Intn(eventUsers))
			}
			w.ledger += 2
			w.awards++
			w.outbox++
			err := errors.Join(
				tx.Put(Ledger, seqKey(w.ledger-1), ledger),
				tx.Put(Ledger, seqKey(w.ledger), ledger),
				tx.Put(Awards, seqKey(w.awards), awards),
				tx.Put(Outbox, seqKey(w.outbox), outbox),
				tx.Put(State, seqKey(u), eventState))
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// BenchmarkStagedEvents is the store's side of the engine's write path,
// per event (one op): the five records of eventWriter, staged 500 events
// to an update, with a Checkpoint (NoSync) whenever 4 MB are staged, as
// the engine's default CheckpointSize. fileB/op is the growth of the
// file's pages in use per event; cpu-ns/op the process's CPU time.
func BenchmarkStagedEvents(b *testing.B) {
	db, err := Open(eventStore(b), Options{LockTimeout: 1e9, NoSync: true, Staged: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ev := eventWriter{ledger: 100_000, awards: 50_000, outbox: 50_000}
	r := rand.New(rand.NewSource(1))
	used0 := pagesInUse(b, db)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for done := 0; done < b.N; {
		n := min(500, b.N-done)
		if err := db.UpdateAt(db.Position()+1, ev.events(r, n)); err != nil {
			b.Fatal(err)
		}
		done += n
		if _, size := db.Staged(); size >= 4<<20 || done == b.N {
			if _, err := db.Checkpoint(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(pagesInUse(b, db)-used0)/float64(b.N), "fileB/op")
}

// pagesInUse is the bytes of the file's pages that are not free.
func pagesInUse(b *testing.B, db *DB) int64 {
	var used int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		st := db.bolt.Stats()
		used = tx.Size() - int64(st.FreePageN+st.PendingPageN)*int64(db.bolt.Info().PageSize)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return used
}

// BenchmarkPackMigration measures Open upgrading a schema 5 file whose
// ledger, awards and outbox hold one record per entry (2 ledger entries, an
// award and a note per event, about the sizes of the engine's) to runs:
// events/s of the upgrade, backup included.
func BenchmarkPackMigration(b *testing.B) {
	const events = 250_000
	var file []byte
	{
		path := filepath.Join(b.TempDir(), "v5.db")
		bt, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewSource(1))
		err = bt.Update(func(tx *bolt.Tx) error {
			for _, ks := range allKeyspaces {
				if _, err := tx.CreateBucket([]byte(ks)); err != nil {
					return err
				}
			}
			sizes := map[Keyspace]int{Ledger: 60, Awards: 90, Outbox: 200}
			for _, ks := range []Keyspace{Ledger, Awards, Outbox} {
				bk := tx.Bucket([]byte(ks))
				bk.FillPercent = 1
				n := events
				if ks == Ledger {
					n *= 2
				}
				for i := range n {
					k := seqKey(uint64(i + 1))
					v := make([]byte, sizes[ks])
					r.Read(v)
					if err := bk.Put(k, seal(nil, ks, k, v)); err != nil {
						return err
					}
				}
			}
			if err := putSchema(tx, 5); err != nil {
				return err
			}
			ds := scanDigests(tx, false)
			return writeDigests(tx, &ds)
		})
		if err = errors.Join(err, bt.Close()); err != nil {
			b.Fatal(err)
		}
		if file, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		path := filepath.Join(dir, "s.db")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		db, err := Open(path, Options{LockTimeout: 1e9})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(file))/(1<<20), "file-MiB")
}
