package bench

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/btree"
	bolt "go.etcd.io/bbolt"
)

// Sizes of the records of a full-pipeline user (BenchmarkCachedUser): its
// state record and its profile.
const floorStateSize, floorProfileSize = 466, 376

// BenchmarkScalingFloor is the floor under BenchmarkTrackFullScaling, with
// bbolt and google/btree alone: per event, what any store of those records
// does at n users, on the same sequence of users. It reads one user's profile
// (by its id) and state record (by its number) from a bbolt file of n users,
// moves the user in three ordered indexes of n entries (delete, insert), and
// writes the record back, 32768 events to a transaction (as a checkpoint of
// 16 MiB, without fsync). Its cost per event from 10k to 1M users is what the memory
// and the file alone add: cache misses and tree descents.
func BenchmarkScalingFloor(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			scalingFloor(b, n)
		})
	}
}

type floorEntry struct {
	score int64
	user  uint32
}

func floorLess(a, b floorEntry) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.user < b.user
}

func scalingFloor(b *testing.B, n int) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "floor.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := userIDs(n)
	state, profile := make([]byte, floorStateSize), make([]byte, floorProfileSize)
	for lo := 0; lo < n; lo += 50_000 {
		err := db.Update(func(tx *bolt.Tx) error {
			st, err := tx.CreateBucketIfNotExists([]byte("state"))
			if err != nil {
				return err
			}
			us, err := tx.CreateBucketIfNotExists([]byte("users"))
			if err != nil {
				return err
			}
			st.FillPercent = 0.5 // as after random updates
			for u := lo; u < min(n, lo+50_000); u++ {
				if err := st.Put(binary.BigEndian.AppendUint64(nil, uint64(u)), state); err != nil {
					return err
				}
				if err := us.Put([]byte(ids[u]), profile); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var boards [3]*btree.BTreeG[floorEntry]
	scores := make([][3]int64, n)
	for i := range boards {
		boards[i] = btree.NewG(32, floorLess)
		for u := range n {
			boards[i].ReplaceOrInsert(floorEntry{0, uint32(u)})
		}
	}
	const perTx = 32768
	dirty := make(map[uint64][]byte, perTx)
	var sink int
	b.ReportAllocs()
	runProducers(b, 1, func(i int64) error {
		u := uint64((i * 7919) % int64(n))
		err := db.View(func(tx *bolt.Tx) error {
			sink += len(tx.Bucket([]byte("users")).Get([]byte(ids[u])))
			v := tx.Bucket([]byte("state")).Get(binary.BigEndian.AppendUint64(nil, u))
			dirty[u] = append(dirty[u][:0], v...)
			return nil
		})
		if err != nil {
			return err
		}
		for j, bd := range boards {
			bd.Delete(floorEntry{scores[u][j], uint32(u)})
			scores[u][j] += 3
			bd.ReplaceOrInsert(floorEntry{scores[u][j], uint32(u)})
		}
		if (i+1)%perTx != 0 {
			return nil
		}
		err = db.Update(func(tx *bolt.Tx) error {
			st := tx.Bucket([]byte("state"))
			for k, v := range dirty {
				if err := st.Put(binary.BigEndian.AppendUint64(nil, k), v); err != nil {
					return err
				}
			}
			return nil
		})
		clear(dirty)
		return err
	})
	_ = sink
}
