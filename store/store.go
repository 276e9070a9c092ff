package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the on-disk layout this build writes. Open refuses a file
// written by a newer layout, and an older one it has no migration for.
//
// Versions: 1, the first development layout (never released, no
// migration); 2 (2026-11-23), the first release: user state records with
// yearly numbers and binary award-log records; 3 (2026-12-01), amounts
// inside stored definitions are decimal strings ("12.5"), not counts of
// millionths, definitions carry a status and creation order, claims their
// reward's name and the balance after them, rank history its scores, award
// records their time. Options.Migrations upgrade older files.
const SchemaVersion = 3

var (
	// ErrNewerSchema is returned by Open for a file written by a newer gamify.
	ErrNewerSchema = errors.New("store: database schema is newer than this build supports")
	// ErrLocked is returned by Open when another process holds the file's
	// lock for longer than the lock timeout.
	ErrLocked = errors.New("store: database file is locked by another process")
	// ErrOldSchema is returned by Open for a file of a layout this build
	// neither reads nor migrates.
	ErrOldSchema = errors.New("store: database schema is older than this build can migrate")
	// ErrForeign is returned by Open for a path that is not a gamify
	// database: a directory, a named pipe or other non-regular file, or a
	// bbolt file of another program (with keyspaces but no gamify schema
	// record). Open writes nothing into it. (A file with the schema record
	// and a keyspace gamify does not use is ErrCorrupt.)
	ErrForeign = errors.New("store: not a gamify database file")
)

// Keyspace names an ordered map of byte keys to byte values.
type Keyspace string

// The keyspaces gamify uses. Each is a top-level bbolt bucket created at Open.
const (
	Meta        Keyspace = "meta"        // schema version, counters
	Definitions Keyspace = "definitions" // kind/key → definition (JSON)
	Users       Keyspace = "users"       // user id → profile
	UserIDs     Keyspace = "uids"        // internal uid → user id
	State       Keyspace = "state"       // uid → the user's numbers (binary)
	Ledger      Keyspace = "ledger"      // seq → ledger entry (binary)
	Daily       Keyspace = "daily"       // uid|metric|day → change that local day
	Idempotency Keyspace = "idem"        // uid|scope ref|key → seq, applied at, payload fingerprint[, event time]
	Jobs        Keyspace = "jobs"        // job id → last completed time
	Runs        Keyspace = "runs"        // board|run|group|position → frozen final standing
	Awards      Keyspace = "awards"      // seq → a points award (user, system, details), the award log
	Codes       Keyspace = "codes"       // reward|code → available code of a reward's inventory
	Claims      Keyspace = "claims"      // uid|reward|seq → a claim of a reward
	Outbox      Keyspace = "outbox"      // seq → a committed notification (time, user, type, JSON)
	Consumers   Keyspace = "consumers"   // outbox consumer name → acknowledged seq, creation time
)

var allKeyspaces = []Keyspace{Meta, Definitions, Users, UserIDs, State, Ledger, Daily, Idempotency, Jobs, Runs, Awards, Codes, Claims, Outbox, Consumers}

var schemaKey = []byte("schema")

// Options configure Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another process.
	// It must be positive: bbolt's zero would wait forever.
	LockTimeout time.Duration
	// NoSync skips fsync at commit. Only benchmarks of CPU cost use it.
	NoSync bool
	// BeforeCommit, when set, runs just before each write transaction commits;
	// a non-nil error aborts the commit, unless it was made by FailAfterCommit.
	// It is the seam for fault injection.
	BeforeCommit func() error
	// Migrations are the steps that upgrade an older file; see Open.
	Migrations []Migration
}

// FailAfterCommit wraps err so that, returned by Options.BeforeCommit, it lets
// the transaction commit and is then reported as the commit's failure.
//
// It simulates the failed fsync of an outcome unknown. bbolt offers no hook
// into its fdatasync, and when that fails after the pages and the meta page
// were written, the data is in the OS page cache: the kernel will likely
// write it out, and this process's mmap already reads the new meta page, so
// the next transaction sees the "failed" commit. A caller told of a commit
// failure can therefore rely on nothing about the batch: it may or may not be
// stored. What gamify guarantees in that case is that it re-reads its working
// state from the store (so later reads and commands agree with whatever the
// file holds) and that a retry with the same idempotency key applies the
// event exactly once, replaying it if the failed commit did land. A retry
// without an idempotency key may apply an event twice.
func FailAfterCommit(err error) error { return &lateFault{err} }

type lateFault struct{ err error }

func (f *lateFault) Error() string { return f.err.Error() }
func (f *lateFault) Unwrap() error { return f.err }

