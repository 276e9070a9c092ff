package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// A Staged DB keeps the writes of its updates in memory, in layers over the
// file, and folds them into the file at a Checkpoint: the command log that
// the caller appends each batch to is the source of truth, the file its
// checkpoint, so an update costs no bbolt commit and no fsync.
//
// A layer holds, per keyspace, an ordered tree (google/btree) of entries: a
// key and its sealed value, or a tombstone for a delete. Beside it is the
// tail, a sorted slice of the appends: puts above every key of the
// keyspace (ledger, awards and outbox keys are sequences), which replace
// nothing and so need no tree insert. A later write of an appended key in
// the same layer goes to the tree, which shadows the tail. There is one
// active layer, which updates write to, and the frozen layers that a
// Checkpoint is folding (more than one only after a failed Checkpoint,
// whose layers stay until the next one folds them with the newer ones).
// Readers see the active layer over the frozen ones (newest first) over
// the file.
//
// Trees are never changed once a transaction can see them: an update clones
// (copy-on-write, O(1)) the active trees it writes to, in its own copy of
// the active layer, and installs that copy when it ends, so a reader's
// snapshot is one pointer to the layer (and one per frozen layer), taken
// with the bbolt read transaction under mu. An update appends to its copy
// of the active tails' slice headers: past the length any snapshot holds,
// so no reader sees it before the install, and an update that fails leaves
// the installed headers as they were. A long View then holds the old trees
// and the old file pages without blocking anyone. (Snapshots copied the
// layer first: a View took 2 KB, 840 bytes now, BenchmarkViewGet.)
//
// A Checkpoint freezes the active layer (a new, empty one takes its place),
// writes the frozen layers into one bbolt transaction and then drops them.
// Between its commit and the drop a new snapshot would see both; to see
// each write once (the digests record adds a layer's changes to the file's)
// a snapshot leaves out a frozen layer whose fold is in its bbolt snapshot:
// fold holds the id of the bbolt transaction folding the layer, set before
// it commits, and a bbolt read transaction of that id or later holds it.
//
// Memory: a staged record costs its key, its value plus the 4-byte
// checksum, a 48-byte entry and its slot in the tree or the tail, about 70
// bytes more than key and value (measured by BenchmarkCheckpoint; about 64
// for an append, BenchmarkCheckpointAppends); a key written again in the
// same layer replaces its entry (in the tree: an appended one stays in the
// tail, shadowed, counted once). Staged reports records and bytes.

// entry is a staged write: the sealed value of key, or nil for a delete.
// Entries are never changed once in a tree or a tail.
type entry struct{ key, val []byte }

func entryLess(a, b *entry) bool { return compareKeys(a.key, b.key) < 0 }

func entryCmp(e *entry, key []byte) int { return compareKeys(e.key, key) }

// compareKeys is bytes.Compare with a fast path for two 8-byte keys (user
// ids and sequence numbers, big-endian: most keys staged), which compare as
// the integers they encode.
func compareKeys(a, b []byte) int {
	if len(a) == 8 && len(b) == 8 {
		return cmp.Compare(binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(b))
	}
	return bytes.Compare(a, b)
}

// tailGet looks key up in a tail.
func tailGet(tail []*entry, key []byte) (*entry, bool) {
	n := len(tail)
	if n == 0 || compareKeys(key, tail[n-1].key) > 0 || compareKeys(key, tail[0].key) < 0 {
		return nil, false
	}
	if j, ok := slices.BinarySearchFunc(tail, key, entryCmp); ok {
		return tail[j], true
	}
	return nil, false
}

type tree = btree.BTreeG[*entry]

// treeDegree keeps nodes small (at most 31 entries): an update copies
// each node it writes to that a snapshot may share.
const treeDegree = 16

// stagedMmapSize is the memory map a Staged DB opens with, so that a
// Checkpoint rarely grows it: growing waits for every read transaction to
// end (a long View), and updates read through the file. It is address
// space, not memory; bbolt then extends the file in 16 MB steps from the
// start (a sparse tail, but Size reports it).
var stagedMmapSize = func() int {
	if runtime.GOOS == "windows" || math.MaxInt == math.MaxInt32 {
		return 0 // bbolt grows the file itself to the map's size on Windows
	}
	return 1 << 30
}()

// layerData is the content of a layer.
type layerData struct {
	trees   [numKeyspaces]*tree    // nil: nothing staged in the keyspace
	tails   [numKeyspaces][]*entry // the appends, in key order, shadowed by the tree
	delta   digests                // the change to the digests record of the layers below
	records int                    // keys, tombstones included (an appended key written again counts once)
	bytes   int64                  // of their keys and sealed values
	pos     uint64                 // position of the last update staged into it
	// floor is, per packed keyspace, the sequence Trim left it starting at:
	// no read sees an entry below it, in this layer, the older ones or the
	// file, and the Checkpoint that folds the layer deletes them from the
	// file. It only grows; a new active layer starts with the last one's.
	// trimmed says this layer raised one.
	floor   [numKeyspaces]uint64
	trimmed bool
}

