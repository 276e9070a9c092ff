package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// A digest summarizes the records of a keyspace: how many there are and the
// sum of their checksums. The digests of all keyspaces are kept in one
// record of the meta keyspace, updated by every commit, and compared at
// Open with the digests the page walk computes (verify.go).
//
// They catch what record checksums cannot: a keyspace whose root was moved
// to an older copy of its own tree (a flipped bit in a page id of the root
// page, landing on a freed page whose records all check), records dropped
// or added by damage to a page's structure, and a damaged checksum.
//
// The meta keyspace's digest leaves out the digest record itself; an older
// copy of meta shows as the other keyspaces disagreeing with it.
type digest struct{ count, sum uint64 }

// digestKey is the key of the digests record in Meta: for each keyspace of
// allKeyspaces in order, the count and the sum (8 bytes big-endian each).
var digestKey = []byte("digest")

var ksIndex = func() map[Keyspace]int {
	m := map[Keyspace]int{}
	for i, ks := range allKeyspaces {
		m[ks] = i
	}
	return m
}()

type digests [numKeyspaces]digest

// sumOf is the checksum stored at the end of a sealed value (0 for a value
// too short to hold one, which reads as damaged anyway).
func sumOf(sealed []byte) uint64 {
	if len(sealed) < sumSize {
		return 0
	}
	return uint64(binary.BigEndian.Uint32(sealed[len(sealed)-sumSize:]))
}

func (d *digest) add(sealed []byte)    { d.count++; d.sum += sumOf(sealed) }
func (d *digest) remove(sealed []byte) { d.count--; d.sum -= sumOf(sealed) }

// addPage adds the records of the first n elements of leaf page p (whose
// layout has been checked), nested buckets left out; runs adds the entries
// of a packed keyspace's runs (packed.go).
func (d *digest) addPage(p []byte, n int, runs bool) {
	for i := range n {
		e := p[pageHeaderSize+i*elemSize:]
		if binary.NativeEndian.Uint32(e)&bucketLeafFlag != 0 {
			continue
		}
		end := pageHeaderSize + i*elemSize + int(binary.NativeEndian.Uint32(e[4:])) + int(binary.NativeEndian.Uint32(e[8:])) + int(binary.NativeEndian.Uint32(e[12:]))
		v := p[pageHeaderSize+i*elemSize+int(binary.NativeEndian.Uint32(e[4:]))+int(binary.NativeEndian.Uint32(e[8:])) : end]
		if runs {
			d.plus(runDigest(v))
		} else {
			d.add(v)
		}
	}
}

func (d *digest) plus(o digest) { d.count += o.count; d.sum += o.sum }

// encode appends the record of ds to b.
func (ds *digests) encode(b []byte) []byte {
	for _, d := range ds {
		b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b, d.count), d.sum)
	}
	return b
}

// readDigests returns the digests record of tx.
func readDigests(tx *bolt.Tx) (digests, []byte, error) {
	var ds digests
	v := tx.Bucket([]byte(Meta)).Get(digestKey)
	if v == nil {
		return ds, nil, fmt.Errorf("%w: no digests record", ErrCorrupt)
	}
	p, err := unseal(Meta, digestKey, v)
	if err != nil {
		return ds, nil, err
	}
	if len(p) != 16*len(ds) {
		return ds, nil, corruptRecord(Meta, digestKey, fmt.Sprintf("%d bytes", len(p)))
	}
	for i := range ds {
		ds[i] = digest{binary.BigEndian.Uint64(p[16*i:]), binary.BigEndian.Uint64(p[16*i+8:])}
	}
	return ds, v, nil
}

func writeDigests(tx *bolt.Tx, ds *digests) error {
	return putDigests(tx, ds, nil)
}

// putDigests writes the record of ds, built in buf if it has the room.
func putDigests(tx *bolt.Tx, ds *digests, buf []byte) error {
	p := ds.encode(buf[:0])
	p = binary.BigEndian.AppendUint32(p, checksum(Meta, digestKey, p)) // sealed in place
	if err := tx.Bucket([]byte(Meta)).Put(digestKey, p); err != nil {
		return fmt.Errorf("store: put digests: %w", err)
	}
	return nil
}

// scanDigests computes the digests of every keyspace from its records;
// runs tells whether the packed keyspaces hold runs (from schema 6 on).
func scanDigests(tx *bolt.Tx, runs bool) digests {
	var ds digests
	for i, ks := range allKeyspaces {
		b := tx.Bucket([]byte(ks))
		if b == nil {
			continue // inside a migration, before the step that creates it
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			switch {
			case ks == Meta && string(k) == string(digestKey):
			case runs && packed(ks):
				ds[i].plus(runDigest(v))
			default:
				ds[i].add(v)
			}
		}
	}
	return ds
}

// checkDigests compares the digests record of tx with walked, the digests of
// the file's pages (which count the digests record in meta's).
func checkDigests(tx *bolt.Tx, walked map[string]digest) error {
	ds, rec, err := readDigests(tx)
	if err != nil {
		return err
	}
	return compareDigests(ds, rec, walked)
}

// compareDigests compares the digests record ds (rec as stored) with walked.
func compareDigests(ds digests, rec []byte, walked map[string]digest) error {
	for i, ks := range allKeyspaces {
		got := walked[string(ks)]
		if ks == Meta {
			got.remove(rec)
		}
		if got != ds[i] {
			return fmt.Errorf("%w: keyspace %s holds %d records (checksum sum %d), the digests record says %d (%d)",
				ErrCorrupt, ks, got.count, got.sum, ds[i].count, ds[i].sum)
		}
	}
	return nil
}

// flushDigests adds the changes of the transaction to the digests record.
func (t *Tx) flushDigests() error {
	ds, _, err := readDigests(t.tx)
	if err != nil {
		return err
	}
	delta := t.delta()
	ds.plus(&delta)
	return putDigests(t.tx, &ds, t.alloc(16*numKeyspaces+sumSize))
}