// DB is an open store.
type DB struct {
	bolt         *bolt.DB
	beforeCommit func() error
}

// Open opens or creates the store at path, creating the keyspaces and checking
// the schema version.
//
// A missing file is created. An existing one must be a regular, non-empty
// bbolt file holding gamify's keyspaces and schema record, else Open fails
// at once without writing to it: ErrForeign (a directory, a named pipe, a
// bbolt file of another program) or ErrCorrupt (an empty, truncated or
// damaged file). A file of a newer schema is ErrNewerSchema. A file of an
// older schema is migrated when opts.Migrations hold a step from each
// version up to SchemaVersion (else ErrOldSchema): Open first copies the
// file byte for byte to BackupPath(path, version), synced, then runs the
// steps and writes the new version in one transaction. A different file
// already at the backup path is ErrBackupExists (an identical one, left by
// a migration that did not finish, is reused); a failed step leaves the
// file as it was.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		return nil, errors.New("store: LockTimeout must be positive")
	}
	if err := regularFile(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := verifyPages(path, opts.LockTimeout); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, lockErr(err))
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoSync:         opts.NoSync,
		NoFreelistSync: true, // the freelist is rebuilt at open; commits write less
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, lockErr(err))
	}
	db := &DB{bolt: b, beforeCommit: opts.BeforeCommit}
	if err := db.init(opts.Migrations); err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

// regularFile refuses a path that exists and is not a regular file before
// anything opens it: opening a named pipe for reading blocks until a writer
// comes, and bbolt cannot use a directory or a device.
func regularFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("%w: it is a directory", ErrForeign)
	case m&os.ModeNamedPipe != 0:
		return fmt.Errorf("%w: it is a named pipe (FIFO)", ErrForeign)
	default:
		return fmt.Errorf("%w: it is not a regular file (mode %v)", ErrForeign, m)
	}
}

// init reads the schema version of the file, migrating it if it is older,
// and creates the keyspaces of a new file.
func (db *DB) init(migrations []Migration) error {
	version, fresh, err := db.inspect()
	if err != nil {
		return err
	}
	switch {
	case fresh:
		version = SchemaVersion
	case version > SchemaVersion:
		return fmt.Errorf("%w: file has version %d, this build %d", ErrNewerSchema, version, SchemaVersion)
	case version < SchemaVersion:
		plan, err := planMigrations(migrations, version)
		if err != nil {
			return err
		}
		if err := db.migrate(version, plan); err != nil {
			return err
		}
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, ks := range allKeyspaces {
			if _, err := tx.CreateBucketIfNotExists([]byte(ks)); err != nil {
				return fmt.Errorf("store: create keyspace %s: %w", ks, err)
			}
		}
		if fresh {
			return tx.Bucket([]byte(Meta)).Put(schemaKey, binary.BigEndian.AppendUint32(nil, SchemaVersion))
		}
		return nil
	})
}

// inspect reads the schema version of an existing file; fresh is true for
// a file with no keyspace at all (just created by bbolt). A bbolt file
// without a schema record is ErrForeign; one with it and a keyspace gamify
// does not use (another program's, or one whose name was damaged) is
// ErrCorrupt.
func (db *DB) inspect() (version uint32, fresh bool, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		n := 0
		var unknown []byte
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			n++
			if unknown == nil && !slices.Contains(allKeyspaces, Keyspace(name)) {
				unknown = bytes.Clone(name)
			}
			return nil
		})
		if n == 0 {
			fresh = true
			return nil
		}
		meta := tx.Bucket([]byte(Meta))
		var v []byte
		if meta != nil {
			v = meta.Get(schemaKey)
		}
		switch {
		case v == nil && unknown != nil:
			return fmt.Errorf("%w: it has no gamify schema record and a keyspace %q gamify does not use", ErrForeign, unknown)
		case v == nil:
			return fmt.Errorf("%w: it has no gamify schema record", ErrForeign)
		case len(v) != 4:
			return fmt.Errorf("%w: schema version record of %d bytes", ErrCorrupt, len(v))
		case unknown != nil:
			// gamify's own file: a keyspace of another name is a damaged one.
			return fmt.Errorf("%w: keyspace %q is not one gamify uses", ErrCorrupt, unknown)
		}
		version = binary.BigEndian.Uint32(v)
		return nil
	})
	return version, fresh, err
}

// Close closes the file. It waits for open transactions to finish.
func (db *DB) Close() error { return db.bolt.Close() }

// Path returns the file path.
func (db *DB) Path() string { return db.bolt.Path() }

