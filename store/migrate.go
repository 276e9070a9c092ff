package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Migration upgrades a file from schema version From to From+1.
//
// Open runs the migrations a file needs one after another in a single bbolt
// write transaction, which also writes the new version: either the file
// ends at SchemaVersion or (on any error, or a crash) it is left as it was.
// Run sees the values as the From layout stored them: bare up to version
// 3; from version 4 on MigrationTx checks and strips each value's checksum
// on the way out and seals what is put. Steps of the same From run in the
// order given, the caller's before store's own. From version 6 on, the
// packed keyspaces (ledger, awards, outbox) read and write as entries too.
type Migration struct {
	From uint32
	Name string // what the step changes, for errors
	Run  func(*MigrationTx) error
}

// MigrationTx is the write transaction a Migration runs in, over the stored
// values of the step's layout (sealed is set from version 4 on).
type MigrationTx struct {
	tx     *bolt.Tx
	sealed bool
	runs   bool // the packed keyspaces hold runs (packed.go)
}

// entries reports whether ks is read and written through its runs.
func (m *MigrationTx) entries(ks Keyspace) bool { return m.runs && packed(ks) }

// open returns v as the step sees it.
func (m *MigrationTx) open(ks Keyspace, k, v []byte) ([]byte, error) {
	if !m.sealed || v == nil {
		return v, nil
	}
	return unseal(ks, k, v)
}

func (m *MigrationTx) bucket(ks Keyspace) (*bolt.Bucket, error) {
	b := m.tx.Bucket([]byte(ks))
	if b == nil {
		return nil, fmt.Errorf("store: migration: keyspace %s is missing", ks)
	}
	return b, nil
}

// Get returns the value of key, or nil. It is valid until the transaction ends.
func (m *MigrationTx) Get(ks Keyspace, key []byte) ([]byte, error) {
	b, err := m.bucket(ks)
	if err != nil {
		return nil, err
	}
	if m.entries(ks) {
		t := &Tx{tx: m.tx}
		v := t.Get(ks, key)
		return v, t.err
	}
	return m.open(ks, key, b.Get(key))
}

// Put sets key to val.
func (m *MigrationTx) Put(ks Keyspace, key, val []byte) error {
	b, err := m.bucket(ks)
	if err != nil {
		return err
	}
	if m.entries(ks) {
		return (&Tx{tx: m.tx}).putSealed(ks, key, seal(nil, ks, key, val)) // the digests are rescanned after the steps
	}
	if m.sealed {
		val = seal(nil, ks, key, val)
	}
	if err := b.Put(key, val); err != nil {
		return fmt.Errorf("store: migration: put %s: %w", ks, err)
	}
	return nil
}

// Delete removes key; an absent key is not an error.
func (m *MigrationTx) Delete(ks Keyspace, key []byte) error {
	b, err := m.bucket(ks)
	if err != nil {
		return err
	}
	if m.entries(ks) {
		return (&Tx{tx: m.tx}).del(ks, key)
	}
	return b.Delete(key)
}

