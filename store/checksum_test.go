package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// rawUpdate changes the file at path with bbolt directly, below the checksums.
func rawUpdate(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, b.Update(fn))
	require.NoError(t, b.Close())
}

// stateStore returns the path of a closed store holding state/k1 = val.
func stateStore(t *testing.T, val string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	require.NoError(t, db.Update(func(tx *Tx) error { return tx.Put(State, []byte("k1"), []byte(val)) }))
	require.NoError(t, db.Close())
	return path
}

func TestValuesAreSealed(t *testing.T) {
	path := stateStore(t, "payload")
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(State)).Get([]byte("k1"))
		require.Equal(t, "payload", string(v[:len(v)-sumSize]), "the payload, then the checksum")
		want := crc32c(append(append(append([]byte("state\x00"), 0, 0, 0, 2), "k1"...), "payload"...))
		require.Equal(t, want, binary.BigEndian.Uint32(v[len(v)-sumSize:]))
		return nil
	})
}

// Each damage of a record is an ErrCorrupt naming the keyspace and key,
// from Get, Scan, ScanReverse and the transaction, and an Update that read it
// does not commit.
func TestDamagedRecordsAreCorrupt(t *testing.T) {
	damage := map[string]func(tx *bolt.Tx){
		"flipped checksum byte": func(tx *bolt.Tx) {
			b := tx.Bucket([]byte(State))
			v := bytes.Clone(b.Get([]byte("k1")))
			v[len(v)-1] ^= 1
			require.NoError(t, b.Put([]byte("k1"), v))
		},
		"value moved to another key": func(tx *bolt.Tx) {
			b := tx.Bucket([]byte(State))
			require.NoError(t, b.Put([]byte("k1"), bytes.Clone(b.Get([]byte("k2")))))
		},
		"value moved to another keyspace": func(tx *bolt.Tx) {
			v := bytes.Clone(tx.Bucket([]byte(Users)).Get([]byte("k1")))
			require.NoError(t, tx.Bucket([]byte(State)).Put([]byte("k1"), v))
		},
		"value without checksum": func(tx *bolt.Tx) {
			require.NoError(t, tx.Bucket([]byte(State)).Put([]byte("k1"), []byte("abc")))
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			db := open(t, path)
			require.NoError(t, db.Update(func(tx *Tx) error {
				for _, ks := range []Keyspace{State, Users} {
					for _, k := range []string{"k1", "k2"} {
						require.NoError(t, tx.Put(ks, []byte(k), []byte("value of "+k)))
					}
				}
				return nil
			}))
			require.NoError(t, db.Close())
			rawUpdate(t, path, func(tx *bolt.Tx) error { f(tx); return nil })
			_, err := Open(path, Options{LockTimeout: 100e6})
			require.ErrorIs(t, err, ErrCorrupt, "the stored checksums no longer add up to the digests record")
			require.ErrorContains(t, err, "keyspace state holds")
			// With the digests made to agree, the damage is met on reading.
			rawUpdate(t, path, func(tx *bolt.Tx) error { ds := scanDigests(tx, true); return writeDigests(tx, &ds) })
			db = open(t, path)
			defer db.Close()

			err = db.View(func(tx *Tx) error {
				require.Nil(t, tx.Get(State, []byte("k1")))
				require.Equal(t, "value of k2", string(tx.Get(State, []byte("k2"))), "other records read")
				require.ErrorIs(t, tx.Err(), ErrCorrupt)
				return nil
			})
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, `state key "k1"`)
			for _, scan := range []func(*Tx, Keyspace, []byte, func(k, v []byte) error) error{(*Tx).Scan, (*Tx).ScanReverse} {
				err = db.View(func(tx *Tx) error {
					return scan(tx, State, nil, func(k, v []byte) error { return nil })
				})
				require.ErrorIs(t, err, ErrCorrupt)
			}
			err = db.Update(func(tx *Tx) error {
				_ = tx.Get(State, []byte("k1"))
				return tx.Put(State, []byte("k3"), []byte("x"))
			})
			require.ErrorIs(t, err, ErrCorrupt)
			require.NoError(t, db.View(func(tx *Tx) error {
				require.Nil(t, tx.Get(State, []byte("k3")), "an Update that read a damaged record does not commit")
				var found []error
				tx.Verify(func(err error) bool { found = append(found, err); return true })
				require.Len(t, found, 1)
				require.ErrorIs(t, found[0], ErrCorrupt)
				return nil
			}))
		})
	}
}

