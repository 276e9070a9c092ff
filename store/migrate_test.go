package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// oldFile writes a store of schema version v holding key k=v1 in Users:
// values bare and no digests before 4, sealed from 4 on.
func oldFile(t *testing.T, path string, v uint32) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		for _, ks := range allKeyspaces {
			if _, err := tx.CreateBucket([]byte(ks)); err != nil {
				return err
			}
		}
		if v >= 4 { // sealed values, without the keyspaces of later layouts
			for _, ks := range []Keyspace{Outbox, Consumers} {
				if ks.since() <= v {
					continue
				}
				if err := tx.DeleteBucket([]byte(ks)); err != nil {
					return err
				}
			}
			if err := tx.Bucket([]byte(Users)).Put([]byte("k"), seal(nil, Users, []byte("k"), []byte("v1"))); err != nil {
				return err
			}
			if err := putSchema(tx, v); err != nil {
				return err
			}
			ds := scanDigests(tx, false) // a layout before runs
			return writeDigests(tx, &ds)
		}
		if err := tx.Bucket([]byte(Users)).Put([]byte("k"), []byte("v1")); err != nil {
			return err
		}
		return tx.Bucket([]byte(Meta)).Put(schemaKey, binary.BigEndian.AppendUint32(nil, v))
	}))
	require.NoError(t, b.Close())
}

func schemaOf(t *testing.T, db *DB) uint32 {
	t.Helper()
	var v uint32
	require.NoError(t, db.View(func(tx *Tx) error { v = binary.BigEndian.Uint32(tx.Get(Meta, schemaKey)); return nil }))
	return v
}

// appendStep appends suffix to the value of Users/k.
func appendStep(from uint32, suffix string, runs *int) Migration {
	return Migration{From: from, Name: "append " + suffix, Run: func(m *MigrationTx) error {
		*runs++
		v, err := m.Get(Users, []byte("k"))
		if err != nil {
			return err
		}
		return m.Put(Users, []byte("k"), append(append([]byte(nil), v...), suffix...))
	}}
}

func TestMigrationRunsStepsInOrderAfterABackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	from := uint32(SchemaVersion - 2)
	oldFile(t, path, from)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)

	runs := 0
	steps := []Migration{appendStep(from+1, "b", &runs), appendStep(from, "a", &runs)} // listed out of order
	db, err := Open(path, Options{LockTimeout: time.Second, Migrations: steps})
	require.NoError(t, err)
	require.Equal(t, uint32(SchemaVersion), schemaOf(t, db))
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, "v1ab", string(tx.Get(Users, []byte("k"))))
		return nil
	}))
	require.NoError(t, db.Close())
	require.Equal(t, 2, runs)

	backup, err := os.ReadFile(BackupPath(path, from))
	require.NoError(t, err)
	require.Equal(t, orig, backup, "the backup is the file as it was, byte for byte")

	// A second Open finds the current version and runs nothing.
	db, err = Open(path, Options{LockTimeout: time.Second, Migrations: steps})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Equal(t, 2, runs)
}

func TestMigrationFailureLeavesTheFileAsItWas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	from := uint32(SchemaVersion - 2)
	oldFile(t, path, from)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	runs := 0
	boom := errors.New("boom")
	steps := []Migration{appendStep(from, "a", &runs), {From: from + 1, Name: "fails", Run: func(*MigrationTx) error { return boom }}}
	_, err = Open(path, Options{LockTimeout: time.Second, Migrations: steps})
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "fails")

	// bbolt's own open may rewrite nothing; the data and version are the old ones.
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, b.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(Users)).Get([]byte("k"))
		if from >= 4 {
			var err error
			v, err = unseal(Users, []byte("k"), v)
			require.NoError(t, err)
		}
		require.Equal(t, "v1", string(v))
		require.Equal(t, from, binary.BigEndian.Uint32(tx.Bucket([]byte(Meta)).Get(schemaKey)))
		return nil
	}))
	require.NoError(t, b.Close())

	// The backup left behind is identical, so a retry with a working step
	// reuses it and migrates.
	steps[1] = appendStep(from+1, "b", &runs)
	db, err := Open(path, Options{LockTimeout: time.Second, Migrations: steps})
	require.NoError(t, err)
	require.Equal(t, uint32(SchemaVersion), schemaOf(t, db))
	require.NoError(t, db.Close())
	backup, err := os.ReadFile(BackupPath(path, from))
	require.NoError(t, err)
	require.Equal(t, orig, backup)
}

func TestMigrationNeverOverwritesABackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	from := uint32(SchemaVersion - 1)
	oldFile(t, path, from)
	require.NoError(t, os.WriteFile(BackupPath(path, from), []byte("an older backup"), 0o600))
	runs := 0
	_, err := Open(path, Options{LockTimeout: time.Second, Migrations: []Migration{appendStep(from, "a", &runs)}})
	require.ErrorIs(t, err, ErrBackupExists)
	require.Zero(t, runs)
	b, err := os.ReadFile(BackupPath(path, from))
	require.NoError(t, err)
	require.Equal(t, "an older backup", string(b))
}

func TestMigrationMissingStepIsOldSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	from := uint32(1) // a step from 1, none from 2 (store's own start at 3)
	oldFile(t, path, from)
	runs := 0
	// A step from the oldest version but none after it.
	_, err := Open(path, Options{LockTimeout: time.Second, Migrations: []Migration{appendStep(from, "a", &runs)}})
	require.ErrorIs(t, err, ErrOldSchema)
	require.Zero(t, runs)
	_, err = os.Stat(BackupPath(path, from))
	require.ErrorIs(t, err, os.ErrNotExist, "no backup without a migration")
}

func TestOpenRefusesAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	_, err := Open(path, Options{LockTimeout: time.Second})
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "empty")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Zero(t, fi.Size(), "nothing written")
}

func TestOpenRefusesForeignBoltFiles(t *testing.T) {
	for name, fill := range map[string]func(tx *bolt.Tx) error{
		"no schema record": func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("widgets"))
			if err != nil {
				return err
			}
			return b.Put([]byte("a"), []byte("b"))
		},
		"meta without schema": func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte(Meta))
			return err
		},
		"another program's keyspaces": func(tx *bolt.Tx) error {
			for _, name := range []string{"widgets", "users"} {
				if _, err := tx.CreateBucket([]byte(name)); err != nil {
					return err
				}
			}
			return nil
		},
		"unknown keyspace": func(tx *bolt.Tx) error {
			for _, ks := range allKeyspaces {
				if _, err := tx.CreateBucket([]byte(ks)); err != nil {
					return err
				}
			}
			if err := tx.Bucket([]byte(Meta)).Put(schemaKey, binary.BigEndian.AppendUint32(nil, SchemaVersion)); err != nil {
				return err
			}
			_, err := tx.CreateBucket([]byte("widgets"))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.db")
			b, err := bolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, b.Update(fill))
			require.NoError(t, b.Close())
			before, err := os.ReadFile(path)
			require.NoError(t, err)

			_, err = Open(path, Options{LockTimeout: time.Second})
			if name == "unknown keyspace" {
				// With gamify's schema record it is gamify's file, damaged.
				require.ErrorIs(t, err, ErrCorrupt)
			} else {
				require.ErrorIs(t, err, ErrForeign)
			}
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, before, after, "nothing written into another program's file")
		})
	}
}

// TestMigrationEachVisitsEveryRecordOnceWhileWriting: Each reads in
// chunks, and the step rewrites and deletes as it goes.
func TestMigrationEachVisitsEveryRecordOnceWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	from := uint32(SchemaVersion - 1)
	oldFile(t, path, from)
	const n = 3000
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		for i := range n {
			k := binary.BigEndian.AppendUint64(nil, uint64(i))
			if err := tx.Bucket([]byte(Ledger)).Put(k, seal(nil, Ledger, k, []byte("old"))); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, b.Close())
	seen := map[uint64]int{}
	step := Migration{From: from, Name: "rewrite", Run: func(m *MigrationTx) error {
		return m.Each(Ledger, func(k, v []byte) error {
			i := binary.BigEndian.Uint64(k)
			seen[i]++
			if string(v) != "old" {
				return errors.New("a rewritten value was read again")
			}
			if i%3 == 0 {
				return m.Delete(Ledger, k)
			}
			return m.Put(Ledger, k, []byte("new"))
		})
	}}
	db, err := Open(path, Options{LockTimeout: time.Second, Migrations: []Migration{step}})
	require.NoError(t, err)
	defer db.Close()
	require.Len(t, seen, n)
	for i, c := range seen {
		require.Equal(t, 1, c, "record %d", i)
	}
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, n-n/3, tx.Count(Ledger))
		return tx.Scan(Ledger, nil, func(k, v []byte) error {
			require.Equal(t, "new", string(v))
			return nil
		})
	}))
}
