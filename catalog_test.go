package gamify

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/store"
)

// A damaged definition whose ref is huge is refused: the catalogue's loops
// over 1..last ref would otherwise run for billions of steps (or, at the
// uint32 maximum, for ever).
func TestLoadCatalogRefusesHugeRef(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "c.db"), store.Options{LockTimeout: time.Second, NoSync: true})
	require.NoError(t, err)
	defer db.Close()
	for _, rec := range []string{`{"Key":"x","Name":"X","RankBy":"score","Status":"active","Start":"2026-01-01","Ref":4294967295}`,
		`{"Key":"x","Name":"X","RankBy":"score","Status":"active","Start":"2026-01-01","Ref":16777217}`} {
		require.NoError(t, db.Update(func(tx *store.Tx) error {
			return tx.Put(store.Definitions, []byte("leaderboard/x"), []byte(rec))
		}))
		err := db.View(func(tx *store.Tx) error {
			_, err := loadCatalog(tx, time.UTC)
			return err
		})
		require.ErrorIs(t, err, ErrCorrupt, rec)
		require.ErrorContains(t, err, "beyond", rec)
	}
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		return tx.Put(store.Definitions, []byte("leaderboard/x"), []byte(`{"Key":"x","Name":"X","RankBy":"score","Status":"active","Start":"2026-01-01","Ref":16777216}`))
	}))
	require.NoError(t, db.View(func(tx *store.Tx) error { _, err := loadCatalog(tx, time.UTC); return err }), "the largest allowed ref loads")
}
