package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The append-only keyspaces (ledger, awards, outbox: their keys are 8-byte
// sequences) are packed: the file holds, under the first sequence of each
// fixed range of runLen sequences, one record with the entries of that
// range. bbolt's cost is per record (each Put searches the tree from the
// root), so a run costs about what one entry did; the ranges are fixed, so
// the file's records do not depend on how updates were batched or when
// checkpoints ran.
//
// Above the file nothing changes: keys and values read, scan, dump and
// digest as the entries they are (Tx unpacks), and a staged layer holds
// entries as in any keyspace; Checkpoint packs them as it folds, rewriting
// the runs they land in. A run's value is
//
//	entries: slot (1 byte, sequence − run start), uvarint length, sealed value
//	trailer: entry count (1 byte), sum of the entries' checksums (8 bytes big-endian)
//
// Each entry keeps the seal it would have alone (over keyspace, its own
// key and payload), so an entry read from a run checks as a record does,
// and damage to one leaves the others of its run readable. The run has no
// seal of its own: damage to its structure (a slot, a length, the trailer)
// fails the decode, which checks the trailer against the entries, and the
// keyspace digests count entries, which the trailer lets the page walk at
// Open add without decoding a run. Schema 6 introduced the layout (its
// migration packs older files).

// runLen is how many sequences a run spans. At 32, a run of the engine's
// ledger entries (about 30 bytes each) or awards (about 55) takes part of
// a page and one of outbox notes (about 125) about a page; a write into a
// run rewrites it whole, so longer runs would cost more per rewrite.
const runLen = 32

const (
	runMask    = runLen - 1
	trailerLen = 1 + 8
)

// packed reports whether ks is a packed keyspace.
func packed(ks Keyspace) bool { return ks == Ledger || ks == Awards || ks == Outbox }

// packedIndex is packed by index in allKeyspaces.
var packedIndex = func() (p [numKeyspaces]bool) {
	for i, ks := range allKeyspaces {
		p[i] = packed(ks)
	}
	return p
}()

// checkSeqKey refuses a key a packed keyspace cannot hold.
func checkSeqKey(ks Keyspace, key []byte) error {
	if len(key) != 8 {
		return fmt.Errorf("store: put %s: keys are 8-byte sequences, got %d bytes", ks, len(key))
	}
	return nil
}

func runStart(seq uint64) uint64 { return seq &^ runMask }

// run is the decoded value of one run: its entries in slot order, with
// their keys and sealed values (which point into the value read).
type run struct {
	start uint64
	keys  []byte // 8 bytes per entry
	vals  [][]byte
	slots []uint8
}

func (r *run) key(i int) []byte { return r.keys[8*i : 8*i+8 : 8*i+8] }

// decodeRun decodes the run value v stored under key (its entries are
// checked when they are read).
func decodeRun(ks Keyspace, key, v []byte) (run, error) {
	var r run
	err := r.decode(ks, key, v, true)
	return r, err
}

// decode is decodeRun into r, reusing its lists of values and slots (not
// its keys, which readers may keep until the transaction ends); without
// keys it leaves them out (a write needs only the slots).
func (r *run) decode(ks Keyspace, key, v []byte, keys bool) error {
	if len(key) != 8 {
		return corruptRecord(ks, key, "a run under a key that is not a sequence")
	}
	r.start = binary.BigEndian.Uint64(key)
	if r.start&runMask != 0 || len(v) < trailerLen {
		return corruptRecord(ks, key, "not a run")
	}
	n := int(v[len(v)-trailerLen])
	body := v[:len(v)-trailerLen]
	r.keys, r.vals, r.slots = nil, r.vals[:0], r.slots[:0]
	if keys {
		r.keys = make([]byte, 0, 8*n)
	}
	var sum uint64
	for len(body) > 0 {
		slot := body[0]
		l, w := binary.Uvarint(body[1:])
		switch {
		case w <= 0 || l > uint64(len(body)-1-w) || w != uvarintSize(l):
			return corruptRecord(ks, key, "a run entry's length is damaged")
		case slot >= runLen || len(r.slots) > 0 && slot <= r.slots[len(r.slots)-1]:
			return corruptRecord(ks, key, "run entries out of order")
		}
		val := body[1+w : 1+w+int(l) : 1+w+int(l)]
		body = body[1+w+int(l):]
		if keys {
			r.keys = binary.BigEndian.AppendUint64(r.keys, r.start+uint64(slot))
		}
		r.vals, r.slots = append(r.vals, val), append(r.slots, slot)
		sum += sumOf(val)
	}
	if len(r.slots) != n || n == 0 || sum != binary.BigEndian.Uint64(v[len(v)-8:]) {
		return corruptRecord(ks, key, "a run's trailer does not match its entries")
	}
	return nil
}

// uvarintSize is the length of the shortest uvarint of l (what encode
// writes: decode refuses any other, so one run has one encoding).
func uvarintSize(l uint64) int {
	n := 1
	for ; l >= 0x80; l >>= 7 {
		n++
	}
	return n
}

// runDigest is what the run value v adds to its keyspace's digest, read
// from the trailer alone (the page walk's view: damage shows as digests
// that disagree).
func runDigest(v []byte) digest {
	if len(v) < trailerLen {
		return digest{}
	}
	t := v[len(v)-trailerLen:]
	return digest{uint64(t[0]), binary.BigEndian.Uint64(t[1:])}
}

// set puts the sealed value of slot (nil: deletes it).
func (r *run) set(slot uint8, val []byte) {
	if n := len(r.slots); val != nil && (n == 0 || slot > r.slots[n-1]) { // an append
		r.slots, r.vals = append(r.slots, slot), append(r.vals, val)
		return
	}
	i, found := slices.BinarySearch(r.slots, slot)
	switch {
	case found && val == nil:
		r.slots = slices.Delete(r.slots, i, i+1)
		r.vals = slices.Delete(r.vals, i, i+1)
	case found:
		r.vals[i] = val
	case val != nil:
		r.slots = slices.Insert(r.slots, i, slot)
		r.vals = slices.Insert(r.vals, i, val)
	}
}

// encode appends the value of r to dst.
func (r *run) encode(dst []byte) []byte {
	var sum uint64
	for i, v := range r.vals {
		dst = append(dst, r.slots[i])
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
		sum += sumOf(v)
	}
	dst = append(dst, uint8(len(r.vals)))
	return binary.BigEndian.AppendUint64(dst, sum)
}

// encodedLen bounds the length of r's value.
func (r *run) encodedLen() int {
	n := trailerLen
	for _, v := range r.vals {
		n += 1 + binary.MaxVarintLen32 + len(v)
	}
	return n
}

// fileCursor walks the records of one keyspace of the file, with bbolt's
// cursor's methods: bbolt's records, or a packed keyspace's entries. Keys
// and values are valid until the transaction ends. A damaged run fails
// the transaction and ends the walk.
type fileCursor struct {
	t      *Tx
	ks     Keyspace
	bc     *bolt.Cursor
	packed bool
	run    run  // the run bc is at, if loaded
	loaded bool // (a Seek into it needs no search: deletes of a batch's old entries land in one run)
	i      int
	err    error // the damaged run that ended the walk
}

func (t *Tx) fileCursor(ks Keyspace) *fileCursor {
	return &fileCursor{t: t, ks: ks, bc: t.bucket(ks).Cursor(), packed: packed(ks)}
}

// load makes the run record k, v the cursor's, positioned at its first
// entry (last if back); it reports whether there is one.
func (c *fileCursor) load(k, v []byte, back bool) bool {
	c.loaded = false
	if k == nil {
		return false
	}
	if err := c.run.decode(c.ks, k, v, true); err != nil {
		c.err = err
		c.t.fail(err)
		return false
	}
	c.loaded, c.i = true, 0
	if back {
		c.i = len(c.run.vals) - 1
	}
	return true
}

func (c *fileCursor) at(ok bool) ([]byte, []byte) {
	if !ok {
		return nil, nil
	}
	return c.run.key(c.i), c.run.vals[c.i]
}

func (c *fileCursor) First() ([]byte, []byte) {
	if !c.packed {
		return c.bc.First()
	}
	k, v := c.bc.First()
	return c.at(c.load(k, v, false))
}

func (c *fileCursor) Last() ([]byte, []byte) {
	if !c.packed {
		return c.bc.Last()
	}
	k, v := c.bc.Last()
	return c.at(c.load(k, v, true))
}

func (c *fileCursor) Next() ([]byte, []byte) {
	if !c.packed {
		return c.bc.Next()
	}
	if c.i++; c.i < len(c.run.vals) {
		return c.at(true)
	}
	k, v := c.bc.Next()
	return c.at(c.load(k, v, false))
}

func (c *fileCursor) Prev() ([]byte, []byte) {
	if !c.packed {
		return c.bc.Prev()
	}
	if c.i--; c.i >= 0 {
		return c.at(true)
	}
	k, v := c.bc.Prev()
	return c.at(c.load(k, v, true))
}

// Seek moves to the first key at or after key.
func (c *fileCursor) Seek(key []byte) ([]byte, []byte) {
	if !c.packed {
		return c.bc.Seek(key)
	}
	// The smallest 8-byte key at or after key.
	var target uint64
	switch {
	case len(key) <= 8:
		var b [8]byte
		copy(b[:], key)
		target = binary.BigEndian.Uint64(b[:])
	default:
		if target = binary.BigEndian.Uint64(key) + 1; target == 0 {
			return nil, nil
		}
	}
	if c.loaded && c.run.start == runStart(target) {
		c.i = 0
	} else if k, v := c.bc.Seek(binary.BigEndian.AppendUint64(nil, runStart(target))); !c.load(k, v, false) {
		return nil, nil
	}
	for c.run.start+uint64(c.run.slots[c.i]) < target {
		if c.i++; c.i == len(c.run.vals) {
			k, v := c.bc.Next()
			return c.at(c.load(k, v, false))
		}
	}
	return c.at(true)
}

// load makes r the run of bucket b that holds seq (empty if b has none;
// without keys, reusing r's lists), stored under key; a damaged one is an
// error. file tells whether b may hold it.
func (r *run) load(b *bolt.Bucket, ks Keyspace, seq uint64, key []byte, file bool) error {
	binary.BigEndian.PutUint64(key, runStart(seq))
	r.start, r.keys, r.vals, r.slots = runStart(seq), nil, r.vals[:0], r.slots[:0]
	if !file {
		return nil
	}
	if v := b.Get(key); v != nil {
		return r.decode(ks, key, v, false)
	}
	return nil
}

// storeRun writes r under key into b: its value built in dst, or a delete
// when it is empty.
func storeRun(b *bolt.Bucket, key []byte, r *run, dst []byte) error {
	if len(r.vals) == 0 {
		return b.Delete(key)
	}
	return b.Put(key, r.encode(dst))
}

// putEntry writes the sealed value of key (nil: deletes it) into its run,
// bypassing any staged layer, and keeps the digests: a write of a DB
// without Staged.
func (t *Tx) putEntry(ks Keyspace, key, sealed []byte) error {
	if err := checkSeqKey(ks, key); err != nil {
		return err
	}
	seq := binary.BigEndian.Uint64(key)
	b := t.bucket(ks)
	var r run
	rk := t.alloc(8)[:8]
	if err := r.load(b, ks, seq, rk, true); err != nil {
		t.fail(err)
		return err
	}
	slot := uint8(seq & runMask)
	d := &t.writes().delta[ksIndex[ks]]
	if i, ok := slices.BinarySearch(r.slots, slot); ok {
		d.remove(r.vals[i])
	} else if sealed == nil {
		return nil
	}
	if sealed != nil {
		d.add(sealed)
	}
	t.dirty = true
	t.writes().cur[ksIndex[ks]] = nil // it may hold the run as it was
	r.set(slot, sealed)
	if err := storeRun(b, rk, &r, t.alloc(r.encodedLen())); err != nil {
		return fmt.Errorf("store: put %s: %w", ks, err)
	}
	return nil
}

// foldPacked is foldRecords for a packed keyspace: it deletes the file's
// entries below floor (Trim; 0: none), writes the entries into the runs
// they land in, rewriting those the file has, and counts runs.
func (tx *Tx) foldPacked(ks Keyspace, b *bolt.Bucket, m *merger, floor uint64) (appends, inserts int, err error) {
	// Read before the trim: bbolt's Last can loop forever on a bucket that
	// deletes of the same transaction emptied. A last run the trim removed
	// only miscounts appends as inserts (its runs read as empty).
	lastRun, _ := b.Cursor().Last()
	if floor > 0 {
		if err := tx.trimRuns(ks, b, floor); err != nil {
			return 0, 0, fmt.Errorf("trim: %w", err)
		}
	}
	// after reports whether the run of start is past the file's runs (a
	// run to write, not one to read and rewrite).
	after := func(start uint64) bool { return lastRun == nil || start > binary.BigEndian.Uint64(lastRun) }
	var r run // reused: storeRun copies what it writes
	var rk []byte
	open := false
	flush := func() error {
		if !open {
			return nil
		}
		if after(r.start) {
			appends++
		} else {
			inserts++
		}
		return storeRun(b, rk, &r, tx.alloc(r.encodedLen()))
	}
	for k, v, _, ok := m.next(); ok; k, v, _, ok = m.next() {
		seq := binary.BigEndian.Uint64(k)
		if start := runStart(seq); !open || start != r.start {
			if err := flush(); err != nil {
				return 0, 0, err
			}
			rk = tx.alloc(8)[:8] // bbolt holds it until the commit
			if err := r.load(b, ks, seq, rk, !after(start)); err != nil {
				return 0, 0, err
			}
			open = true
		}
		r.set(uint8(seq&runMask), v)
	}
	return appends, inserts, flush()
}

// trimRuns deletes the entries of bucket b below sequence floor: the runs
// wholly below it, then the first entries of the one it falls in. The
// digests already left them out (Trim removed them as it moved the floor).
func (tx *Tx) trimRuns(ks Keyspace, b *bolt.Bucket, floor uint64) error {
	var below [][]byte
	var edge []byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 8 {
			return corruptRecord(ks, k, "a run under a key that is not a sequence")
		}
		start := binary.BigEndian.Uint64(k)
		if start < runStart(floor) {
			below = append(below, bytes.Clone(k))
			continue
		}
		if start < floor {
			edge = bytes.Clone(k)
		}
		break
	}
	for _, k := range below {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	if edge == nil {
		return nil
	}
	var r run
	if err := r.decode(ks, edge, b.Get(edge), false); err != nil {
		return err
	}
	cut, _ := slices.BinarySearch(r.slots, uint8(floor-r.start))
	r.slots, r.vals = r.slots[cut:], r.vals[cut:]
	return storeRun(b, edge, &r, tx.alloc(r.encodedLen()))
}

// packKeyspaces converts the packed keyspaces of a schema 5 file, one
// record per entry, to runs. Entries move as they are stored, seal and all
// (a damaged one stays damaged, for Check to find).
func packKeyspaces(tx *bolt.Tx) error {
	for _, ks := range allKeyspaces {
		if !packed(ks) {
			continue
		}
		b := tx.Bucket([]byte(ks))
		if b == nil {
			return fmt.Errorf("%w: keyspace %s is missing", ErrCorrupt, ks)
		}
		var from []byte // the next run's start; nil: the first
		for {
			c := b.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			if k == nil {
				break
			}
			if len(k) != 8 {
				return corruptRecord(ks, k, "not a sequence key")
			}
			r := run{start: runStart(binary.BigEndian.Uint64(k))}
			var keys [][]byte
			for ; k != nil && len(k) == 8 && runStart(binary.BigEndian.Uint64(k)) == r.start; k, v = c.Next() {
				keys = append(keys, bytes.Clone(k))
				r.slots = append(r.slots, uint8(binary.BigEndian.Uint64(k)&runMask))
				r.vals = append(r.vals, bytes.Clone(v))
			}
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("store: pack %s: %w", ks, err)
				}
			}
			rk := binary.BigEndian.AppendUint64(nil, r.start)
			if err := storeRun(b, rk, &r, nil); err != nil {
				return fmt.Errorf("store: pack %s: %w", ks, err)
			}
			if r.start+runLen < r.start {
				break // the last range of sequences
			}
			from = binary.BigEndian.AppendUint64(nil, r.start+runLen)
		}
	}
	return nil
}