func TestDamagedKeyQuotedBounded(t *testing.T) {
	err := corruptRecord(State, bytes.Repeat([]byte("x"), 10000), "checksum mismatch")
	require.ErrorIs(t, err, ErrCorrupt)
	require.Less(t, len(err.Error()), 200)
	require.Contains(t, err.Error(), "(10000 bytes)")
}

// Damage to the small keyspaces every Open reads fails Open.
func TestOpenVerifiesDefinitionsAndMeta(t *testing.T) {
	for _, ks := range []Keyspace{Definitions, Meta} {
		path := filepath.Join(t.TempDir(), "s.db")
		db := open(t, path)
		require.NoError(t, db.Update(func(tx *Tx) error { return tx.Put(ks, []byte("metric/xp"), []byte(`{"Key":"xp"}`)) }))
		require.NoError(t, db.Close())
		rawUpdate(t, path, func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(ks))
			v := bytes.Clone(b.Get([]byte("metric/xp")))
			v[3] ^= 4
			return b.Put([]byte("metric/xp"), v)
		})
		_, err := Open(path, Options{LockTimeout: 100e6})
		require.ErrorIs(t, err, ErrCorrupt, string(ks))
		require.ErrorContains(t, err, string(ks)+` key "metric/xp"`)
	}
}

// A keyspace missing from an existing store (its name damaged on the root
// page) is corruption: Open does not create an empty one in its place.
func TestOpenRefusesMissingKeyspace(t *testing.T) {
	for _, ks := range allKeyspaces {
		path := filepath.Join(t.TempDir(), "s.db")
		require.NoError(t, open(t, path).Close())
		rawUpdate(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(ks)) })
		_, err := Open(path, Options{LockTimeout: 100e6})
		require.ErrorIs(t, err, ErrCorrupt, string(ks))
		require.ErrorContains(t, err, "keyspace "+string(ks)+" is missing")
	}
}

func TestOpenRefusesDamagedSchemaRecord(t *testing.T) {
	for name, v := range map[string][]byte{
		"missing":      nil,
		"bad checksum": {0, 0, 0, 4, 1, 2, 3, 4},
		"odd length":   {0, 0, 4},
		"bare v4":      {0, 0, 0, 4},
	} {
		path := filepath.Join(t.TempDir(), "s.db")
		require.NoError(t, open(t, path).Close())
		rawUpdate(t, path, func(tx *bolt.Tx) error {
			if v == nil {
				return tx.Bucket([]byte(Meta)).Delete(schemaKey)
			}
			return tx.Bucket([]byte(Meta)).Put(schemaKey, v)
		})
		_, err := Open(path, Options{LockTimeout: 100e6})
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

// addChecksums turns a schema 3 file (bare values) into one this build
// opens, with every payload unchanged.
func TestAddChecksumsConvertsSchema3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	want := map[Keyspace]map[string]string{}
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		for i, ks := range allKeyspaces {
			b, err := tx.CreateBucket([]byte(ks))
			require.NoError(t, err)
			want[ks] = map[string]string{}
			for j := range 3000 * (i % 2) { // more than a batch in some, none in others
				k, v := binary.BigEndian.AppendUint32([]byte("k"), uint32(j)), []byte{byte(i), byte(j), byte(j >> 8)}
				if packed(ks) {
					k = binary.BigEndian.AppendUint64(nil, uint64(j)) // sequences, packed at schema 6
				}
				want[ks][string(k)] = string(v)
				require.NoError(t, b.Put(k, v))
			}
		}
		want[Definitions]["metric/xp"] = `{"Key":"xp"}`
		require.NoError(t, tx.Bucket([]byte(Definitions)).Put([]byte("metric/xp"), []byte(`{"Key":"xp"}`)))
		require.NoError(t, tx.Bucket([]byte(Definitions)).Put([]byte("empty"), []byte{}))
		want[Definitions]["empty"] = ""
		want[Meta]["schema"] = string(binary.BigEndian.AppendUint32(nil, SchemaVersion)) // Open goes on to 6
		return tx.Bucket([]byte(Meta)).Put(schemaKey, binary.BigEndian.AppendUint32(nil, 3))
	})
	rawUpdate(t, path, addChecksums)
	db := open(t, path)
	defer db.Close()
	require.NoError(t, db.View(func(tx *Tx) error {
		var bad []error
		tx.Verify(func(err error) bool { bad = append(bad, err); return true })
		require.Empty(t, bad)
		for _, ks := range allKeyspaces {
			got := map[string]string{}
			require.NoError(t, tx.Scan(ks, nil, func(k, v []byte) error { got[string(k)] = string(v); return nil }))
			if ks == Meta {
				delete(got, string(digestKey))
			}
			require.Equal(t, want[ks], got, string(ks))
		}
		return nil
	}))
}

