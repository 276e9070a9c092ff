package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// ScanKeys gives the keys a Scan gives, in order, through the staged
// layers and the file (deleted keys left out), stops at ErrStop, and reads
// no value: a damaged one does not fail it, while Scan fails on it.
func TestScanKeys(t *testing.T) {
	for _, staged := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "keys.db")
		opts := Options{LockTimeout: 1e9, NoSync: true, Staged: staged}
		db, err := Open(path, opts)
		require.NoError(t, err)
		put := func(del []string, keys ...string) {
			t.Helper()
			require.NoError(t, db.Update(func(tx *Tx) error {
				for _, k := range keys {
					if err := tx.Put(Idempotency, []byte(k), []byte("value-of-"+k)); err != nil {
						return err
					}
				}
				for _, k := range del {
					if err := tx.Delete(Idempotency, []byte(k)); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		put(nil, "b", "d", "f")
		_, err = db.Checkpoint()
		require.NoError(t, err)
		put([]string{"d"}, "a", "e") // staged over the file
		scanKeys := func(db *DB, stopAt string) (got []string) {
			t.Helper()
			require.NoError(t, db.View(func(tx *Tx) error {
				return tx.ScanKeys(Idempotency, func(k []byte) error {
					got = append(got, string(k))
					if string(k) == stopAt {
						return ErrStop
					}
					return nil
				})
			}))
			return got
		}
		var scanned []string
		require.NoError(t, db.View(func(tx *Tx) error {
			return tx.Scan(Idempotency, nil, func(k, _ []byte) error { scanned = append(scanned, string(k)); return nil })
		}))
		require.Equal(t, []string{"a", "b", "e", "f"}, scanned, "staged %v", staged)
		require.Equal(t, scanned, scanKeys(db, ""), "staged %v", staged)
		require.Equal(t, []string{"a", "b"}, scanKeys(db, "b"), "staged %v", staged)
		_, err = db.Checkpoint() // a Staged DB's layers are not the file's until then
		require.NoError(t, err)
		require.NoError(t, db.Close())

		// Damage the value of "f" in the file.
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Positive(t, flipValue(b, []byte("value-of-f")))
		require.NoError(t, os.WriteFile(path, b, 0o600))
		db, err = Open(path, opts)
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b", "e", "f"}, scanKeys(db, ""), "staged %v", staged)
		err = db.View(func(tx *Tx) error {
			return tx.Scan(Idempotency, nil, func(_, _ []byte) error { return nil })
		})
		require.ErrorIs(t, err, ErrCorrupt)
		require.NoError(t, db.Close())
	}
}

// flipValue flips a bit of the last byte of every copy of v in b.
func flipValue(b, v []byte) int {
	n := 0
	for i := 0; i+len(v) <= len(b); i++ {
		if string(b[i:i+len(v)]) == string(v) {
			b[i+len(v)-1] ^= 0x01
			n++
		}
	}
	return n
}
