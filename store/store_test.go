package store

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{LockTimeout: 100e6})
	require.NoError(t, err)
	return db
}

func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	require.NoError(t, db.Close())

	// A file from a newer build is refused with a clear error.
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		return putSchema(tx, SchemaVersion+1)
	}))
	require.NoError(t, b.Close())
	_, err = Open(path, Options{LockTimeout: 100e6})
	require.ErrorIs(t, err, ErrNewerSchema)

	// Files of older layouts without a migration (store's own steps start
	// at 3; the caller's are none here) are refused too.
	for _, v := range []uint32{1, 2} {
		b, err = bolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, b.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte(Meta)).Put(schemaKey, binary.BigEndian.AppendUint32(nil, v))
		}))
		require.NoError(t, b.Close())
		_, err = Open(path, Options{LockTimeout: 100e6})
		require.ErrorIs(t, err, ErrOldSchema, "version %d", v)
	}
}

func TestLockTimeoutIsRequired(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{})
	require.Error(t, err)
}

func TestScanAndBeforeCommit(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	require.NoError(t, db.Update(func(tx *Tx) error {
		for _, k := range []string{"a1", "a2", "b1", "a\xff"} {
			if err := tx.Put(State, []byte(k), []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	}))
	var fwd, rev []string
	require.NoError(t, db.View(func(tx *Tx) error {
		_ = tx.Scan(State, []byte("a"), func(k, _ []byte) error { fwd = append(fwd, string(k)); return nil })
		return tx.ScanReverse(State, []byte("a"), func(k, _ []byte) error { rev = append(rev, string(k)); return nil })
	}))
	require.Equal(t, []string{"a1", "a2", "a\xff"}, fwd)
	require.Equal(t, []string{"a\xff", "a2", "a1"}, rev)
	var from []string
	require.NoError(t, db.View(func(tx *Tx) error {
		return tx.ScanFrom(State, []byte("a2"), func(k, _ []byte) error {
			from = append(from, string(k))
			if k[0] == 'b' {
				return ErrStop
			}
			return nil
		})
	}))
	require.Equal(t, []string{"a2", "a\xff", "b1"}, from, "ScanFrom starts at its key and crosses prefixes")

	db.beforeCommit = func() error { return errors.New("injected") }
	err := db.Update(func(tx *Tx) error { return tx.Put(State, []byte("z"), []byte("1")) })
	require.ErrorContains(t, err, "injected")
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Nil(t, tx.Get(State, []byte("z")), "a failed commit leaves nothing")
		return nil
	}))
}

func TestFailAfterCommitStoresAndReportsFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	fsync := errors.New("fsync: input/output error")
	db, err := Open(path, Options{LockTimeout: 100e6, BeforeCommit: func() error { return FailAfterCommit(fsync) }})
	require.NoError(t, err)
	err = db.Update(func(tx *Tx) error { return tx.Put(State, []byte("z"), []byte("1")) })
	require.ErrorIs(t, err, fsync)
	require.ErrorContains(t, err, "outcome unknown")
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, []byte("1"), tx.Get(State, []byte("z")), "the data landed although the commit reported failure")
		return nil
	}))
	require.NoError(t, db.Close())
	db = open(t, path)
	defer db.Close()
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, []byte("1"), tx.Get(State, []byte("z")))
		return nil
	}))
}
