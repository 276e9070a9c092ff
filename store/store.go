package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
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
// records their time; 4 (2026-12-01), every value sealed with a CRC-32C of
// its keyspace, key and payload (checksum.go), the schema version record
// with it, and a digest per keyspace (digest.go); 5 (2026-12-01), the
// outbox and consumers keyspaces; 6 (2026-12-02), the entries of the
// ledger, awards and outbox packed in runs (packed.go). Older files are
// upgraded by the caller's steps (Options.Migrations) and store's own
// (storeMigrations).
const SchemaVersion = 6

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

// allKeyspaces is every keyspace, in the order of the digests record.
var allKeyspaces = [numKeyspaces]Keyspace{Meta, Definitions, Users, UserIDs, State, Ledger, Daily, Idempotency, Jobs, Runs, Awards, Codes, Claims, Outbox, Consumers}

const numKeyspaces = 15

var schemaKey = []byte("schema")

// Options configure Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another process.
	// It must be positive: bbolt's zero would wait forever.
	LockTimeout time.Duration
	// NoSync skips fsync at commit. Only benchmarks of CPU cost use it.
	NoSync bool
	// BeforeCommit, when set, runs just before each bbolt write transaction
	// commits (on a Staged DB, a Checkpoint's); a non-nil error aborts the
	// commit, unless it was made by FailAfterCommit. It is the seam for fault
	// injection.
	BeforeCommit func() error
	// Migrations are the steps that upgrade an older file; see Open.
	Migrations []Migration
	// Staged makes Update and UpdateAt stage their writes in memory, where
	// every later transaction sees them at once; Checkpoint folds them into
	// the file (staged.go). Without it every Update is a bbolt commit.
	Staged bool
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
	arenas       sync.Pool // of *[]byte: Tx arenas, reused once their transaction has ended

	pos     atomic.Uint64 // log position of the last update (staged or committed)
	filePos atomic.Uint64 // log position the file holds
	// fileTag is the tag of the file's position record at Open (FileTag).
	fileTag    uint32
	fileTagged bool

	staging bool // Options.Staged; the fields below serve it (staged.go)
	stages  stages
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
	walked, err := verifyPages(path, opts.LockTimeout)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, lockErr(err))
	}
	bo := &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoSync:         opts.NoSync,
		NoFreelistSync: true, // no write at open: see below
		FreelistType:   bolt.FreelistMapType,
	}
	if opts.Staged {
		bo.InitialMmapSize = stagedMmapSize
	}
	b, err := bolt.Open(path, 0o600, bo)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, lockErr(err))
	}
	// From here on commits write the freelist (on a Staged DB a commit is a
	// Checkpoint: rare), so that the next bbolt.Open reads it instead of
	// rebuilding it by walking every page, a second walk after verifyPages'
	// (at 1M users, a fifth of Open's CPU). Opening with the option off
	// would make bbolt commit a freelist at once, writing to a file Open may
	// yet refuse or must back up first; a file without one is walked at this
	// Open and gets one at its first commit.
	b.NoFreelistSync = false
	db := &DB{bolt: b, beforeCommit: opts.BeforeCommit, staging: opts.Staged}
	db.stages.active = &layerData{}
	if err := db.init(append(slices.Clone(opts.Migrations), storeMigrations...), walked); err != nil {
		b.Close()
		return nil, err
	}
	if err := db.readPosition(); err != nil {
		b.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if db.staging {
		if err := db.readTop(); err != nil {
			b.Close()
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
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

// init creates the keyspaces of a new store, or migrates an older one, then
// checks the store: keyspaces, digests (against walked, from the page walk;
// not after a migration, which rewrote them) and the records of meta and
// definitions.
func (db *DB) init(migrations []Migration, walked map[string]digest) error {
	version, fresh, err := db.inspect()
	if err != nil {
		return err
	}
	migrated := false
	switch {
	case fresh:
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
		migrated = true
	}
	if fresh {
		return db.bolt.Update(func(tx *bolt.Tx) error {
			for _, ks := range allKeyspaces {
				if _, err := tx.CreateBucket([]byte(ks)); err != nil {
					return fmt.Errorf("store: create keyspace %s: %w", ks, err)
				}
			}
			if err := putSchema(tx, SchemaVersion); err != nil {
				return err
			}
			ds := scanDigests(tx, true)
			return writeDigests(tx, &ds)
		})
	}
	// An existing store is only read: an Open that refuses it later (its
	// log, its kind) leaves its bytes as they were.
	return db.bolt.View(func(tx *bolt.Tx) error {
		// A keyspace or record that is not there is damage (a flipped byte
		// in a keyspace's name on the root page), not a default.
		for _, ks := range allKeyspaces {
			if tx.Bucket([]byte(ks)) == nil {
				return fmt.Errorf("%w: keyspace %s is missing", ErrCorrupt, ks)
			}
		}
		if !migrated {
			if err := checkDigests(tx, walked); err != nil {
				return err
			}
		}
		// The small keyspaces every Open reads in full are checked whole here.
		t := &Tx{tx: tx}
		for _, ks := range []Keyspace{Meta, Definitions} {
			t.verify(ks, func(err error) bool { t.fail(err); return false })
		}
		return t.err
	})
}

// inspect reads the schema version of an existing file; fresh is true for
// a file with no keyspace at all (just created by bbolt). A bbolt file
// without a schema record is ErrForeign, unless it holds every other
// keyspace of gamify's (then meta or its record was damaged: ErrCorrupt);
// one with the record and a keyspace gamify does not use (one whose name
// was damaged) is ErrCorrupt.
func (db *DB) inspect() (version uint32, fresh bool, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		n, ours := 0, 0
		var unknown []byte
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			n++
			if slices.Contains(allKeyspaces[:], Keyspace(name)) {
				ours++
			} else if unknown == nil {
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
		case v == nil && meta == nil && ours == len(allKeyspaces)-1:
			// Every keyspace of gamify's but meta: its name was damaged.
			return fmt.Errorf("%w: keyspace %s is missing", ErrCorrupt, Meta)
		case v == nil && ours == len(allKeyspaces):
			return fmt.Errorf("%w: no schema version record", ErrCorrupt)
		case v == nil && unknown != nil:
			return fmt.Errorf("%w: it has no gamify schema record and a keyspace %q gamify does not use", ErrForeign, unknown)
		case v == nil:
			return fmt.Errorf("%w: it has no gamify schema record", ErrForeign)
		case unknown != nil:
			// gamify's own file: a keyspace of another name is a damaged one.
			return fmt.Errorf("%w: keyspace %q is not one gamify uses", ErrCorrupt, unknown)
		}
		version, err = schemaVersion(v)
		return err
	})
	return version, fresh, err
}

// schemaVersion reads the schema version record v: 4 bytes bare up to
// schema 3, sealed from schema 4 on.
func schemaVersion(v []byte) (uint32, error) {
	switch len(v) {
	case 0:
		return 0, fmt.Errorf("%w: no schema version record", ErrCorrupt)
	case 4:
		if got := binary.BigEndian.Uint32(v); got < 4 {
			return got, nil
		}
	case 4 + sumSize:
		p, err := unseal(Meta, schemaKey, v)
		if err != nil {
			return 0, err
		}
		if got := binary.BigEndian.Uint32(p); got >= 4 {
			return got, nil
		}
	}
	return 0, fmt.Errorf("%w: schema version record %x", ErrCorrupt, v)
}

// Close closes the file. It waits for open transactions to finish. On a
// Staged DB, what no Checkpoint has folded is dropped: the log that staged
// it replays it at the next Open.
func (db *DB) Close() error { return db.bolt.Close() }

// Path returns the file path.
func (db *DB) Path() string { return db.bolt.Path() }

// Update runs fn in a write transaction and commits it if fn returns nil
// and read no damaged record (see Tx). On a Staged DB it is UpdateAt at the
// current Position.
func (db *DB) Update(fn func(*Tx) error) error {
	if db.staging {
		return db.stagedUpdate(0, false, fn)
	}
	return db.update(fn, nil)
}

// update is Update of a DB without Staged; pos, if not nil, is the position
// UpdateAt records with fn's writes.
func (db *DB) update(fn func(*Tx) error, pos *uint64) error {
	t, err := db.bolt.Begin(true)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: t}
	if a, ok := db.arenas.Get().(*[]byte); ok {
		tx.arena = (*a)[:0]
	}
	// Once the transaction has ended, bbolt holds no reference to the sealed
	// values: the arena can serve the next one.
	defer func() { db.arenas.Put(&tx.arena) }()
	err = fn(tx)
	if err == nil && tx.err == nil && pos != nil {
		err = tx.recordPosition(*pos)
	}
	if err != nil || tx.err != nil {
		_ = t.Rollback()
		return cmp.Or(tx.err, err)
	}
	landed, err := db.commit(t, tx)
	if landed && pos != nil {
		db.pos.Store(*pos)
		db.filePos.Store(*pos)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// commit commits the write transaction t of tx, writing its digests and
// running Options.BeforeCommit first (its errors are the caller's to
// prefix). landed reports whether the commit
// reached the file (as far as this process can tell: a failed fsync after
// the meta page was written is visible to every later transaction).
func (db *DB) commit(t *bolt.Tx, tx *Tx) (landed bool, err error) {
	if tx.dirty {
		if err := tx.flushDigests(); err != nil {
			_ = t.Rollback()
			return false, err
		}
	}
	var late *lateFault
	if db.beforeCommit != nil {
		if err := db.beforeCommit(); err != nil && !errors.As(err, &late) {
			_ = t.Rollback()
			return false, fmt.Errorf("commit: %w", err)
		}
	}
	id := t.ID()
	if err := t.Commit(); err != nil {
		if r, rerr := db.bolt.Begin(false); rerr == nil {
			landed = r.ID() >= id
			_ = r.Rollback()
		}
		return landed, fmt.Errorf("commit: %w", err)
	}
	if late != nil {
		return true, fmt.Errorf("commit (outcome unknown): %w", late.err)
	}
	return true, nil
}

// View runs fn in a read-only snapshot transaction. If fn read a damaged
// record, View returns that error whatever fn returned. On a Staged DB the
// snapshot holds every update staged before it. fn must not start another
// transaction or a Checkpoint of the same DB (as with bbolt, that can
// deadlock with a commit that grows the file's memory map).
func (db *DB) View(fn func(*Tx) error) error {
	if db.staging {
		tx, err := db.snapshot(false)
		if err != nil {
			return err
		}
		defer tx.tx.Rollback()
		err = fn(tx)
		return cmp.Or(tx.err, err)
	}
	return db.bolt.View(func(t *bolt.Tx) error {
		tx := &Tx{tx: t}
		err := fn(tx)
		return cmp.Or(tx.err, err)
	})
}

// Tx is a transaction over the keyspaces.
//
// It seals every value it puts and checks every value it reads (checksum.go):
// Get returns nil for a damaged record and Scan stops at one with its error;
// either way the first such error is kept and becomes the result of the
// Update or View, so no caller can act on a damaged record unawares. An
// Update that read one does not commit.
//
// Values returned by Get and passed to Scan callbacks belong to the store
// and must not be modified. On a Staged DB a Tx reads through, newest
// first: its own writes, the staged ones, those a Checkpoint is folding,
// then the file; every read gives what the file would hold had every
// staged update been committed.
type Tx struct {
	tx     *bolt.Tx  // on a Staged DB, a read transaction under the layers
	ov     *overlay  // the staged layers (nil without Staged)
	err    error     // the first damaged record read
	arena  []byte    // backing for sealed values, which bbolt holds until commit
	w      *txWrites // nil until the transaction writes
	dirty  bool      // the transaction changed records: its delta goes to the digests record
	tag    uint32    // for the position record (TagPosition)
	tagged bool
}

// txWrites is what a transaction keeps for its writes, apart so that a
// View does not carry it (most transactions only read).
type txWrites struct {
	delta digests
	cur   [numKeyspaces]*fileCursor // for old values; a Cursor reuses its stack, bbolt's Get does not
}

// writes returns t's txWrites, made by the first write.
func (t *Tx) writes() *txWrites {
	if t.w == nil {
		t.w = new(txWrites)
	}
	return t.w
}

// delta returns the change the transaction made to the digests so far.
func (t *Tx) delta() digests {
	if t.w == nil {
		return digests{}
	}
	return t.w.delta
}

// old returns the stored (sealed) value of key, or nil.
func (t *Tx) old(ks Keyspace, key []byte) []byte {
	i := ksIndex[ks]
	w := t.writes()
	if w.cur[i] == nil {
		w.cur[i] = t.fileCursor(ks)
	}
	if k, v := w.cur[i].Seek(key); bytes.Equal(k, key) {
		return v
	}
	return nil
}

// Err returns the error of the first damaged record the transaction read, or
// nil.
func (t *Tx) Err() error { return t.err }

func (t *Tx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// alloc returns an empty slice with capacity n, carved from the arena.
func (t *Tx) alloc(n int) []byte {
	const chunk = 64 << 10
	if n > chunk/8 {
		return make([]byte, 0, n)
	}
	if cap(t.arena)-len(t.arena) < n {
		// The full chunk stays alive as long as bbolt holds its values.
		t.arena = make([]byte, 0, max(n, min(chunk, 2*cap(t.arena))))
	}
	l := len(t.arena)
	t.arena = t.arena[:l+n]
	return t.arena[l:l:(l + n)]
}

func (t *Tx) bucket(ks Keyspace) *bolt.Bucket {
	b := t.tx.Bucket([]byte(ks))
	if b == nil {
		panic("store: unknown keyspace " + string(ks)) // programmer error: keyspaces are constants
	}
	return b
}

// Get returns the value of key, or nil if absent or damaged (see Tx).
func (t *Tx) Get(ks Keyspace, key []byte) []byte {
	if t.ov != nil && t.ov.layers {
		if t.ov.belowFloor(index(ks), key) {
			return nil // trimmed
		}
		if v, ok := t.ov.get(index(ks), key); ok {
			return payload(v)
		}
		if ks == Meta && string(key) == string(digestKey) {
			return payload(t.digestRecord())
		}
	}
	var v []byte
	if packed(ks) {
		v = t.old(ks, key)
	} else {
		v = t.bucket(ks).Get(key)
	}
	if v == nil {
		return nil
	}
	p, err := unseal(ks, key, v)
	if err != nil {
		t.fail(err)
		return nil
	}
	return p
}

// Put sets key to val. A Staged DB copies both, so the caller may reuse
// them at once; otherwise they must stay unchanged until the transaction
// ends, as bbolt requires.
func (t *Tx) Put(ks Keyspace, key, val []byte) error {
	if ks == Meta && storeOwned(key) {
		return fmt.Errorf("store: the meta key %s is the store's", key)
	}
	if t.ov != nil {
		return t.stage(ks, key, val, false)
	}
	return t.putSealed(ks, key, seal(t.alloc(len(val)+sumSize), ks, key, val))
}

// putSealed writes the sealed value of key into bbolt, keeping the digests.
func (t *Tx) putSealed(ks Keyspace, key, sealed []byte) error {
	if packed(ks) {
		return t.putEntry(ks, key, sealed)
	}
	d := &t.writes().delta[ksIndex[ks]]
	if old := t.old(ks, key); old != nil { // before the Put replaces it
		d.remove(old)
	}
	d.add(sealed)
	t.dirty = true
	if err := t.bucket(ks).Put(key, sealed); err != nil {
		return fmt.Errorf("store: put %s: %w", ks, err)
	}
	return nil
}

// Delete removes key; absent keys are not an error.
func (t *Tx) Delete(ks Keyspace, key []byte) error {
	if ks == Meta && storeOwned(key) {
		return fmt.Errorf("store: the meta key %s is the store's", key)
	}
	if t.ov != nil {
		return t.stage(ks, key, nil, true)
	}
	return t.del(ks, key)
}

// del deletes key from bbolt, keeping the digests.
func (t *Tx) del(ks Keyspace, key []byte) error {
	if packed(ks) {
		if len(key) != 8 {
			return nil // no such key
		}
		return t.putEntry(ks, key, nil)
	}
	old := t.old(ks, key)
	if old == nil {
		return nil
	}
	t.writes().delta[ksIndex[ks]].remove(old)
	t.dirty = true
	if err := t.bucket(ks).Delete(key); err != nil {
		return fmt.Errorf("store: delete %s: %w", ks, err)
	}
	return nil
}

// Scan calls fn for every key with the given prefix, in key order, until fn
// returns an error (returned as is) or ErrStop (which ends the scan quietly).
// A damaged record ends it with its error (see Tx).
func (t *Tx) Scan(ks Keyspace, prefix []byte, fn func(k, v []byte) error) error {
	if t.ov != nil && t.ov.layers {
		return t.scanMerged(ks, prefix, false, prefix, fn)
	}
	c := t.fileCursor(ks)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		p, err := unseal(ks, k, v)
		if err != nil {
			t.fail(err)
			return err
		}
		if err := fn(k, p); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return c.err
}

// ScanKeys calls fn for every key of ks, in key order, until fn returns an
// error (returned as is) or ErrStop. It reads no value, so it checks none:
// a damaged one is found by the read of it, or by Verify.
func (t *Tx) ScanKeys(ks Keyspace, fn func(k []byte) error) error {
	var err error
	if t.ov != nil && t.ov.layers {
		m := t.merged(ks, nil, false, true)
		for k, v, _, ok := m.next(); ok; k, v, _, ok = m.next() {
			if v == nil {
				continue // deleted
			}
			if err = fn(k); err != nil {
				break
			}
		}
		if err == nil {
			err = m.bc.err
		}
	} else {
		c := t.fileCursor(ks)
		for k, _ := c.Seek(nil); k != nil; k, _ = c.Next() {
			if err = fn(k); err != nil {
				break
			}
		}
		if err == nil {
			err = c.err
		}
	}
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// ScanFrom calls fn for every key at or after from, in key order, until fn
// returns an error (returned as is) or ErrStop (which ends the scan quietly).
func (t *Tx) ScanFrom(ks Keyspace, from []byte, fn func(k, v []byte) error) error {
	if t.ov != nil && t.ov.layers {
		return t.scanMerged(ks, from, false, nil, fn)
	}
	c := t.fileCursor(ks)
	for k, v := c.Seek(from); k != nil; k, v = c.Next() {
		p, err := unseal(ks, k, v)
		if err != nil {
			t.fail(err)
			return err
		}
		if err := fn(k, p); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return c.err
}

// ScanReverse is Scan from the last key with the prefix backwards.
func (t *Tx) ScanReverse(ks Keyspace, prefix []byte, fn func(k, v []byte) error) error {
	end := prefixEnd(prefix)
	if t.ov != nil && t.ov.layers {
		return t.scanMerged(ks, end, true, prefix, fn)
	}
	c := t.fileCursor(ks)
	var k, v []byte
	if end == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		p, err := unseal(ks, k, v)
		if err != nil {
			t.fail(err)
			return err
		}
		if err := fn(k, p); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return c.err
}

// Count returns the number of keys in ks. Without Staged, in an Update it
// counts them as the transaction began (bbolt's Stats reads committed
// pages); on a Staged DB it counts the update's own writes too.
func (t *Tx) Count(ks Keyspace) int {
	if packed(ks) {
		// The file's runs are not its keys; the digests record counts them,
		// and the layers' changes to it count what they stage and trim.
		ds, _, err := readDigests(t.tx)
		if err != nil {
			t.fail(err)
			return 0
		}
		i := index(ks)
		c := ds[i].count
		if o := t.ov; o != nil && o.layers {
			c += o.top.delta[i].count + t.delta()[i].count
			for _, l := range o.frozen {
				c += l.delta[i].count
			}
		}
		return int(c)
	}
	n := t.bucket(ks).Stats().KeyN
	if t.ov != nil && t.ov.layers {
		n += t.countStaged(ks)
	}
	return n
}

// Trim deletes the entries of the packed keyspace ks from its first one on,
// in key order, for as long as drop returns true (it sees each key and
// value as Scan does): the oldest entries of an append-only keyspace, such
// as an outbox past its retention. It returns how many it deleted.
//
// On a Staged DB it stages nothing per entry: the layer records the
// sequence the keyspace now starts at, no read sees an entry below it, and
// the Checkpoint deletes them from the file, whole runs at a time. Writing
// a key below that sequence again is an error there, so Trim is for
// keyspaces whose keys only grow.
func (t *Tx) Trim(ks Keyspace, drop func(k, v []byte) bool) (int, error) {
	if !packed(ks) {
		return 0, fmt.Errorf("store: trim %s: not a packed keyspace", ks)
	}
	if t.ov != nil {
		return t.trimStaged(ks, drop)
	}
	var keys [][]byte
	c := t.fileCursor(ks)
	for k, v := c.First(); k != nil; k, v = c.Next() {
		p, err := unseal(ks, k, v)
		if err != nil {
			t.fail(err)
			return 0, err
		}
		if !drop(k, p) {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	if c.err != nil {
		return 0, c.err
	}
	for _, k := range keys {
		if err := t.del(ks, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

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

// Size returns the file size in bytes. On a Staged DB that is the file
// alone: what is staged is not in it until a Checkpoint (see Staged).
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
// its own, openable with Open. It returns the bytes written. On a Staged
// DB it runs a Checkpoint first, so the copy holds every update staged
// before the call (and fails if the Checkpoint does).
func (db *DB) Backup(w io.Writer) (int64, error) {
	if db.staging {
		if _, err := db.Checkpoint(); err != nil {
			return 0, fmt.Errorf("store: backup: %w", err)
		}
	}
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

// Verify checks every record of every keyspace, and the digests record
// against them, and calls fn with the error of each damaged one until fn
// returns false. It does not make the transaction fail: it is for audits
// that report what they find. Use it in View: in an Update, changes made
// before it show as a digests mismatch (the record is written at commit).
// On a Staged DB it checks the file alone, as of the transaction's start:
// staged writes are in memory, sealed when they were staged.
func (t *Tx) Verify(fn func(err error) bool) {
	for _, ks := range allKeyspaces {
		if !t.verify(ks, fn) {
			return
		}
	}
	ds, rec, err := readDigests(t.tx)
	if err != nil {
		fn(err)
		return
	}
	walked := map[string]digest{}
	for i, d := range scanDigests(t.tx, true) {
		if allKeyspaces[i] == Meta {
			d.add(rec)
		}
		walked[string(allKeyspaces[i])] = d
	}
	if err := compareDigests(ds, rec, walked); err != nil {
		fn(err)
	}
}

func (t *Tx) verify(ks Keyspace, fn func(err error) bool) bool {
	c := t.bucket(ks).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if !packed(ks) {
			if _, err := unseal(ks, k, v); err != nil && !fn(err) {
				return false
			}
			continue
		}
		r, err := decodeRun(ks, k, v)
		if err != nil && !fn(err) {
			return false
		}
		for i := range r.vals {
			if _, err := unseal(ks, r.key(i), r.vals[i]); err != nil && !fn(err) {
				return false
			}
		}
	}
	return true
}

// Dump calls fn for every key and value of every keyspace, values as stored
// with their checksums (for tests that compare stores byte for byte). On a
// Staged DB it dumps what the file would hold had every staged update been
// committed, digests record included.
func (t *Tx) Dump(fn func(ks Keyspace, k, v []byte)) {
	if t.ov != nil && t.ov.layers {
		t.dumpMerged(fn)
		return
	}
	for _, ks := range allKeyspaces {
		c := t.fileCursor(ks)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			fn(ks, k, v)
		}
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
	if err == nil {
		// One commit with the freelist, so that the next Open reads it
		// instead of walking every page (Open itself writes nothing).
		dst.NoFreelistSync = false
		err = dst.Update(func(*bolt.Tx) error { return nil })
	}
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

// DeletePrefix removes every key of ks that starts with prefix (the
// store's own records of meta excepted).
func (t *Tx) DeletePrefix(ks Keyspace, prefix []byte) error {
	if t.ov != nil {
		return t.deletePrefixStaged(ks, prefix)
	}
	if packed(ks) {
		var keys [][]byte
		c := t.fileCursor(ks)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, k)
		}
		for _, k := range keys {
			if err := t.del(ks, k); err != nil {
				return err
			}
		}
		return c.err
	}
	c := t.bucket(ks).Cursor()
	seek := prefix
	for k, v := c.Seek(seek); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(seek) {
		if ks == Meta && storeOwned(k) {
			seek = append(bytes.Clone(k), 0) // the key after it
			continue
		}
		t.writes().delta[ksIndex[ks]].remove(v)
		t.dirty = true
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
