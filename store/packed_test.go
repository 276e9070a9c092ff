package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/btree"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// packedView is everything a reader can ask of keyspace ks, as text, with
// the keyspace's name left out (so that two keyspaces compare).
func packedView(t *testing.T, db *DB, ks Keyspace, keys [][]byte) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, db.View(func(tx *Tx) error {
		fmt.Fprintf(&b, "count %d\n", tx.Count(ks))
		for _, p := range []string{"", "\x00", "\x00\x00\x00\x00\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x01", "\xff"} {
			fmt.Fprintf(&b, "scan %q: %s\nreverse %q: %s\n", p, scanAll(tx, ks, []byte(p), false), p, scanAll(tx, ks, []byte(p), true))
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "get %x = %q\n", k, tx.Get(ks, k))
			n := 0
			_ = tx.ScanFrom(ks, k, func(k, v []byte) error {
				fmt.Fprintf(&b, "from %x: %x=%q\n", k, k, v)
				if n++; n == 3 {
					return ErrStop
				}
				return nil
			})
		}
		return nil
	}))
	return b.String()
}

// A packed keyspace reads as a keyspace of one record per key: the same
// random writes to the ledger (packed) and to runs (records), on a staged
// DB with checkpoints and reopens and on a plain one, read the same after
// every step; the file holds one record per run, under the run's start.
func TestPackedReadsAsRecords(t *testing.T) {
	for _, staged := range []bool{true, false} {
		t.Run(fmt.Sprintf("staged=%v", staged), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			opts := Options{LockTimeout: time.Second, NoSync: true, Staged: staged}
			db, err := Open(path, opts)
			require.NoError(t, err)
			defer func() { db.Close() }()
			r := rand.New(rand.NewSource(7))
			var keys [][]byte // a few runs, some full
			for _, start := range []uint64{0, runLen, 5 * runLen, 1 << 40} {
				for slot := range uint64(runLen) {
					if slot%3 == 0 || start == runLen {
						keys = append(keys, binary.BigEndian.AppendUint64(nil, start+slot))
					}
				}
			}
			for step := range 120 {
				require.NoError(t, db.Update(func(tx *Tx) error {
					for range 1 + r.Intn(20) {
						k := keys[r.Intn(len(keys))]
						v := bytes.Repeat([]byte{byte(r.Intn(256))}, r.Intn(300))
						op := r.Intn(20)
						for _, ks := range []Keyspace{Ledger, Runs} {
							var err error
							switch {
							case op < 13:
								err = tx.Put(ks, k, v)
							case op < 19:
								err = tx.Delete(ks, k)
							default:
								err = tx.DeletePrefix(ks, k[:7])
							}
							if err != nil {
								return err
							}
						}
					}
					return nil
				}))
				if staged && r.Intn(4) == 0 {
					_, err := db.Checkpoint()
					require.NoError(t, err)
				}
				if r.Intn(15) == 0 {
					require.NoError(t, db.Close())
					db, err = Open(path, opts) // walks the pages, checks the digests
					require.NoError(t, err)
				}
				require.Equal(t, packedView(t, db, Runs, keys), packedView(t, db, Ledger, keys), "step %d", step)
			}
			_, err = db.Checkpoint()
			require.NoError(t, err)
			require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
				starts := map[string]bool{}
				_ = tx.Bucket([]byte(Runs)).ForEach(func(k, _ []byte) error {
					starts[string(binary.BigEndian.AppendUint64(nil, runStart(binary.BigEndian.Uint64(k))))] = true
					return nil
				})
				n := 0
				_ = tx.Bucket([]byte(Ledger)).ForEach(func(k, _ []byte) error {
					require.True(t, starts[string(k)], "a run under %x, the start of its live keys", k)
					n++
					return nil
				})
				require.Equal(t, len(starts), n, "one record per run that holds a key")
				return nil
			}))
			require.NoError(t, db.View(func(tx *Tx) error {
				tx.Verify(func(err error) bool { t.Errorf("the file does not verify: %v", err); return false })
				return nil
			}))
		})
	}
}

