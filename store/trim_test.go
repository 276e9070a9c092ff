package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// On a Staged DB, Trim leaves the keyspace starting past what it removed:
// a put below that is refused, a delete there changes nothing, and the
// keyspace reads, counts and verifies the same before and after the
// checkpoint that deletes the entries from the file, and after a reopen.
func TestTrimOnAStagedDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trim.db")
	opts := Options{LockTimeout: 1e9, NoSync: true, Staged: true}
	db, err := Open(path, opts)
	require.NoError(t, err)
	defer func() { db.Close() }()
	put := func(from, to uint64) {
		t.Helper()
		require.NoError(t, db.Update(func(tx *Tx) error {
			for n := from; n < to; n++ {
				if err := tx.Put(Outbox, seqKey(n), []byte{byte(n)}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	keys := func() (got []uint64, count int) {
		t.Helper()
		require.NoError(t, db.View(func(tx *Tx) error {
			count = tx.Count(Outbox)
			return tx.Scan(Outbox, nil, func(k, _ []byte) error {
				got = append(got, seqOf(k))
				return nil
			})
		}))
		return got, count
	}
	trim := func(below uint64) (n int) {
		t.Helper()
		require.NoError(t, db.Update(func(tx *Tx) error {
			var err error
			n, err = tx.Trim(Outbox, func(k, v []byte) bool {
				require.Equal(t, []byte{byte(seqOf(k))}, v)
				return seqOf(k) < below
			})
			return err
		}))
		return n
	}
	put(1, 100) // in the file after the checkpoint
	_, err = db.Checkpoint()
	require.NoError(t, err)
	put(100, 140)                  // staged
	require.Equal(t, 69, trim(70)) // 1 to 69: some whole runs of the file, part of another
	want := seqRange(70, 140)
	check := func(step string) {
		t.Helper()
		got, count := keys()
		require.Equal(t, want, got, step)
		require.Equal(t, len(want), count, step)
		require.NoError(t, db.View(func(tx *Tx) error {
			require.Nil(t, tx.Get(Outbox, seqKey(69)), step)
			require.Equal(t, len(want) > 0, tx.Get(Outbox, seqKey(70)) != nil, step)
			var rev []uint64
			require.NoError(t, tx.ScanReverse(Outbox, nil, func(k, _ []byte) error { rev = append(rev, seqOf(k)); return nil }))
			require.Len(t, rev, len(want), step)
			if len(rev) > 0 {
				require.Equal(t, uint64(70), rev[len(rev)-1], step)
			}
			tx.Verify(func(err error) bool { t.Errorf("%s: %v", step, err); return false })
			return nil
		}))
	}
	check("staged")
	err = db.Update(func(tx *Tx) error { return tx.Put(Outbox, seqKey(69), []byte{1}) })
	require.ErrorContains(t, err, "below 70, where Trim left the keyspace")
	require.NoError(t, db.Update(func(tx *Tx) error { return tx.Delete(Outbox, seqKey(5)) }))
	check("after a refused put")
	_, err = db.Checkpoint()
	require.NoError(t, err)
	check("checkpointed")
	require.NoError(t, db.Close())
	db, err = Open(path, opts)
	require.NoError(t, err)
	check("reopened")
	require.Equal(t, 70, trim(math.MaxUint64)) // all of it
	want = nil
	check("emptied")
}

// The last sequence has no floor above it: trimming it leaves a tombstone.
func TestTrimTheLastSequence(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "trim.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: true})
	require.NoError(t, err)
	defer db.Close()
	last := uint64(math.MaxUint64)
	require.NoError(t, db.Update(func(tx *Tx) error {
		for _, n := range []uint64{last - 40, last - 1, last} {
			if err := tx.Put(Awards, seqKey(n), []byte("v")); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, ckpt := range []bool{false, true} {
		if ckpt {
			_, err = db.Checkpoint()
			require.NoError(t, err)
		}
		require.NoError(t, db.Update(func(tx *Tx) error {
			n, err := tx.Trim(Awards, func([]byte, []byte) bool { return true })
			require.Equal(t, map[bool]int{false: 3, true: 0}[ckpt], n)
			return err
		}))
		require.NoError(t, db.View(func(tx *Tx) error {
			require.Zero(t, tx.Count(Awards))
			require.Nil(t, tx.Get(Awards, seqKey(last)))
			tx.Verify(func(err error) bool { t.Error(err); return false })
			return nil
		}))
	}
}

func TestTrimNeedsAPackedKeyspace(t *testing.T) {
	for _, staged := range []bool{false, true} {
		db, err := Open(filepath.Join(t.TempDir(), "trim.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: staged})
		require.NoError(t, err)
		err = db.Update(func(tx *Tx) error {
			_, err := tx.Trim(State, func([]byte, []byte) bool { return true })
			return err
		})
		require.ErrorContains(t, err, "not a packed keyspace")
		require.False(t, errors.Is(err, ErrStop))
		require.NoError(t, db.Close())
	}
}

func seqOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for n := from; n < to; n++ {
		s = append(s, n)
	}
	return s
}

// A trim that empties a keyspace of many pages folds, and appends go on
// after it (bbolt's Cursor.Last loops on a bucket emptied by deletes of
// the same transaction, so the fold must not ask for it after the trim).
func TestTrimAWholeFile(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "trim.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: true})
	require.NoError(t, err)
	defer db.Close()
	const n = 20000 // runs on hundreds of pages
	value := make([]byte, 100)
	for _, step := range []func(tx *Tx) error{
		func(tx *Tx) error {
			for s := uint64(1); s <= n; s++ {
				if err := tx.Put(Outbox, seqKey(s), value); err != nil {
					return err
				}
			}
			return nil
		},
		func(tx *Tx) error {
			_, err := tx.Trim(Outbox, func([]byte, []byte) bool { return true })
			return err
		},
		func(tx *Tx) error { return tx.Put(Outbox, seqKey(n+1), value) },
	} {
		require.NoError(t, db.Update(step))
		_, err := db.Checkpoint()
		require.NoError(t, err)
	}
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, 1, tx.Count(Outbox))
		require.NotNil(t, tx.Get(Outbox, seqKey(n+1)))
		tx.Verify(func(err error) bool { t.Error(err); return false })
		return nil
	}))
}

// Trim writes: in a View it fails, as Put and Delete do, on either kind of
// DB; the entries it removes count as staged (the checkpoint deletes them).
func TestTrimIsAWrite(t *testing.T) {
	for _, staged := range []bool{false, true} {
		db, err := Open(filepath.Join(t.TempDir(), "trim.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: staged})
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *Tx) error {
			for n := uint64(1); n <= 10; n++ {
				if err := tx.Put(Ledger, seqKey(n), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}))
		_, err = db.Checkpoint()
		require.NoError(t, err)
		err = db.View(func(tx *Tx) error {
			_, err := tx.Trim(Ledger, func([]byte, []byte) bool { return true })
			return err
		})
		require.Error(t, err, "staged=%v", staged)
		require.NoError(t, db.Update(func(tx *Tx) error {
			_, err := tx.Trim(Ledger, func(k, _ []byte) bool { return seqOf(k) <= 5 })
			return err
		}))
		if staged {
			n, _ := db.Staged()
			require.Equal(t, 5, n, "the trimmed entries are staged deletes")
		}
		require.NoError(t, db.Close())
	}
}

// While one goroutine appends to the outbox and trims its oldest entries,
// another checkpoints (every third one failing) and readers look: every
// View sees one contiguous range of sequences, which its Count, Get and
// reverse scan agree with, and the sequence below its first reads nil.
func TestTrimUnderConcurrentCheckpointsAndViews(t *testing.T) {
	var fault injector
	db, err := Open(filepath.Join(t.TempDir(), "trim.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: true, BeforeCommit: fault.get})
	require.NoError(t, err)
	defer db.Close()
	const updates, keep = 2000, 100
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer done.Store(true)
		next := uint64(1)
		for range updates {
			err := db.Update(func(tx *Tx) error {
				for range 1 + int(next%5) {
					if err := tx.Put(Outbox, seqKey(next), []byte{byte(next)}); err != nil {
						return err
					}
					next++
				}
				_, err := tx.Trim(Outbox, func(k, _ []byte) bool { return seqOf(k)+keep < next })
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; !done.Load(); i++ {
			if i%3 == 2 {
				fault.Store(errors.New("injected"))
			}
			_, _ = db.Checkpoint()
			fault.Store(nil)
		}
	})
	for range 2 {
		wg.Go(func() {
			for !done.Load() {
				err := db.View(func(tx *Tx) error {
					var seqs []uint64
					if err := tx.Scan(Outbox, nil, func(k, v []byte) error {
						if v[0] != byte(seqOf(k)) {
							return fmt.Errorf("sequence %d holds %d", seqOf(k), v[0])
						}
						seqs = append(seqs, seqOf(k))
						return nil
					}); err != nil {
						return err
					}
					if len(seqs) == 0 {
						return nil
					}
					first, last := seqs[0], seqs[len(seqs)-1]
					if uint64(len(seqs)) != last-first+1 || len(seqs) > keep+5 {
						return fmt.Errorf("%d entries from %d to %d", len(seqs), first, last)
					}
					if n := tx.Count(Outbox); n != len(seqs) {
						return fmt.Errorf("count %d, scan %d", n, len(seqs))
					}
					if first > 1 && tx.Get(Outbox, seqKey(first-1)) != nil {
						return fmt.Errorf("%d is below the first, %d, yet reads", first-1, first)
					}
					var rev int
					if err := tx.ScanReverse(Outbox, nil, func([]byte, []byte) error { rev++; return nil }); err != nil {
						return err
					}
					if rev != len(seqs) {
						return fmt.Errorf("reverse %d, forward %d", rev, len(seqs))
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	_, err = db.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, keep, tx.Count(Outbox))
		tx.Verify(func(err error) bool { t.Error(err); return false })
		return nil
	}))
}