// get looks key (pivot's) up in keyspace i of l.
func (l *layerData) get(i int, pivot *entry) (*entry, bool) {
	if t := l.trees[i]; t != nil {
		if e, ok := t.Get(pivot); ok {
			return e, true
		}
	}
	return tailGet(l.tails[i], pivot.key)
}

// source is one ordered source of entries of a layer: a tree or a tail.
type source struct {
	tree *tree
	tail []*entry
}

// sources appends the non-empty sources of keyspace i of l, newest first:
// the tree shadows the tail.
func (l *layerData) sources(dst []source, i int) []source {
	if t := l.trees[i]; t != nil && t.Len() > 0 {
		dst = append(dst, source{tree: t})
	}
	if len(l.tails[i]) > 0 {
		dst = append(dst, source{tail: l.tails[i]})
	}
	return dst
}

// layer is a frozen layer.
type layer struct {
	layerData
	fold atomic.Uint64 // id of the bbolt transaction that holds it; 0 while none
}

// stages is the staged state of a DB.
type stages struct {
	// writeMu makes updates one at a time, and is taken by Checkpoint to
	// freeze the active layer between two of them. Taken before mu.
	writeMu sync.Mutex
	arena   []byte  // carving space for keys and sealed values (writeMu)
	slab    []entry // for entries (writeMu)
	// top is, per keyspace, a key at or above every key of the file and
	// of the layers (nil: there is none), so that a put above it (an
	// append: ledger, awards and outbox keys are sequences) knows it
	// replaces nothing without looking below. It only grows: a delete or
	// a failed update leaves it above, which is safe. (writeMu)
	top [numKeyspaces][]byte

	ckptMu sync.Mutex // one Checkpoint at a time

	// mu guards active and frozen; a snapshot takes them together with
	// its bbolt read transaction under it. active is never changed once
	// installed: an update installs a new one (Install), so that a read
	// snapshot takes the pointer, not a copy.
	mu     sync.Mutex
	active *layerData
	frozen []*layer // oldest first

	records atomic.Int64 // staged in active and frozen
	bytes   atomic.Int64
}

// positionKey is the key of the position record in Meta: the log position
// the file holds (8 bytes big-endian, sealed), then the update's tag if it
// set one (4 more bytes, Tx.TagPosition). A file without it holds none of
// any log (position 0), so it needed no new schema version.
var positionKey = []byte("position")

// storeOwned reports whether key of Meta is a record the store writes.
func storeOwned(key []byte) bool {
	return string(key) == string(digestKey) || string(key) == string(positionKey)
}

// readPosition reads the position record at Open.
func (db *DB) readPosition() error {
	return db.bolt.View(func(t *bolt.Tx) error {
		pos, tag, tagged, err := filePosition(t)
		db.pos.Store(pos)
		db.filePos.Store(pos)
		db.fileTag, db.fileTagged = tag, tagged
		return err
	})
}

// readTop sets stages.top from the file's last keys at Open.
func (db *DB) readTop() error {
	return db.bolt.View(func(t *bolt.Tx) error {
		for i, ks := range allKeyspaces {
			k, v := t.Bucket([]byte(ks)).Cursor().Last()
			if k != nil && packed(ks) {
				// The last run's last entry, so that appends right after it
				// look nothing up; if the run does not decode, the bound of
				// its range (writes into it then meet the damage).
				if r, err := decodeRun(ks, k, v); err == nil {
					k = r.key(len(r.vals) - 1)
				} else if len(k) == 8 {
					k = binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(k)|runMask)
				}
			}
			db.stages.top[i] = bytes.Clone(k)
		}
		return nil
	})
}

func filePosition(t *bolt.Tx) (pos uint64, tag uint32, tagged bool, err error) {
	v := t.Bucket([]byte(Meta)).Get(positionKey)
	if v == nil {
		return 0, 0, false, nil
	}
	p, err := unseal(Meta, positionKey, v)
	if err == nil && len(p) != 8 && len(p) != 12 {
		err = corruptRecord(Meta, positionKey, fmt.Sprintf("%d bytes", len(p)))
	}
	if err != nil {
		return 0, 0, false, err
	}
	if len(p) == 12 {
		tag, tagged = binary.BigEndian.Uint32(p[8:]), true
	}
	return binary.BigEndian.Uint64(p), tag, tagged, nil
}

// TagPosition records tag in the position record that the update (UpdateAt
// or PrepareAt) writes, beside its position: a caller's mark of what the
// position is (the engine: the checksum of its log record there). FileTag
// reads it back after Open.
func (t *Tx) TagPosition(tag uint32) { t.tag, t.tagged = tag, true }