// A packed keyspace takes 8-byte keys: a put of another is an error naming
// it, a delete of one deletes nothing, and the update changes nothing.
func TestPackedKeysAreSequences(t *testing.T) {
	for _, staged := range []bool{true, false} {
		db, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{LockTimeout: time.Second, NoSync: true, Staged: staged})
		require.NoError(t, err)
		err = db.Update(func(tx *Tx) error {
			require.NoError(t, tx.Put(Awards, seqKey(1), []byte("one")))
			require.NoError(t, tx.Delete(Awards, []byte("short")))
			return tx.Put(Awards, []byte("short"), []byte("x"))
		})
		require.ErrorContains(t, err, "put awards: keys are 8-byte sequences, got 5 bytes")
		require.NoError(t, db.View(func(tx *Tx) error {
			require.Zero(t, tx.Count(Awards), "staged=%v", staged)
			require.Nil(t, tx.Get(Awards, seqKey(1)))
			return nil
		}))
		require.NoError(t, db.Close())
	}
}

// writeRuns stores the entries 1..n of the ledger in a file of its own and
// returns its path.
func writeRuns(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	require.NoError(t, db.Update(func(tx *Tx) error {
		for i := 1; i <= n; i++ {
			if err := tx.Put(Ledger, seqKey(uint64(i)), []byte(fmt.Sprintf("entry %d", i))); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())
	return path
}

// Damage inside a run is met on reading any entry of that run (the others
// read); damage to a run's trailer makes the digests disagree at Open.
func TestDamagedRunIsCorrupt(t *testing.T) {
	path := writeRuns(t, 3*runLen)
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Ledger))
		v := bytes.Clone(b.Get(seqKey(runLen)))
		i := bytes.Index(v, []byte("entry 40"))
		require.Positive(t, i)
		v[i+6] = '5' // "entry 50": its own checksum and the run's fail
		return b.Put(seqKey(runLen), v)
	})
	db := open(t, path) // the trailer is whole: the walk agrees with the digests
	err := db.View(func(tx *Tx) error {
		for _, i := range []uint64{1, 33, 39, 41, 64} {
			require.Equal(t, fmt.Sprintf("entry %d", i), string(tx.Get(Ledger, seqKey(i))), "the other entries of the run read")
		}
		require.NoError(t, tx.Err())
		require.Nil(t, tx.Get(Ledger, seqKey(40)))
		return nil
	})
	require.ErrorIs(t, err, ErrCorrupt, "the transaction fails")
	require.ErrorContains(t, err, `ledger key "\x00\x00\x00\x00\x00\x00\x00(": checksum mismatch`, "naming the entry")
	err = db.View(func(tx *Tx) error { return tx.Scan(Ledger, nil, func(k, v []byte) error { return nil }) })
	require.ErrorIs(t, err, ErrCorrupt, "a scan across the run")
	var bad []error
	require.NoError(t, db.View(func(tx *Tx) error {
		tx.Verify(func(err error) bool { bad = append(bad, err); return true })
		return nil
	}))
	require.NotEmpty(t, bad)
	require.NoError(t, db.Close())

	path = writeRuns(t, 3*runLen)
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Ledger))
		v := bytes.Clone(b.Get(seqKey(2 * runLen)))
		v[len(v)-trailerLen]-- // one entry fewer, as a page walk counts it
		return b.Put(seqKey(2*runLen), v)
	})
	_, err = Open(path, Options{LockTimeout: time.Second})
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "keyspace ledger holds 95 records")

	// A slot's byte damaged: the run no longer decodes, and says so.
	path = writeRuns(t, 3*runLen)
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Ledger))
		v := bytes.Clone(b.Get(seqKey(runLen)))
		v[0] = runLen + 3
		return b.Put(seqKey(runLen), v)
	})
	db = open(t, path)
	err = db.View(func(tx *Tx) error { tx.Get(Ledger, seqKey(40)); return nil })
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `ledger key "\x00\x00\x00\x00\x00\x00\x00 ": run entries out of order`)
	require.NoError(t, db.Close())
}

