package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FuzzVerifyData: whatever the bytes of a file, the verification returns,
// never panics; and a file it accepts, bbolt opens (rebuilding its freelist
// by walking every page, as Open does), reads in full and writes without
// panicking. A panic inside bbolt's own goroutine kills the fuzzing worker,
// which the fuzzer reports as a crash: a gap in the verification.
func FuzzVerifyData(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.db")
	db, err := bolt.Open(seed, 0o600, &bolt.Options{NoFreelistSync: true})
	if err != nil {
		f.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		for i := range 400 {
			if err := b.Put(binary.BigEndian.AppendUint32(nil, uint32(i)), []byte("some value")); err != nil {
				return err
			}
		}
		if err := b.Put([]byte("large"), make([]byte, 5000)); err != nil { // an overflow page
			return err
		}
		nb, err := b.CreateBucket([]byte("inline"))
		if err != nil {
			return err
		}
		return nb.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		f.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, seed := range deepSeeds(f, dir) {
		f.Add(seed)
	}
	path := filepath.Join(dir, "fuzz.db")
	f.Fuzz(func(t *testing.T, b []byte) {
		if verifyData(b) != nil {
			return
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
		if err != nil {
			return
		}
		defer db.Close()
		_ = db.View(func(tx *bolt.Tx) error {
			var walk func(b *bolt.Bucket)
			walk = func(b *bolt.Bucket) {
				_ = b.ForEach(func(k, v []byte) error {
					if v == nil {
						if nb := b.Bucket(k); nb != nil {
							walk(nb)
						}
					}
					return nil
				})
			}
			return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { walk(b); return nil })
		})
		_ = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("big"))
			if err != nil {
				return err
			}
			return b.Put([]byte("new"), []byte("value"))
		})
	})
}

// deepSeeds are files written through this package's own API, shaped like the
// engine's: every keyspace holds keys, the large ones span several pages
// under branch pages, some values overflow onto runs of pages, and deletes
// across many commits leave free pages. A mutation of such a file that the
// verification accepts takes bbolt through every page kind, where the
// one-bucket seed stopped at a leaf or two.
func deepSeeds(tb testing.TB, dir string) [][]byte {
	tb.Helper()
	build := func(name string, users, commits int) []byte {
		path := filepath.Join(dir, name)
		db, err := Open(path, Options{LockTimeout: time.Second, NoSync: true})
		if err != nil {
			tb.Fatal(err)
		}
		key := func(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }
		val := func(i, n int) []byte {
			v := make([]byte, n)
			for j := range v {
				v[j] = byte(i + j)
			}
			return v
		}
		per := users / commits
		for c := range commits {
			err := db.Update(func(tx *Tx) error {
				for i := c * per; i < (c+1)*per; i++ {
					for _, w := range []struct {
						ks  Keyspace
						key []byte
						n   int
					}{
						{Users, []byte(fmt.Sprintf("user-%06d", i)), 120},
						{UserIDs, key(i), 12},
						{State, key(i), 200},
						{Ledger, key(3 * i), 40}, {Ledger, key(3*i + 1), 40}, {Ledger, key(3*i + 2), 40},
						{Daily, append(key(i), 0, 0, 0, 1, 0, 0, 0x50, 0), 8},
						{Idempotency, append(key(i), []byte("key-of-a-retry")...), 33},
						{Awards, key(3 * i), 60},
						{Claims, append(key(i), 0, 0, 0, 1), 90},
						{Codes, []byte(fmt.Sprintf("\x00\x00\x00\x01code-%06d", i)), 8},
						{Outbox, key(i), 70},
						{Consumers, []byte(fmt.Sprintf("consumer-%03d", i%5)), 16},
					} {
						if err := tx.Put(w.ks, w.key, val(i, w.n)); err != nil {
							return err
						}
					}
					if i%7 == 0 && i > 0 { // claimed codes and erased users free pages
						if err := tx.Delete(Codes, []byte(fmt.Sprintf("\x00\x00\x00\x01code-%06d", i-1))); err != nil {
							return err
						}
					}
				}
				for _, d := range []string{"metric/xp", "points-system/coins", "leaderboard/daily", "streak/daily"} {
					if err := tx.Put(Definitions, []byte(d), val(c, 300)); err != nil {
						return err
					}
				}
				if err := tx.Put(Definitions, []byte("achievement/big"), val(c, 9000)); err != nil { // overflow pages
					return err
				}
				if err := tx.Put(Runs, append(key(c), 1), val(c, 5000)); err != nil {
					return err
				}
				if err := tx.Put(Jobs, []byte(fmt.Sprintf("job-%d", c%5)), key(c)); err != nil {
					return err
				}
				return tx.Put(Meta, []byte("seq"), key(c))
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			tb.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		m, err := newestMeta(b)
		if err != nil {
			tb.Fatal(err)
		}
		return b[:m.hwm*uint64(m.pageSize)] // without the zeros bbolt grew the file by: a smaller input fuzzes faster
	}
	return [][]byte{build("small.db", 40, 4), build("deep.db", 200, 4)}
}

// The deep seeds are accepted by the verification (else the fuzzer's
// mutations of them would stop at its first check), span many pages, and
// hold every keyspace.
func TestDeepSeedsReachEveryPageKind(t *testing.T) {
	dir := t.TempDir()
	for i, seed := range deepSeeds(t, dir) {
		if err := verifyData(seed); err != nil {
			t.Fatalf("seed %d: verifyData = %v", i, err)
		}
		path := filepath.Join(dir, fmt.Sprintf("check-%d.db", i))
		if err := os.WriteFile(path, seed, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
		if err != nil {
			t.Fatal(err)
		}
		var branches, overflow, pages int
		err = db.View(func(tx *bolt.Tx) error {
			for _, ks := range allKeyspaces {
				b := tx.Bucket([]byte(ks))
				if b == nil || b.Stats().KeyN == 0 {
					return fmt.Errorf("keyspace %s is empty", ks)
				}
				st := b.Stats()
				branches += st.BranchPageN
				overflow += st.LeafOverflowN
				pages += st.BranchPageN + st.LeafPageN
			}
			return nil
		})
		db.Close()
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if i == 1 && (branches == 0 || overflow == 0 || pages < 40) {
			t.Fatalf("deep seed: %d branch pages, %d overflow pages, %d pages; want a tree of several levels with overflow", branches, overflow, pages)
		}
	}
}

// FuzzDecodeRun: decodeRun never panics, and what it accepts is what
// encode writes, byte for byte, with keys inside the run.
func FuzzDecodeRun(f *testing.F) {
	r := run{slots: []uint8{0, 7, runLen - 1}, vals: [][]byte{[]byte("a\x00\x00\x00\x00"), {}, bytes.Repeat([]byte{9}, 200)}}
	f.Add(r.encode(nil), uint64(64))
	f.Add((&run{slots: []uint8{3}, vals: [][]byte{nil}}).encode(nil), uint64(0))
	f.Add([]byte{}, uint64(math.MaxUint64-runLen+1))
	f.Fuzz(func(t *testing.T, v []byte, start uint64) {
		key := binary.BigEndian.AppendUint64(nil, start)
		got, err := decodeRun(Ledger, key, v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if again := got.encode(nil); !bytes.Equal(again, v) {
			t.Fatalf("decoded %x, encoded again %x", v, again)
		}
		for i := range got.vals {
			if k := binary.BigEndian.Uint64(got.key(i)); runStart(k) != start {
				t.Fatalf("key %d outside the run at %d", k, start)
			}
		}
	})
}