// FileTag returns the tag of the position record the file held when it
// was opened, if its last update set one.
func (db *DB) FileTag() (tag uint32, ok bool) { return db.fileTag, db.fileTagged }

// recordPosition writes the position record of an update at pos, if it
// changes it (an absent record reads as 0) or the update tagged it.
func (t *Tx) recordPosition(pos uint64) error {
	var cur uint64
	if v := t.Get(Meta, positionKey); len(v) >= 8 {
		cur = binary.BigEndian.Uint64(v)
	}
	if cur == pos && !t.tagged {
		return nil
	}
	p := binary.BigEndian.AppendUint64(nil, pos)
	if t.tagged {
		p = binary.BigEndian.AppendUint32(p, t.tag)
	}
	if t.ov != nil {
		return t.stage(Meta, positionKey, p, false)
	}
	return t.putSealed(Meta, positionKey, seal(t.alloc(len(p)+sumSize), Meta, positionKey, p))
}

// UpdateAt is Update for a Staged DB: fn's writes become visible to every
// later View and Update at once (nothing reaches the file), and pos is the
// log position this update brings the staged state to. Positions are the
// caller's and must not go back: a pos below Position is an error. On a DB
// without Staged it is Update, recording pos in the same bbolt transaction.
// fn's error (or a damaged read) discards all of fn's writes and the
// position. fn must not start another transaction or a Checkpoint of the
// same DB.
func (db *DB) UpdateAt(pos uint64, fn func(*Tx) error) error {
	if db.staging {
		return db.stagedUpdate(pos, true, fn)
	}
	return db.update(func(tx *Tx) error {
		cur, _, _, err := filePosition(tx.tx)
		if err != nil {
			tx.fail(err)
			return err
		}
		if pos < cur {
			return fmt.Errorf("store: update at position %d, before the current %d", pos, cur)
		}
		return fn(tx)
	}, &pos)
}

// Position returns the log position of the last update: staged (on a
// Staged DB) or committed. After Open it is CheckpointPosition.
func (db *DB) Position() uint64 { return db.pos.Load() }

// CheckpointPosition returns the log position the file holds: read at Open
// (0 for a new file or one no UpdateAt wrote), then that of each
// successful Checkpoint (or, without Staged, of each UpdateAt).
func (db *DB) CheckpointPosition() uint64 { return db.filePos.Load() }

// Staged returns what a Checkpoint would write now: the staged records
// (tombstones of deletes and the entries Trim removed included; a key
// staged again after a failed Checkpoint counts twice) and the bytes of
// their keys and sealed values.
// It is 0, 0 without Staged.
func (db *DB) Staged() (records int, bytes int64) {
	return int(db.stages.records.Load()), db.stages.bytes.Load()
}

// stagedUpdate runs fn on a Staged DB and installs its writes; at says
// whether pos is the caller's (UpdateAt) or the current one (Update).
func (db *DB) stagedUpdate(pos uint64, at bool, fn func(*Tx) error) error {
	p, err := db.prepare(pos, at, fn)
	if err != nil {
		return err
	}
	p.Install()
	return nil
}

// Prepared is a staged update that is built but not visible yet (PrepareAt).
type Prepared struct {
	db  *DB
	tx  *Tx // nil: the update wrote nothing
	pos uint64
}

// PrepareAt is UpdateAt in two steps, so that a caller can build an update
// while it waits for what makes it final (the fsync of its log records): it
// runs fn and keeps its writes out of every transaction's sight until
// Install; Discard drops them. Until one of the two, every other update and
// Checkpoint waits. fn's error is PrepareAt's, with nothing to install. A
// Staged DB only.
func (db *DB) PrepareAt(pos uint64, fn func(*Tx) error) (*Prepared, error) {
	if !db.staging {
		return nil, errors.New("store: PrepareAt needs a Staged DB")
	}
	return db.prepare(pos, true, fn)
}

// prepare is stagedUpdate up to the install; on success it returns with
// writeMu held, released by Install or Discard.
func (db *DB) prepare(pos uint64, at bool, fn func(*Tx) error) (*Prepared, error) {
	s := &db.stages
	s.writeMu.Lock()
	cur := db.pos.Load()
	if !at {
		pos = cur
	}
	if pos < cur {
		s.writeMu.Unlock()
		return nil, fmt.Errorf("store: update at position %d, before the staged position %d", pos, cur)
	}
	tx, err := db.snapshot(true)
	if err != nil {
		s.writeMu.Unlock()
		return nil, err
	}
	tx.arena = s.arena
	err = fn(tx)
	if err == nil && tx.err == nil {
		err = tx.recordPosition(pos)
	}
	s.arena = tx.arena // what fn's writes took stays theirs even if they are dropped
	// Before mu: a snapshot waiting under mu for bbolt (a commit growing the
	// memory map waits for every read transaction) must not wait for this one.
	_ = tx.tx.Rollback()
	if err != nil || tx.err != nil {
		s.writeMu.Unlock()
		return nil, cmp.Or(tx.err, err)
	}
	p := &Prepared{db: db, pos: pos}
	if tx.dirty {
		p.tx = tx
	}
	return p, nil
}