// decodeRun refuses what encode never writes.
func TestDecodeRunRefusesBadRuns(t *testing.T) {
	r := run{start: 64, slots: []uint8{1, 4}, vals: [][]byte{seal(nil, Ledger, seqKey(65), []byte("a")), seal(nil, Ledger, seqKey(68), []byte("b"))}}
	key := seqKey(64)
	good := r.encode(nil)
	got, err := decodeRun(Ledger, key, good)
	require.NoError(t, err)
	require.Equal(t, r.slots, got.slots)
	require.Equal(t, r.vals, got.vals)
	require.Equal(t, append(seqKey(65), seqKey(68)...), got.keys)
	body, trailer := good[:len(good)-trailerLen], good[len(good)-trailerLen:]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for name, c := range map[string]struct {
		key, v []byte
	}{
		"not at a run start":  {seqKey(65), good},
		"empty":               {key, make([]byte, trailerLen)},
		"count off":           {key, cat(body, []byte{3}, trailer[1:])},
		"sum off":             {key, cat(body, trailer[:trailerLen-1], []byte{trailer[trailerLen-1] + 1})},
		"slots out of order":  {key, (&run{slots: []uint8{4, 1}, vals: r.vals}).encode(nil)},
		"slot past the run":   {key, (&run{slots: []uint8{1, runLen}, vals: r.vals}).encode(nil)},
		"length past the run": {key, cat([]byte{1, 100}, body[2:], trailer)},
		"truncated":           {key, good[:5]},
		"a short key":         {key[:7], good},
	} {
		_, err := decodeRun(Ledger, c.key, c.v)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

// Open migrates a schema 5 file: each entry of the ledger, awards and
// outbox moves into its run as stored (a damaged one stays damaged, for
// Check to find), and everything else is left as it was.
func TestPackMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	oldFile(t, path, 5)
	want := map[Keyspace]map[uint64]string{}
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		for _, ks := range []Keyspace{Ledger, Awards, Outbox} {
			want[ks] = map[uint64]string{}
			for _, seq := range []uint64{1, 2, 31, 32, 33, 1000, 1 << 40, 1<<64 - 1} {
				k, v := seqKey(seq), fmt.Sprintf("%s %d", ks, seq)
				want[ks][seq] = v
				sealed := seal(nil, ks, k, []byte(v))
				if ks == Awards && seq == 33 {
					sealed[0] ^= 1 // damaged
				}
				require.NoError(t, tx.Bucket([]byte(ks)).Put(k, sealed))
			}
		}
		ds := scanDigests(tx, false)
		return writeDigests(tx, &ds)
	})
	db := open(t, path)
	require.Equal(t, uint32(6), schemaOf(t, db))
	for ks, entries := range want {
		for seq, v := range entries {
			err := db.View(func(tx *Tx) error {
				got := tx.Get(ks, seqKey(seq))
				if ks != Awards || seq != 33 {
					require.Equal(t, v, string(got), "%s %d", ks, seq)
				} else {
					require.Nil(t, got)
				}
				return nil
			})
			if ks == Awards && seq == 33 {
				require.ErrorIs(t, err, ErrCorrupt, "the damaged entry alone")
				require.ErrorContains(t, err, `awards key "\x00\x00\x00\x00\x00\x00\x00!": checksum mismatch`)
				continue
			}
			require.NoError(t, err, "%s %d", ks, seq)
		}
	}
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, "v1", string(tx.Get(Users, []byte("k"))))
		require.Equal(t, len(want[Ledger]), tx.Count(Ledger))
		return nil
	}))
	require.NoError(t, db.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		var runs []uint64
		_ = tx.Bucket([]byte(Ledger)).ForEach(func(k, _ []byte) error { runs = append(runs, binary.BigEndian.Uint64(k)); return nil })
		require.Equal(t, []uint64{0, 32, 992, 1 << 40, 1<<64 - runLen}, runs, "one record per run")
		return nil
	})
	db = open(t, path) // the walk's digests agree with the record's
	require.NoError(t, db.Close())
}

