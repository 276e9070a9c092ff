package store

import (
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

const benchUsers = 100_000

var (
	benchFileOnce sync.Once
	benchFile     []byte
)

// benchStore returns the path of a copy of a store holding benchUsers
// state records (16-byte keys, 64-byte values), built once per process.
func benchStore(b *testing.B) string {
	b.Helper()
	benchFileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "staged-bench")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "s.db")
		db, err := Open(path, Options{LockTimeout: 1e9, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
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
				b.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if benchFile, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	})
	path := filepath.Join(b.TempDir(), "s.db")
	if err := os.WriteFile(path, benchFile, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
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
			db, err := Open(benchStore(b), Options{LockTimeout: 1e9, NoSync: true, Staged: mode != "bolt"})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
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

// BenchmarkCheckpoint is a Checkpoint of 100k staged records (every user
// of the store written once, in random order), synced. It reports the heap
// a staged record takes (key 16 bytes, value 64).
func BenchmarkCheckpoint(b *testing.B) {
	db, err := Open(benchStore(b), Options{LockTimeout: 1e9, Staged: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 64)
	var perRecord float64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC() // and what sync.Pools kept through the first
		runtime.ReadMemStats(&before)
		perm := rand.New(rand.NewSource(int64(i))).Perm(benchUsers)
		for lo := 0; lo < benchUsers; lo += 100 {
			err := db.UpdateAt(db.Position()+1, func(tx *Tx) error {
				for _, u := range perm[lo : lo+100] {
					if err := tx.Put(State, benchKey(u), val); err != nil {
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
