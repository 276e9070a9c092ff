package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// TestVerifyAcceptsWhatBboltWrites runs random transactions through bbolt —
// nested and inline buckets, values from empty to several pages, deletes that
// make it merge pages, a synced freelist or none — and requires the
// verification to accept the file after each one, and bbolt's own Check to
// agree: the walk's extra rules (packed elements, exact overflow) hold for
// everything bbolt writes.
func TestVerifyAcceptsWhatBboltWrites(t *testing.T) {
	for _, noFreelistSync := range []bool{true, false} {
		t.Run(fmt.Sprintf("NoFreelistSync=%v", noFreelistSync), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "v.db")
			rng := rand.New(rand.NewPCG(1, uint64(len(path))))
			opts := &bolt.Options{NoFreelistSync: noFreelistSync, FreelistType: bolt.FreelistMapType}
			db, err := bolt.Open(path, 0o600, opts)
			require.NoError(t, err)
			defer func() { db.Close() }()
			names := [][]byte{[]byte("a"), []byte("b"), []byte("c/nested"), []byte("d")}
			for round := range 60 {
				require.NoError(t, db.Update(func(tx *bolt.Tx) error {
					for range 1 + rng.IntN(200) {
						b, err := tx.CreateBucketIfNotExists(names[rng.IntN(2)])
						if err != nil {
							return err
						}
						if rng.IntN(3) == 0 { // a nested bucket, inline while small
							if b, err = b.CreateBucketIfNotExists(names[2+rng.IntN(2)]); err != nil {
								return err
							}
						}
						k := binary.BigEndian.AppendUint32(nil, uint32(rng.IntN(3000)))
						if rng.IntN(3) == 0 {
							if err := b.Delete(k); err != nil && err != bolt.ErrIncompatibleValue {
								return err
							}
							continue
						}
						v := bytes.Repeat([]byte{byte(round)}, [...]int{0, 1, 40, 700, 5000, 13000}[rng.IntN(6)])
						if err := b.Put(k, v); err != nil && err != bolt.ErrIncompatibleValue {
							return err
						}
					}
					if round%10 == 9 { // empty a bucket, then drop one
						b := tx.Bucket(names[0])
						if b != nil {
							c := b.Cursor()
							for k, v := c.First(); k != nil; k, v = c.Next() {
								if v != nil {
									if err := c.Delete(); err != nil {
										return err
									}
								}
							}
						}
						if err := tx.DeleteBucket(names[1]); err != nil && err != bolt.ErrBucketNotFound {
							return err
						}
					}
					return nil
				}))
				require.NoError(t, db.Update(func(tx *bolt.Tx) error {
					for err := range tx.Check() {
						// Leaked pages (bbolt leaks the first freelist
						// page with NoFreelistSync) are not damage.
						if !strings.Contains(err.Error(), "unreachable unfreed") {
							return err
						}
					}
					return nil
				}))
				data, err := os.ReadFile(path) // bbolt holds the lock verifyPages takes
				require.NoError(t, err)
				require.NoError(t, verifyData(data), "round %d", round)
				if round%20 == 19 { // reopen: bbolt rebuilds or reads the freelist
					require.NoError(t, db.Close())
					db, err = bolt.Open(path, 0o600, opts)
					require.NoError(t, err)
				}
			}
			require.NoError(t, db.Close())
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Greater(t, fi.Size(), int64(1<<20), "the file holds a tree of several levels")
		})
	}
}