// A migration step from schema 6 on reads and writes the entries of a
// packed keyspace, as Each, Get, Put and Delete see any other keyspace.
func TestMigrationStepsSeeEntries(t *testing.T) {
	const n = 3 * runLen
	path := writeRuns(t, n)
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		m := &MigrationTx{tx: tx, sealed: true, runs: true}
		seen := 0
		err := m.Each(Ledger, func(k, v []byte) error {
			seen++
			i := binary.BigEndian.Uint64(k)
			if string(v) != fmt.Sprintf("entry %d", i) {
				return fmt.Errorf("entry %d reads %q", i, v)
			}
			if i%2 == 0 {
				return m.Delete(Ledger, k)
			}
			return m.Put(Ledger, k, []byte("new"))
		})
		require.NoError(t, err)
		require.Equal(t, n, seen)
		got, err := m.Get(Ledger, seqKey(3))
		require.NoError(t, err)
		require.Equal(t, "new", string(got))
		got, err = m.Get(Ledger, seqKey(4))
		require.NoError(t, err)
		require.Nil(t, got)
		ds := scanDigests(tx, true) // as migrate does after its steps
		return writeDigests(tx, &ds)
	})
	db := open(t, path)
	defer db.Close()
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, n/2, tx.Count(Ledger))
		return tx.Scan(Ledger, nil, func(k, v []byte) error {
			require.Equal(t, uint64(1), binary.BigEndian.Uint64(k)%2)
			require.Equal(t, "new", string(v))
			return nil
		})
	}))
}

func TestDecodeRunRefusesLongLengths(t *testing.T) {
	v := (&run{slots: []uint8{2}, vals: [][]byte{{}}}).encode(nil)
	long := bytes.Join([][]byte{{2, 0x80, 0x00}, v[2:]}, nil) // length 0 in two bytes
	_, err := decodeRun(Ledger, seqKey(0), long)
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = decodeRun(Ledger, seqKey(0), v)
	require.NoError(t, err)
}

// A write into a run damaged in its structure fails with the damage (it
// cannot tell what it replaces), as a Checkpoint that would rewrite the
// run does: neither drops the run's entries.
func TestWritesIntoADamagedRunFail(t *testing.T) {
	path := writeRuns(t, 40) // runs at 0 and 32, the second partly filled
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Ledger))
		v := bytes.Clone(b.Get(seqKey(runLen)))
		v[0] = runLen // a slot past the run
		return b.Put(seqKey(runLen), v)
	})
	db, err := Open(path, Options{LockTimeout: time.Second, Staged: true})
	require.NoError(t, err)
	defer db.Close()
	err = db.Update(func(tx *Tx) error { return tx.Put(Ledger, seqKey(41), []byte("entry 41")) })
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `ledger key "\x00\x00\x00\x00\x00\x00\x00 ": run entries out of order`)
	require.NoError(t, db.Update(func(tx *Tx) error { return tx.Put(Ledger, seqKey(64), []byte("entry 64")) }), "a new run")
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, "entry 1", string(tx.Get(Ledger, seqKey(1))))
		require.Equal(t, "entry 64", string(tx.Get(Ledger, seqKey(64))))
		return nil
	}))
	n, _ := db.Staged()
	require.Equal(t, 1, n, "entry 64: nothing of the failed update")

	// The fold itself, handed an entry for the damaged run.
	require.NoError(t, db.bolt.Update(func(bt *bolt.Tx) error {
		tr := btree.NewG(treeDegree, entryLess)
		tr.ReplaceOrInsert(&entry{key: seqKey(41), val: seal(nil, Ledger, seqKey(41), []byte("entry 41"))})
		_, _, err := (&Tx{tx: bt}).foldPacked(Ledger, bt.Bucket([]byte(Ledger)), newMerger([]source{{tree: tr}}, nil, nil, false), 0)
		require.ErrorIs(t, err, ErrCorrupt)
		require.ErrorContains(t, err, "run entries out of order")
		return nil
	}))
}