// Each calls fn with a copy of every key and value of ks, in key order. It
// reads a chunk of records before calling fn on them, so fn may Put and
// Delete in ks (a key it adds after the current one is visited too).
func (m *MigrationTx) Each(ks Keyspace, fn func(k, v []byte) error) error {
	b, err := m.bucket(ks)
	if err != nil {
		return err
	}
	const chunk = 1024
	var after []byte // the last key visited
	for {
		var keys, vals [][]byte
		t := &Tx{tx: m.tx}
		c := &fileCursor{t: t, ks: ks, bc: b.Cursor(), packed: m.entries(ks)}
		k, v := c.First()
		if after != nil {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(keys) < chunk; k, v = c.Next() {
			keys, vals = append(keys, bytes.Clone(k)), append(vals, bytes.Clone(v))
		}
		if c.err != nil {
			return c.err
		}
		for i := range keys {
			v, err := m.open(ks, keys[i], vals[i])
			if err != nil {
				return err
			}
			if err := fn(keys[i], v); err != nil {
				return err
			}
		}
		if len(keys) < chunk {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

// BackupPath is where Open copies a file of schema version from before it
// migrates it: the path with ".v<from>.bak" appended ("game.db.v2.bak").
func BackupPath(path string, from uint32) string {
	return fmt.Sprintf("%s.v%d.bak", path, from)
}

// ErrBackupExists is returned by Open when the file needs a migration and a
// different file already sits at its BackupPath: Open never overwrites it.
// Move it away and open again.
var ErrBackupExists = errors.New("store: a different backup file is in the way of the migration")

// planMigrations returns the steps from version from to SchemaVersion, or
// ErrOldSchema when one is missing.
func planMigrations(all []Migration, from uint32) ([]Migration, error) {
	var plan []Migration
	for v := from; v < SchemaVersion; v++ {
		n := len(plan)
		for _, m := range all {
			if m.From == v && m.Run != nil {
				plan = append(plan, m)
			}
		}
		if len(plan) == n {
			return nil, fmt.Errorf("%w: file has version %d, this build has no migration from version %d (it reads %d)", ErrOldSchema, from, v, SchemaVersion)
		}
	}
	return plan, nil
}

// migrate upgrades the open file from version from: it writes the backup,
// then runs plan and sets the version in one transaction.
func (db *DB) migrate(from uint32, plan []Migration) error {
	path := db.bolt.Path()
	if err := writeBackup(path, BackupPath(path, from)); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, m := range plan {
			mt := &MigrationTx{tx: tx, sealed: m.From >= 4, runs: m.From >= 6}
			if err := m.Run(mt); err != nil {
				return fmt.Errorf("store: migrate %s from version %d (%s): %w", path, m.From, m.Name, err)
			}
		}
		if tx.Bucket([]byte(Meta)) == nil {
			return fmt.Errorf("store: migrate %s: keyspace meta is missing", path)
		}
		if err := putSchema(tx, SchemaVersion); err != nil {
			return err
		}
		// The steps wrote past the digests: they are made from what is left.
		ds := scanDigests(tx, true)
		return writeDigests(tx, &ds)
	})
}

// storeMigrations are the steps of store's own layout, run by Open after
// the caller's (Options.Migrations) of the same file: from 3 to 4 every
// value is sealed with its checksum and the keyspace digests written; from
// 4 to 5 the keyspaces of the outbox are created; from 5 to 6 the entries of
// the ledger, awards and outbox are packed into runs (packed.go). A step
// after 3 sees sealed values through MigrationTx, which seals what it writes.
var storeMigrations = []Migration{
	{From: 3, Name: "v3 to v4: a checksum on every value, keyspace digests", Run: func(m *MigrationTx) error { return addChecksums(m.tx) }},
	{From: 4, Name: "v4 to v5: the outbox keyspaces", Run: func(m *MigrationTx) error { return addKeyspaces(m.tx, Outbox, Consumers) }},
	{From: 5, Name: "v5 to v6: ledger, awards and outbox entries in runs", Run: func(m *MigrationTx) error { return packKeyspaces(m.tx) }},
}

// since is the schema version that added ks.
func (ks Keyspace) since() uint32 {
	if ks == Outbox || ks == Consumers {
		return 5
	}
	return 1
}

// addKeyspaces creates the keyspaces a layout added.
func addKeyspaces(tx *bolt.Tx, kss ...Keyspace) error {
	for _, ks := range kss {
		if _, err := tx.CreateBucketIfNotExists([]byte(ks)); err != nil {
			return fmt.Errorf("store: create keyspace %s: %w", ks, err)
		}
	}
	return nil
}

// writeBackup copies the file at path byte for byte to dst, synced, before
// a migration. This process holds bbolt's lock and no transaction is open,
// so the file does not change meanwhile. An identical file already at dst
// (left by a migration that did not finish) is kept; a different one is
// ErrBackupExists.
func writeBackup(path, dst string) error {
	if same, err := sameContents(path, dst); err != nil || same {
		return err
	}
	src, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: backup before migration: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return fmt.Errorf("store: backup before migration: %w", err)
	}
	_, err = io.Copy(tmp, src)
	err = errors.Join(err, tmp.Sync(), tmp.Close())
	if err == nil {
		// Link, unlike Rename, never replaces a file that appeared meanwhile.
		err = os.Link(tmp.Name(), dst)
	}
	os.Remove(tmp.Name())
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: %s", ErrBackupExists, dst)
	}
	if err != nil {
		return fmt.Errorf("store: backup before migration: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

// sameContents reports whether dst exists with the contents of path; a
// different file at dst is ErrBackupExists.
func sameContents(path, dst string) (bool, error) {
	di, err := os.Stat(dst)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: backup before migration: %w", err)
	}
	var a, b []byte
	if si, err := os.Stat(path); err == nil && si.Size() == di.Size() {
		a, err = os.ReadFile(path)
		if err == nil {
			b, err = os.ReadFile(dst)
		}
		if err != nil {
			return false, fmt.Errorf("store: backup before migration: %w", err)
		}
	}
	if a == nil || !bytes.Equal(a, b) {
		return false, fmt.Errorf("%w: %s", ErrBackupExists, dst)
	}
	return true, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: backup before migration: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("store: backup before migration: sync %s: %w", dir, err)
	}
	return nil
}
