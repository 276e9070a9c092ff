package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	bolt "go.etcd.io/bbolt"
)

// Every stored value is sealed: the payload followed by a 4-byte big-endian
// CRC-32C (Castagnoli) of
//
//	keyspace name, 0x00, key length (4 bytes big-endian), key, payload
//
// so a flipped bit in a key or a value, or a value moved under another key
// or into another keyspace, fails the check. bbolt keeps no checksums of its
// own. Tx seals on Put and checks on every Get and Scan.
const sumSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ksSeed holds the CRC of each keyspace's name and separator.
var ksSeed = func() map[Keyspace]uint32 {
	m := make(map[Keyspace]uint32, len(allKeyspaces))
	for _, ks := range allKeyspaces {
		m[ks] = crc32.Update(0, castagnoli, append([]byte(ks), 0))
	}
	return m
}()

func checksum(ks Keyspace, key, payload []byte) uint32 {
	c := crc32.Update(updateUint32(ksSeed[ks], uint32(len(key))), castagnoli, key)
	return crc32.Update(c, castagnoli, payload)
}

// updateUint32 is crc32.Update of v's 4 big-endian bytes, byte by byte: a
// slice handed to crc32.Update escapes, and would cost an allocation.
func updateUint32(crc, v uint32) uint32 {
	crc = ^crc
	for s := 24; s >= 0; s -= 8 {
		crc = castagnoli[byte(crc)^byte(v>>s)] ^ (crc >> 8)
	}
	return ^crc
}

// seal appends the checksum of payload stored under ks/key to dst.
func seal(dst []byte, ks Keyspace, key, payload []byte) []byte {
	dst = append(dst, payload...)
	return binary.BigEndian.AppendUint32(dst, checksum(ks, key, payload))
}

// unseal checks the sealed value v of ks/key and returns its payload.
func unseal(ks Keyspace, key, v []byte) ([]byte, error) {
	if len(v) < sumSize {
		return nil, corruptRecord(ks, key, fmt.Sprintf("a %d-byte value has no checksum", len(v)))
	}
	p := v[: len(v)-sumSize : len(v)-sumSize] // an append must not write over the checksum
	if binary.BigEndian.Uint32(v[len(p):]) != checksum(ks, key, p) {
		return nil, corruptRecord(ks, key, "checksum mismatch")
	}
	return p, nil
}

// maxQuotedKey bounds how much of a damaged key an error quotes.
const maxQuotedKey = 64

func corruptRecord(ks Keyspace, key []byte, what string) error {
	q := key
	more := ""
	if len(q) > maxQuotedKey {
		q, more = q[:maxQuotedKey], fmt.Sprintf("… (%d bytes)", len(key))
	}
	return fmt.Errorf("%w: %s key %q%s: %s", ErrCorrupt, ks, q, more, what)
}

// addChecksums converts a schema 3 file to schema 4: it seals every value of
// every keyspace (values were stored bare), writes the version record of
// schema 4 and the digests record (digest.go). It runs inside the caller's write transaction, so a failure
// changes nothing. Every keyspace must exist.
func addChecksums(tx *bolt.Tx) error {
	const batch = 1024 // bbolt forbids writes while a cursor iterates: copy a batch, then write it
	for _, ks := range allKeyspaces {
		b := tx.Bucket([]byte(ks))
		if b == nil && ks.since() > 3 {
			continue // created by a later step
		}
		if b == nil {
			return fmt.Errorf("%w: keyspace %s is missing", ErrCorrupt, ks)
		}
		var after []byte
		for {
			c := b.Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else if k, v = c.Seek(after); bytes.Equal(k, after) {
				k, v = c.Next()
			}
			var keys, vals [][]byte
			for ; k != nil && len(keys) < batch; k, v = c.Next() {
				if v == nil {
					return fmt.Errorf("%w: keyspace %s holds a nested bucket %q", ErrCorrupt, ks, k)
				}
				keys, vals = append(keys, bytes.Clone(k)), append(vals, seal(nil, ks, k, v))
			}
			if len(keys) == 0 {
				break
			}
			for i, k := range keys {
				if err := b.Put(k, vals[i]); err != nil {
					return fmt.Errorf("store: add checksums to %s: %w", ks, err)
				}
			}
			after = keys[len(keys)-1]
		}
	}
	if err := putSchema(tx, 4); err != nil {
		return err
	}
	ds := scanDigests(tx, false)
	return writeDigests(tx, &ds)
}

// putSchema writes the schema version record (sealed, as from schema 4 on).
func putSchema(tx *bolt.Tx, version uint32) error {
	v := binary.BigEndian.AppendUint32(nil, version)
	return tx.Bucket([]byte(Meta)).Put(schemaKey, seal(nil, Meta, schemaKey, v))
}