// Install makes the prepared writes visible to every later transaction.
func (p *Prepared) Install() {
	db, s := p.db, &p.db.stages
	defer s.writeMu.Unlock()
	if p.tx == nil {
		return
	}
	o := p.tx.ov
	delta := p.tx.delta()
	o.top.delta.plus(&delta)
	o.top.pos = p.pos
	s.mu.Lock()
	s.active = o.top
	s.mu.Unlock()
	db.pos.Store(p.pos)
	db.restat()
}

// Discard drops the prepared writes: nothing of them was ever visible.
func (p *Prepared) Discard() { p.db.stages.writeMu.Unlock() }

// restat recounts what is staged.
func (db *DB) restat() {
	s := &db.stages
	s.mu.Lock()
	n, b := s.active.records, s.active.bytes
	for _, l := range s.frozen {
		n, b = n+l.records, b+l.bytes
	}
	s.mu.Unlock()
	s.records.Store(int64(n))
	s.bytes.Store(b)
}

func (ds *digests) plus(o *digests) {
	for i := range ds {
		ds[i].count += o[i].count
		ds[i].sum += o[i].sum
	}
}

// overlay is a transaction's snapshot of the staged layers.
type overlay struct {
	db     *DB
	write  bool
	top    *layerData         // the active layer; an update's is its own copy, which it writes into clones of the trees of and installs
	cloned [numKeyspaces]bool // top.trees[i] is this update's clone
	frozen []*layerData       // frozen layers the bbolt snapshot does not hold, newest first
	layers bool               // anything is staged in the snapshot (else reads go to bbolt alone)
	pivot  entry              // search key of get
	digest []byte             // the merged digests record, sealed, once read
}

// snapshot begins a transaction over the staged layers and the file.
func (db *DB) snapshot(write bool) (*Tx, error) {
	s := &db.stages
	s.mu.Lock()
	bt, err := db.bolt.Begin(false)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	st := &stagedTx{}
	o := &st.ov
	*o = overlay{db: db, write: write, top: s.active, frozen: st.frozen[:0]}
	if write {
		top := *s.active
		o.top = &top
	}
	id := uint64(bt.ID())
	for i := len(s.frozen) - 1; i >= 0; i-- {
		l := s.frozen[i]
		// fold is stored before the commit that makes id reach it, which
		// happened before this Begin: loading it after Begin sees it.
		if f := l.fold.Load(); f != 0 && id >= f {
			continue
		}
		o.frozen = append(o.frozen, &l.layerData)
	}
	s.mu.Unlock()
	o.layers = o.top.records > 0 || len(o.frozen) > 0 || o.top.trimmed
	st.Tx = Tx{tx: bt, ov: o}
	return &st.Tx, nil
}

// stagedTx is a transaction of a Staged DB with its overlay, in one
// allocation.
type stagedTx struct {
	Tx
	ov     overlay
	frozen [2]*layerData // ov.frozen's, unless a failed Checkpoint left more
}

// get looks key up in the layers: its sealed value (nil for a delete) and
// whether a layer has it.
func (o *overlay) get(i int, key []byte) ([]byte, bool) {
	o.pivot.key = key
	if e, ok := o.top.get(i, &o.pivot); ok {
		return e.val, true
	}
	return o.below(i, key)
}

// belowFloor reports whether key of keyspace i is below the snapshot's
// floor (Trim): gone, whatever a layer or the file holds.
func (o *overlay) belowFloor(i int, key []byte) bool {
	f := o.top.floor[i]
	return f > 0 && (len(key) != 8 || binary.BigEndian.Uint64(key) < f)
}

// below is get in the frozen layers alone.
func (o *overlay) below(i int, key []byte) ([]byte, bool) {
	o.pivot.key = key
	for _, l := range o.frozen {
		if e, ok := l.get(i, &o.pivot); ok {
			return e.val, true
		}
	}
	return nil, false
}

// sources returns the non-empty sources of keyspace i, newest first.
func (o *overlay) sources(i int) []source {
	ss := o.top.sources(nil, i)
	for _, l := range o.frozen {
		ss = l.sources(ss, i)
	}
	return ss
}

// payload is the payload of a sealed value the store made (nil stays nil).
func payload(v []byte) []byte {
	if v == nil {
		return nil
	}
	return v[: len(v)-sumSize : len(v)-sumSize]
}