// crc32c is the checksum of the documented layout, computed independently.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// Values of every size up to past the arena's chunks, many to a transaction,
// read back whole (bbolt holds the sealed copies until the commit).
func TestPutManySizes(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	val := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, (i*i*37)%20000) }
	require.NoError(t, db.Update(func(tx *Tx) error {
		for i := range 300 {
			if err := tx.Put(State, binary.BigEndian.AppendUint32(nil, uint32(i)), val(i)); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.View(func(tx *Tx) error {
		for i := range 300 {
			require.Equal(t, val(i), tx.Get(State, binary.BigEndian.AppendUint32(nil, uint32(i))), "value %d", i)
		}
		return nil
	}))
}

// A flipped payload byte keeps the stored checksums, so Open passes (the
// records are not read); the read meets it.
func TestFlippedPayloadIsMetOnRead(t *testing.T) {
	path := stateStore(t, "value of k1")
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(State))
		v := bytes.Clone(b.Get([]byte("k1")))
		v[2] ^= 0x10
		return b.Put([]byte("k1"), v)
	})
	db := open(t, path)
	defer db.Close()
	err := db.View(func(tx *Tx) error { return tx.Scan(State, nil, func(k, v []byte) error { return nil }) })
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `state key "k1": checksum mismatch`)
}

// The digests record follows every change (puts, overwrites, deletes,
// prefix deletes) and Open refuses a store whose records do not add up to
// it: a record dropped, added, or a keyspace rolled back to an older state
// with every checksum intact.
func TestDigestsFollowChangesAndCatchRollback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := open(t, path)
	require.NoError(t, db.Update(func(tx *Tx) error {
		for i := range 50 {
			if err := tx.Put(Idempotency, []byte(fmt.Sprint("a", i)), []byte("v")); err != nil {
				return err
			}
		}
		return tx.Put(Meta, []byte("seq"), []byte{1})
	}))
	require.NoError(t, db.Update(func(tx *Tx) error {
		require.NoError(t, tx.Put(Idempotency, []byte("a1"), []byte("overwritten")))
		require.NoError(t, tx.Delete(Idempotency, []byte("a2")))
		require.NoError(t, tx.Delete(Idempotency, []byte("absent")))
		return tx.DeletePrefix(Idempotency, []byte("a3"))
	}))
	require.ErrorContains(t, db.Update(func(tx *Tx) error { return tx.Put(Meta, digestKey, nil) }), "the store's")
	require.NoError(t, db.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		want, _, err := readDigests(tx)
		require.NoError(t, err)
		require.Equal(t, want, scanDigests(tx, true))
		require.Equal(t, uint64(50-1-11), want[ksIndex[Idempotency]].count)
		return nil
	})
	db = open(t, path)
	require.NoError(t, db.Close())

	var saved [][2][]byte // the keyspace as it was: a rollback keeps every checksum
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(Idempotency)).ForEach(func(k, v []byte) error {
			saved = append(saved, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
			return nil
		})
	})
	db = open(t, path)
	require.NoError(t, db.Update(func(tx *Tx) error { return tx.Put(Idempotency, []byte("b"), []byte("new")) }))
	require.NoError(t, db.Close())
	rawUpdate(t, path, func(tx *bolt.Tx) error {
		require.NoError(t, tx.DeleteBucket([]byte(Idempotency)))
		b, err := tx.CreateBucket([]byte(Idempotency))
		require.NoError(t, err)
		for _, kv := range saved {
			require.NoError(t, b.Put(kv[0], kv[1]))
		}
		return nil
	})
	_, err := Open(path, Options{LockTimeout: 100e6})
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "keyspace idem holds 38 records")
}
