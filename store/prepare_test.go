package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A prepared update is seen by nobody until Install, and a discarded one
// leaves nothing: no record, no position, no change to the digests. Until
// either, another update waits.
func TestPrepareAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path, Options{LockTimeout: 1e9, Staged: true})
	require.NoError(t, err)
	defer func() { db.Close() }()
	get := func(k string) []byte {
		var v []byte
		require.NoError(t, db.View(func(tx *Tx) error { v = tx.Get(State, []byte(k)); return nil }))
		return v
	}
	digest := func() []byte {
		var v []byte
		require.NoError(t, db.View(func(tx *Tx) error { v = append(v, tx.digestRecord()...); return nil }))
		i := index(State) // the count and sum of State: Meta's change with the position
		return v[16*i : 16*i+16]
	}
	put := func(k string) func(*Tx) error {
		return func(tx *Tx) error { return tx.Put(State, []byte(k), []byte("v"+k)) }
	}
	require.NoError(t, db.UpdateAt(1, put("a")))
	before := digest()

	p, err := db.PrepareAt(2, put("b"))
	require.NoError(t, err)
	require.Nil(t, get("b"), "not seen before Install")
	require.EqualValues(t, 1, db.Position())
	updated := make(chan error, 1)
	go func() { updated <- db.UpdateAt(3, put("c")) }()
	select {
	case err := <-updated:
		t.Fatalf("an update ran while one was prepared: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	p.Discard()
	require.NoError(t, <-updated)
	require.Nil(t, get("b"), "a discarded update leaves nothing")
	require.Equal(t, []byte("vc"), get("c"))
	require.EqualValues(t, 3, db.Position())

	require.NoError(t, db.UpdateAt(4, func(tx *Tx) error { return tx.Delete(State, []byte("c")) }))
	require.Equal(t, before, digest(), "the digests of State count a and nothing of b")

	p, err = db.PrepareAt(5, put("d"))
	require.NoError(t, err)
	p.Install()
	require.Equal(t, []byte("vd"), get("d"))
	require.EqualValues(t, 5, db.Position())

	_, err = db.PrepareAt(6, func(*Tx) error { return errors.New("no") })
	require.Error(t, err)
	require.NoError(t, db.UpdateAt(6, put("e")), "a failed prepare holds nothing")
	_, err = db.PrepareAt(5, put("f"))
	require.ErrorContains(t, err, "before", "positions do not go back")

	_, err = db.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, Options{LockTimeout: 1e9, Staged: true})
	require.NoError(t, err)
	require.Nil(t, get("b"))
	require.Equal(t, []byte("vd"), get("d"))
	// Open compared the digests record with the page walk: the fold kept them exact.
}