// digestRecord returns the digests record of the snapshot, sealed: the
// file's plus the changes of the layers (not this update's own, which, as
// without Staged, reach it when the update ends). Nil if the file's is
// damaged (then t fails).
func (t *Tx) digestRecord() []byte {
	o := t.ov
	if o.digest == nil {
		ds, _, err := readDigests(t.tx)
		if err != nil {
			t.fail(err)
			return nil
		}
		ds.plus(&o.top.delta)
		for _, l := range o.frozen {
			ds.plus(&l.delta)
		}
		p := ds.encode(nil)
		o.digest = binary.BigEndian.AppendUint32(p, checksum(Meta, digestKey, p))
	}
	return o.digest
}

// stage writes key (del: deletes it) into the update's layer.
func (t *Tx) stage(ks Keyspace, key, val []byte, del bool) error {
	o := t.ov
	if !o.write {
		return fmt.Errorf("store: write to %s in a read-only transaction", ks)
	}
	// bbolt's checks, now: at a Checkpoint they would fail it for good.
	switch {
	case len(key) == 0:
		return fmt.Errorf("store: put %s: %w", ks, berrors.ErrKeyRequired)
	case len(key) > MaxKeySize:
		return fmt.Errorf("store: put %s: %w", ks, berrors.ErrKeyTooLarge)
	case len(val) > MaxValueSize:
		return fmt.Errorf("store: put %s: %w", ks, berrors.ErrValueTooLarge)
	}
	i := index(ks)
	if packedIndex[i] && len(key) != 8 {
		if del {
			return nil // no such key
		}
		return checkSeqKey(ks, key)
	}
	if o.belowFloor(i, key) {
		if del {
			return nil // trimmed
		}
		return fmt.Errorf("store: put %s: sequence %d is below %d, where Trim left the keyspace", ks, binary.BigEndian.Uint64(key), o.top.floor[i])
	}
	s := &o.db.stages
	above := compareKeys(key, s.top[i]) > 0 // in no layer, nor in the file
	var old []byte
	if del {
		if above {
			return nil
		}
		var ok bool
		if old, ok = o.get(i, key); !ok {
			old = t.old(ks, key)
		}
		if old == nil {
			return nil
		}
	}
	e := s.newEntry()
	e.key = append(t.alloc(len(key)), key...)
	if !del {
		e.val = seal(t.alloc(len(val)+sumSize), ks, key, val)
	}
	d := &t.writes().delta[i]
	t.dirty, o.layers = true, true
	if above {
		// An append replaces nothing: it joins the tail, which it keeps
		// sorted, with no tree insert and no old value.
		s.top[i] = e.key // entries are never changed
		o.top.tails[i] = append(o.top.tails[i], e)
		o.top.records++
		o.top.bytes += int64(len(e.key) + len(e.val))
		d.add(e.val)
		return nil
	}
	if !o.cloned[i] {
		if o.top.trees[i] == nil {
			o.top.trees[i] = btree.NewG(treeDegree, entryLess)
		} else {
			o.top.trees[i] = o.top.trees[i].Clone()
		}
		o.cloned[i] = true
	}
	// A put learns the value it replaces from the insert when the active
	// layer has it: one walk of the tree, not two.
	prev, replaced := o.top.trees[i].ReplaceOrInsert(e)
	if !replaced {
		// An appended key of this layer: the tree now shadows it.
		prev, replaced = tailGet(o.top.tails[i], key)
	}
	if replaced {
		o.top.bytes -= int64(len(prev.key) + len(prev.val))
	} else {
		o.top.records++
	}
	o.top.bytes += int64(len(e.key) + len(e.val))
	if !del {
		var ok bool
		switch {
		case replaced:
			old = prev.val
		default:
			if old, ok = o.below(i, key); !ok {
				old = t.old(ks, key)
			}
		}
	}
	if old != nil {
		d.remove(old)
	}
	if !del {
		d.add(e.val)
	}
	return nil
}

// index is the index of ks in allKeyspaces.
func index(ks Keyspace) int {
	i, ok := ksIndex[ks]
	if !ok {
		panic("store: unknown keyspace " + string(ks)) // as Tx.bucket: keyspaces are constants
	}
	return i
}

// newEntry returns an entry carved from a slab (writeMu).
func (s *stages) newEntry() *entry {
	if len(s.slab) == cap(s.slab) {
		s.slab = make([]entry, 0, 256)
	}
	s.slab = s.slab[:len(s.slab)+1]
	return &s.slab[len(s.slab)-1]
}

// cursorBatch is how many entries a cursor takes from a tree at a time:
// google/btree iterates by callback, a merge needs to pull.
const cursorBatch = 64

// treeCursor walks one tree in batches, or a tail in place.
type treeCursor struct {
	tree    *tree
	tail    []*entry // if tree is nil; i is the index of the head
	reverse bool
	buf     []*entry
	i       int
	more    bool // the tree may hold entries past buf
	pivot   entry
}