// TestVerifyRefusesDamagedStructure damages one field bbolt dereferences at a
// time — the kind of damage that panics inside bbolt.Open — and requires Open
// to fail with ErrCorrupt instead.
func TestVerifyRefusesDamagedStructure(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db, err := bolt.Open(good, 0o600, &bolt.Options{NoFreelistSync: false})
	require.NoError(t, err)
	var root, leaf, inline uint64
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		for i := range 2000 {
			if err := b.Put(binary.BigEndian.AppendUint32(nil, uint32(i)), []byte("value")); err != nil {
				return err
			}
		}
		if _, err := b.CreateBucket([]byte("small")); err != nil { // inline, in the last leaf
			return err
		}
		return b.Delete(binary.BigEndian.AppendUint32(nil, 7)) // a free page for the freelist
	}))
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		root = uint64(tx.Bucket([]byte("big")).Root())
		return nil
	}))
	require.NoError(t, db.Close())
	orig, err := os.ReadFile(good)
	require.NoError(t, err)
	require.NoError(t, verifyData(orig))
	m, err := newestMeta(orig)
	require.NoError(t, err)
	ps := uint64(m.pageSize)
	pg := func(b []byte, id uint64) []byte { return b[id*ps : (id+1)*ps] }
	require.Equal(t, uint16(branchFlag), binary.NativeEndian.Uint16(pg(orig, root)[8:]), "the bucket's root is a branch page")
	leaf = binary.NativeEndian.Uint64(pg(orig, root)[pageHeaderSize+8:]) // its first child
	last := binary.NativeEndian.Uint64(pg(orig, root)[pageHeaderSize+8+elemSize*(uint64(binary.NativeEndian.Uint16(pg(orig, root)[10:]))-1):])
	inline = last
	require.Equal(t, uint32(bucketLeafFlag), elemAt(pg(orig, last), true, int(binary.NativeEndian.Uint16(pg(orig, last)[10:]))-1).flags,
		"the last leaf ends with the inline bucket")
	require.NotEqual(t, noFreelist, m.freelist)

	put16 := func(b []byte, v uint16) { binary.NativeEndian.PutUint16(b, v) }
	put32 := func(b []byte, v uint32) { binary.NativeEndian.PutUint32(b, v) }
	put64 := func(b []byte, v uint64) { binary.NativeEndian.PutUint64(b, v) }
	get16 := func(b []byte) uint16 { return binary.NativeEndian.Uint16(b) }
	get32 := func(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }
	elem := func(p []byte, i int) []byte { return p[pageHeaderSize+elemSize*i:] }
	for name, damage := range map[string]func(b []byte){
		"header id":              func(b []byte) { put64(pg(b, leaf), leaf+1) },
		"flags":                  func(b []byte) { put16(pg(b, leaf)[8:], 0x20) },
		"freelist flags on tree": func(b []byte) { put16(pg(b, root)[8:], freelistFlag) },
		"count up":               func(b []byte) { p := pg(b, root); put16(p[10:], get16(p[10:])+1) },
		"count down":             func(b []byte) { p := pg(b, leaf); put16(p[10:], get16(p[10:])-1) },
		"empty branch":           func(b []byte) { put16(pg(b, root)[10:], 0) },
		"emptied leaf":           func(b []byte) { put16(pg(b, leaf)[10:], 0) },
		"byte after the layout":  func(b []byte) { pg(b, leaf)[ps-1] = 1 },
		"count past page":        func(b []byte) { put16(pg(b, leaf)[10:], 0xfff0) },
		"overflow":               func(b []byte) { put32(pg(b, leaf)[12:], 1) },
		"overflow past hwm":      func(b []byte) { put32(pg(b, leaf)[12:], 1<<31) },
		"element pos":            func(b []byte) { e := elem(pg(b, leaf), 0); put32(e[4:], get32(e[4:])+1) },
		"key size":               func(b []byte) { e := elem(pg(b, leaf), 1); put32(e[8:], get32(e[8:])+1000) },
		"empty key":              func(b []byte) { e := elem(pg(b, leaf), 1); put32(e[8:], 0) },
		"value past page":        func(b []byte) { p := pg(b, leaf); e := elem(p, int(get16(p[10:]))-1); put32(e[12:], 1<<30) },
		"leaf element flags":     func(b []byte) { put32(elem(pg(b, leaf), 2), 4) },
		"branch key size":        func(b []byte) { e := elem(pg(b, root), 0); put32(e[4:], 1<<31) },
		"child past hwm":         func(b []byte) { put64(elem(pg(b, root), 1)[8:], m.hwm+5) },
		"child is a meta page":   func(b []byte) { put64(elem(pg(b, root), 1)[8:], 1) },
		"cycle":                  func(b []byte) { put64(elem(pg(b, root), 1)[8:], root) },
		"child reached twice":    func(b []byte) { put64(elem(pg(b, root), 1)[8:], leaf) },
		"keys out of order": func(b []byte) {
			p := pg(b, leaf)
			e := elem(p, 3)
			k := p[pageHeaderSize+elemSize*3+uint64(get32(e[4:])):]
			k[0] = 0xff
		},
		"inline bucket page": func(b []byte) {
			p := pg(b, inline)
			e := elem(p, int(get16(p[10:]))-1)
			v := p[pageHeaderSize+elemSize*(uint64(get16(p[10:]))-1)+uint64(get32(e[4:]))+uint64(get32(e[8:])):]
			put16(v[bucketHeader+8:], branchFlag)
		},
		"bucket root past hwm": func(b []byte) {
			p := pg(b, inline)
			e := elem(p, int(get16(p[10:]))-1)
			v := p[pageHeaderSize+elemSize*(uint64(get16(p[10:]))-1)+uint64(get32(e[4:]))+uint64(get32(e[8:])):]
			put64(v, m.hwm)
		},
		"freelist lists a page in use": func(b []byte) {
			p := pg(b, m.freelist)
			put16(p[10:], get16(p[10:])+1)
			put64(p[pageHeaderSize+8*uint64(get16(p[10:])-1):], leaf)
		},
		"freelist count": func(b []byte) { put16(pg(b, m.freelist)[10:], 0xfff0) },
	} {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(orig)
			damage(b)
			require.ErrorIs(t, verifyData(b), ErrCorrupt)
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
			require.NoError(t, os.WriteFile(path, b, 0o600))
			_, err := Open(path, Options{LockTimeout: 100e6})
			require.ErrorIs(t, err, ErrCorrupt)
			t.Log(err)
		})
	}
}