// Update runs fn in a write transaction and commits it if fn returns nil.
func (db *DB) Update(fn func(*Tx) error) error {
	t, err := db.bolt.Begin(true)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&Tx{tx: t}); err != nil {
		_ = t.Rollback()
		return err
	}
	var late *lateFault
	if db.beforeCommit != nil {
		if err := db.beforeCommit(); err != nil && !errors.As(err, &late) {
			_ = t.Rollback()
			return fmt.Errorf("store: commit: %w", err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if late != nil {
		return fmt.Errorf("store: commit (outcome unknown): %w", late.err)
	}
	return nil
}

// View runs fn in a read-only snapshot transaction.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(t *bolt.Tx) error { return fn(&Tx{tx: t}) })
}

// Tx is a transaction over the keyspaces.
type Tx struct {
	tx *bolt.Tx
}

func (t *Tx) bucket(ks Keyspace) *bolt.Bucket {
	b := t.tx.Bucket([]byte(ks))
	if b == nil {
		panic("store: unknown keyspace " + string(ks)) // programmer error: keyspaces are constants
	}
	return b
}

// Get returns the value of key, or nil if absent.
func (t *Tx) Get(ks Keyspace, key []byte) []byte { return t.bucket(ks).Get(key) }

// Put sets key to val.
func (t *Tx) Put(ks Keyspace, key, val []byte) error {
	if err := t.bucket(ks).Put(key, val); err != nil {
		return fmt.Errorf("store: put %s: %w", ks, err)
	}
	return nil
}

// Delete removes key; absent keys are not an error.
func (t *Tx) Delete(ks Keyspace, key []byte) error {
	if err := t.bucket(ks).Delete(key); err != nil {
		return fmt.Errorf("store: delete %s: %w", ks, err)
	}
	return nil
}

// Scan calls fn for every key with the given prefix, in key order, until fn
// returns an error (returned as is) or ErrStop (which ends the scan quietly).
func (t *Tx) Scan(ks Keyspace, prefix []byte, fn func(k, v []byte) error) error {
	c := t.bucket(ks).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ScanFrom calls fn for every key from start on, in key order, like Scan.
func (t *Tx) ScanFrom(ks Keyspace, start []byte, fn func(k, v []byte) error) error {
	c := t.bucket(ks).Cursor()
	for k, v := c.Seek(start); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ScanReverse is Scan from the last key with the prefix backwards.
func (t *Tx) ScanReverse(ks Keyspace, prefix []byte, fn func(k, v []byte) error) error {
	c := t.bucket(ks).Cursor()
	end := prefixEnd(prefix)
	var k, v []byte
	if end == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if err := fn(k, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Count returns the number of keys in ks.
func (t *Tx) Count(ks Keyspace) int { return t.bucket(ks).Stats().KeyN }

// ErrStop ends a Scan early without error.
var ErrStop = errors.New("store: stop scan")

// prefixEnd returns the smallest key greater than every key with prefix, or
// nil if there is none (prefix is empty or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Size returns the file size in bytes.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.bolt.Path())
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Backup writes a consistent copy of the database file to w, as of the start
// of one read transaction: commits go on meanwhile (those that must grow
// the file's memory map wait for it to end). The copy is a database file of
// its own, openable with Open. It returns the bytes written.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// Dump calls fn for every key and value of every keyspace (for tests that
// compare stores byte for byte).
func (t *Tx) Dump(fn func(ks Keyspace, k, v []byte)) {
	for _, ks := range allKeyspaces {
		_ = t.bucket(ks).ForEach(func(k, v []byte) error { fn(ks, k, v); return nil })
	}
}

// Compact rewrites the store at path into a fresh file holding only live
// keys, then replaces path with it. bbolt reuses freed pages without zeroing
// them, so deleted values stay in the file until a compaction: this is the
// step that makes a hard delete final. The store must not be open.
func Compact(path string, lockTimeout time.Duration) error {
	if lockTimeout <= 0 {
		return errors.New("store: LockTimeout must be positive")
	}
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: compact %s: %w", path, err)
	}
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: lockTimeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		src.Close()
		return fmt.Errorf("store: compact %s: %w", path, err)
	}
	err = bolt.Compact(dst, src, 64<<20)
	err = errors.Join(err, dst.Close(), src.Close())
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: compact %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: compact %s: %w", path, err)
	}
	return nil
}

// DeletePrefix removes every key of ks that starts with prefix.
func (t *Tx) DeletePrefix(ks Keyspace, prefix []byte) error {
	c := t.bucket(ks).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("store: delete %s: %w", ks, err)
		}
	}
	return nil
}

// lockErr turns bbolt's lock timeout into ErrLocked (keeping bbolt's error
// in the message), so callers need not import bbolt.
func lockErr(err error) error {
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("%w (%v)", ErrLocked, err)
	}
	return err
}