// fill loads the entries from key from on (backwards if reverse; from itself
// only if incl; nil from: from the first or the last).
func (c *treeCursor) fill(from []byte, incl bool) {
	if c.tree == nil {
		j, found := slices.BinarySearchFunc(c.tail, from, entryCmp)
		switch {
		case from == nil && c.reverse:
			j = len(c.tail) - 1
		case !c.reverse && found && !incl:
			j++
		case c.reverse && !(found && incl):
			j--
		}
		c.i = j
		return
	}
	c.buf, c.i = c.buf[:0], 0
	visit := func(e *entry) bool {
		if !incl && bytes.Equal(e.key, from) {
			return true
		}
		c.buf = append(c.buf, e)
		return len(c.buf) < cursorBatch
	}
	c.pivot.key = from
	switch {
	case from == nil && !c.reverse:
		c.tree.Ascend(visit)
	case from == nil:
		c.tree.Descend(visit)
	case !c.reverse:
		c.tree.AscendGreaterOrEqual(&c.pivot, visit)
	default:
		c.tree.DescendLessOrEqual(&c.pivot, visit)
	}
	c.more = len(c.buf) == cursorBatch
}

func (c *treeCursor) head() *entry {
	if c.tree == nil {
		if c.i < 0 || c.i >= len(c.tail) {
			return nil
		}
		return c.tail[c.i]
	}
	if c.i == len(c.buf) {
		if !c.more {
			return nil
		}
		c.fill(c.buf[len(c.buf)-1].key, false)
		if len(c.buf) == 0 {
			return nil
		}
	}
	return c.buf[c.i]
}

// advance moves past the head.
func (c *treeCursor) advance() {
	if c.tree == nil && c.reverse {
		c.i--
	} else {
		c.i++
	}
}

// merger walks sources (newest first) and a bbolt cursor as one ordered map,
// the newest value of each key winning.
type merger struct {
	curs    []treeCursor
	bc      *fileCursor // nil: the trees alone
	bk, bv  []byte
	reverse bool
	lo      []byte // reverse: the walk ends before reaching a key below it
}

// newMerger starts at from: forward, the keys at or after it; reverse, those
// before it (nil: every key, from the first or the last).
func newMerger(srcs []source, bc *fileCursor, from []byte, reverse bool) *merger {
	m := &merger{curs: make([]treeCursor, len(srcs)), bc: bc, reverse: reverse}
	for i, s := range srcs {
		m.curs[i] = treeCursor{tree: s.tree, tail: s.tail, reverse: reverse}
		if s.tree != nil {
			m.curs[i].buf = make([]*entry, 0, cursorBatch)
		}
		m.curs[i].fill(from, !reverse)
	}
	switch {
	case bc == nil:
	case !reverse && from == nil:
		m.bk, m.bv = bc.First()
	case !reverse:
		m.bk, m.bv = bc.Seek(from)
	case from == nil:
		m.bk, m.bv = bc.Last()
	default:
		if m.bk, m.bv = bc.Seek(from); m.bk == nil {
			m.bk, m.bv = bc.Last()
		} else {
			m.bk, m.bv = bc.Prev()
		}
	}
	return m
}

func (m *merger) before(a, b []byte) bool {
	if m.reverse {
		return compareKeys(a, b) > 0
	}
	return compareKeys(a, b) < 0
}

// next returns the next key with its value (nil: deleted in a layer), and
// whether the value is bbolt's; ok is false at the end.
func (m *merger) next() (k, v []byte, fromBolt, ok bool) {
	for i := range m.curs {
		if e := m.curs[i].head(); e != nil && (!ok || m.before(e.key, k)) {
			k, ok = e.key, true
		}
	}
	if m.bk != nil && (!ok || m.before(m.bk, k)) {
		k, ok = m.bk, true
	}
	if !ok || m.lo != nil && compareKeys(k, m.lo) < 0 {
		return nil, nil, false, false
	}
	won := false
	for i := range m.curs {
		c := &m.curs[i]
		if e := c.head(); e != nil && bytes.Equal(e.key, k) {
			if !won {
				v, won = e.val, true
			}
			c.advance()
		}
	}
	if m.bk != nil && bytes.Equal(m.bk, k) {
		if !won {
			v, fromBolt = m.bv, true
		}
		if m.reverse {
			m.bk, m.bv = m.bc.Prev()
		} else {
			m.bk, m.bv = m.bc.Next()
		}
	}
	return k, v, fromBolt, true
}

