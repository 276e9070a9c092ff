package gamify_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// Tenant racing Close: every tenant engine handed out is closed by the
// parent's Close (its file lock released), a call after Close is ErrClosed,
// and no tenant file is ever opened outside the parent's directory.
func TestTenantRacingCloseIsClosedWithParent(t *testing.T) {
	ctx := context.Background()
	t.Chdir(t.TempDir()) // a lost path would put ./.tenants here
	cwd, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	for round := range 50 {
		path := filepath.Join(dir, "p"+string(rune('a'+round%26))+string(rune('a'+round/26))+".db")
		opts := gamify.Options{Clock: gamify.NewManualClock(t0), LockTimeout: 50 * time.Millisecond}
		eng, err := gamify.Open(path, &opts)
		require.NoError(t, err)
		_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
		require.NoError(t, err)

		var wg sync.WaitGroup
		got := make(chan *gamify.Engine, 8)
		for range 4 {
			wg.Go(func() {
				for range 2 {
					te, err := eng.Tenant("acme")
					if err != nil {
						require.ErrorIs(t, err, gamify.ErrClosed)
						continue
					}
					got <- te
				}
			})
		}
		require.NoError(t, eng.Close())
		wg.Wait()
		close(got)
		for te := range got {
			_, err := te.Users().Get(ctx, "ana")
			require.ErrorIs(t, err, gamify.ErrClosed, "round %d: a tenant engine outlived its parent", round)
		}
		_, err = eng.Tenant("acme")
		require.ErrorIs(t, err, gamify.ErrClosed)
		// The tenant file, if a call opened it, is beside the parent's and
		// its lock is free: it opens at once.
		if _, err := os.Stat(path + ".tenants/acme.db"); err == nil {
			te, err := gamify.Open(path+".tenants/acme.db", &opts)
			require.NoError(t, err, "round %d", round)
			require.NoError(t, te.Close())
		}
	}
	entries, err := os.ReadDir(cwd)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is created in the working directory")
}
