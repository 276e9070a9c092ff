package store

import (
	"encoding/binary"
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