// merged returns a merger over the snapshot's keyspace ks, with the file's
// records if withFile.
func (t *Tx) merged(ks Keyspace, from []byte, reverse, withFile bool) *merger {
	var bc *fileCursor
	if withFile {
		bc = t.fileCursor(ks)
	}
	i := index(ks)
	var lo []byte // the floor (Trim): forward, the walk starts there; reverse, it ends there
	if f := t.ov.top.floor[i]; f > 0 {
		lo = binary.BigEndian.AppendUint64(nil, f)
		if !reverse && (from == nil || compareKeys(from, lo) < 0) {
			from = lo
		}
	}
	m := newMerger(t.ov.sources(i), bc, from, reverse)
	if reverse {
		m.lo = lo
	}
	return m
}

// sealedValue returns the value of k as the file would store it.
func (t *Tx) sealedValue(ks Keyspace, k, v []byte, fromBolt bool) []byte {
	if fromBolt && ks == Meta && string(k) == string(digestKey) {
		return t.digestRecord()
	}
	return v
}

// scanMerged is Scan, ScanFrom and ScanReverse over the layers and the file.
func (t *Tx) scanMerged(ks Keyspace, from []byte, reverse bool, prefix []byte, fn func(k, v []byte) error) error {
	m := t.merged(ks, from, reverse, true)
	for {
		k, v, fromBolt, ok := m.next()
		if !ok || !bytes.HasPrefix(k, prefix) {
			return m.bc.err
		}
		if v == nil {
			continue
		}
		if v = t.sealedValue(ks, k, v, fromBolt); v == nil {
			return t.err
		}
		p, err := t.mergedPayload(ks, k, v, fromBolt)
		if err != nil {
			return err
		}
		if err := fn(k, p); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
}

// mergedPayload is the payload of a sealed value a merger yielded: one of
// the file's is checked (a damaged one fails t), a layer's was when staged.
func (t *Tx) mergedPayload(ks Keyspace, k, v []byte, fromBolt bool) ([]byte, error) {
	if !fromBolt {
		return payload(v), nil
	}
	p, err := unseal(ks, k, v)
	if err != nil {
		t.fail(err)
	}
	return p, err
}

// countStaged is what the layers add to the file's count of ks (not a
// packed one: Count reads those from the digests).
func (t *Tx) countStaged(ks Keyspace) int {
	n := 0
	c := t.fileCursor(ks)
	m := t.merged(ks, nil, false, false)
	for k, v, _, ok := m.next(); ok; k, v, _, ok = m.next() {
		bk, _ := c.Seek(k)
		switch inFile := bytes.Equal(bk, k); {
		case v != nil && !inFile:
			n++
		case v == nil && inFile:
			n--
		}
	}
	return n
}

// deletePrefixStaged is DeletePrefix on a Staged DB.
func (t *Tx) deletePrefixStaged(ks Keyspace, prefix []byte) error {
	var keys [][]byte
	m := t.merged(ks, prefix, false, true)
	for k, v, _, ok := m.next(); ok && bytes.HasPrefix(k, prefix); k, v, _, ok = m.next() {
		if v != nil && !(ks == Meta && storeOwned(k)) {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if err := t.stage(ks, k, nil, true); err != nil {
			return err
		}
	}
	return nil
}

// trimStaged is Trim on a Staged DB: one walk from the floor, removing the
// dropped entries from the digests as it goes; then the floor moves past
// them. Nothing is staged per entry.
func (t *Tx) trimStaged(ks Keyspace, drop func(k, v []byte) bool) (int, error) {
	i, o := index(ks), t.ov
	if !o.write {
		return 0, fmt.Errorf("store: trim %s in a read-only transaction", ks)
	}
	m := t.merged(ks, nil, false, true)
	n, last := 0, uint64(0)
	for {
		k, v, fromBolt, ok := m.next()
		if !ok {
			break
		}
		if v == nil {
			continue
		}
		p, err := t.mergedPayload(ks, k, v, fromBolt)
		if err != nil {
			return 0, err
		}
		if !drop(k, p) {
			break
		}
		if last = binary.BigEndian.Uint64(k); last != math.MaxUint64 {
			t.writes().delta[i].remove(v) // the last sequence's tombstone below removes it
		}
		n++
	}
	if err := m.bc.err; err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	// The entries count as staged deletes: the checkpoint removes them.
	t.dirty, o.layers, o.top.trimmed = true, true, true
	o.top.records += n
	if last == math.MaxUint64 {
		// No floor is above the last sequence: it goes as a tombstone.
		o.top.floor[i] = last
		return n, t.stage(ks, binary.BigEndian.AppendUint64(nil, last), nil, true)
	}
	o.top.floor[i] = last + 1
	return n, nil
}

// dumpMerged is Dump over the layers and the file.
func (t *Tx) dumpMerged(fn func(ks Keyspace, k, v []byte)) {
	for _, ks := range allKeyspaces {
		m := t.merged(ks, nil, false, true)
		for k, v, fromBolt, ok := m.next(); ok; k, v, fromBolt, ok = m.next() {
			if v = t.sealedValue(ks, k, v, fromBolt); v != nil {
				fn(ks, k, v)
			}
		}
	}
}

// Checkpoint folds everything staged so far into the file, in one bbolt
// transaction (synced unless NoSync) that also records the position of the
// last staged update, and then drops it from memory. It returns that
// position. Updates and Views go on meanwhile: it freezes the active layer
// and starts a new one. One runs at a time; a second caller waits.
//
// The values were sealed when they were staged; the transaction keeps the
// digests as Update does. If it fails (Options.BeforeCommit included), the
// frozen writes stay in memory, visible as before, and the next Checkpoint
// writes them again with what was staged after them, in order. Without
// Staged, Checkpoint does nothing and returns CheckpointPosition.
func (db *DB) Checkpoint() (uint64, error) {
	if !db.staging {
		return db.filePos.Load(), nil
	}
	s := &db.stages
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	s.writeMu.Lock()
	s.mu.Lock()
	if s.active.records > 0 || s.active.trimmed {
		s.frozen = append(s.frozen, &layer{layerData: *s.active})
		s.active = &layerData{pos: s.active.pos, floor: s.active.floor}
	}
	frozen := slices.Clone(s.frozen)
	s.mu.Unlock()
	s.writeMu.Unlock()
	if len(frozen) == 0 {
		return db.filePos.Load(), nil
	}
	pos := frozen[len(frozen)-1].pos
	if err := db.fold(frozen); err != nil {
		return db.filePos.Load(), fmt.Errorf("store: checkpoint at position %d: %w", pos, err)
	}
	s.mu.Lock()
	s.frozen = nil // only Checkpoint adds to it
	s.mu.Unlock()
	db.filePos.Store(pos)
	db.restat()
	return pos, nil
}

// foldRecords writes the records m yields (in key order; nil values are
// deletes) into bucket b. It returns how many it put after the file's last
// key and how many elsewhere, for the fill of the pages.
func foldRecords(ks Keyspace, b *bolt.Bucket, m *merger) (appends, inserts int, err error) {
	last, _ := b.Cursor().Last()
	last = bytes.Clone(last)
	for k, v, _, ok := m.next(); ok; k, v, _, ok = m.next() {
		switch {
		case v == nil:
			err = b.Delete(k)
		case appends > 0 || bytes.Compare(k, last) > 0: // keys come in order
			appends++
			err = b.Put(k, v)
		default:
			inserts++
			err = b.Put(k, v)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return appends, inserts, nil
}

// fold writes layers (oldest first) into one bbolt transaction and commits it.
func (db *DB) fold(layers []*layer) error {
	bt, err := db.bolt.Begin(true)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Each layer's delta is its change to the digests of what was below it
	// when it was staged: the file, or the file and the older layers. So
	// the fold changes them by the deltas of the layers not in the file
	// yet, and needs no old values (a put looking up the value it replaces
	// would search bbolt twice per record).
	tx := &Tx{tx: bt, dirty: true}
	for _, l := range layers {
		if l.fold.Load() == 0 { // else an earlier commit that reported failure landed it
			tx.writes().delta.plus(&l.delta)
		}
	}
	// The values stay in the layers until the commit has ended.
	srcs := make([]source, 0, 2*len(layers))
	for i, ks := range allKeyspaces {
		srcs = srcs[:0]
		for j := len(layers) - 1; j >= 0; j-- {
			srcs = layers[j].sources(srcs, i)
		}
		b := tx.bucket(ks)
		var from []byte
		floor := layers[len(layers)-1].floor[i] // the newest: floors only grow
		if floor > 0 {
			from = binary.BigEndian.AppendUint64(nil, floor) // the staged entries below are gone
		}
		m := newMerger(srcs, nil, from, false)
		fold := foldRecords
		if packed(ks) {
			fold = func(ks Keyspace, b *bolt.Bucket, m *merger) (int, int, error) { return tx.foldPacked(ks, b, m, floor) }
		}
		appends, inserts, err := fold(ks, b, m)
		if err != nil {
			_ = bt.Rollback()
			return fmt.Errorf("write %s: %w", ks, err)
		}
		// Pages that only ever grow at the end can be split full (bbolt's
		// default leaves them half empty for inserts that never come): about
		// half the pages to write, and to keep. Read at the commit.
		if inserts <= appends/8 && appends > 0 {
			b.FillPercent = 1
		}
	}
	id := uint64(bt.ID())
	for _, l := range layers {
		l.fold.CompareAndSwap(0, id) // a layer an earlier failed commit landed keeps its id
	}
	landed, err := db.commit(bt, tx)
	if err != nil && !landed {
		for _, l := range layers {
			l.fold.CompareAndSwap(id, 0)
		}
	}
	return err
}