// BenchmarkVerify measures the walk Open adds, on a file of a million keys in
// three keyspaces (like users, uids and state of a million users), or on the
// file named by GAMIFY_VERIFY_FILE.
func BenchmarkVerify(b *testing.B) {
	path := os.Getenv("GAMIFY_VERIFY_FILE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "v.db")
		db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true})
		require.NoError(b, err)
		for _, ks := range []string{"users", "uids", "state"} {
			for start := 0; start < 1_000_000; start += 100_000 {
				require.NoError(b, db.Update(func(tx *bolt.Tx) error {
					bk, err := tx.CreateBucketIfNotExists([]byte(ks))
					if err != nil {
						return err
					}
					bk.FillPercent = 1
					for i := start; i < start+100_000; i++ {
						if err := bk.Put(fmt.Appendf(nil, "user-%07d", i), bytes.Repeat([]byte{'v'}, 40)); err != nil {
							return err
						}
					}
					return nil
				}))
			}
		}
		require.NoError(b, db.Close())
	}
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifyPages(path, time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// A commit writes bbolt's freelist, so that the next Open reads it instead
// of walking every page; Compact's output has one too, and an Open of a
// file without one (written by another tool) writes nothing: it gets one at
// its first commit.
func TestCommitsKeepTheFreelist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	freelist := func() uint64 {
		t.Helper()
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		m, err := newestMeta(data)
		require.NoError(t, err)
		return m.freelist
	}
	db, err := Open(path, Options{LockTimeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *Tx) error { return tx.Put(State, []byte("k"), []byte("v")) }))
	require.NoError(t, db.Close())
	require.NotEqual(t, noFreelist, freelist(), "after a commit")

	require.NoError(t, Compact(path, time.Second))
	require.NotEqual(t, noFreelist, freelist(), "after Compact")

	b, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	require.NoError(t, err)
	require.NoError(t, b.Update(func(*bolt.Tx) error { return nil }))
	require.NoError(t, b.Close())
	require.Equal(t, noFreelist, freelist(), "another tool's commit without one")
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	db, err = Open(path, Options{LockTimeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(before, after), "Open writes nothing")
	db, err = Open(path, Options{LockTimeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *Tx) error { return tx.Put(State, []byte("k"), []byte("w")) }))
	require.NoError(t, db.Close())
	require.NotEqual(t, noFreelist, freelist(), "after the first commit")
}
