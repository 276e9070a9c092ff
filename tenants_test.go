package gamify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestTenantsAreIsolated(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	for _, k := range []string{"acme", "globex"} {
		_, err := eng.Tenants().Create(ctx, gamify.Tenant{Key: k, Name: k})
		require.NoError(t, err)
	}
	_, err := eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "again"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "bad key", Name: "x"})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// The same keys in both tenants: metric, user, idempotency key, board.
	values := map[string]float64{"acme": 10, "globex": 3}
	for k, v := range values {
		te, err := eng.Tenant(k)
		require.NoError(t, err)
		mustMetric(t, te, "xp")
		_, err = te.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "b", Name: "B", RankBy: gamify.RankByMetric, Metric: "xp"})
		require.NoError(t, err)
		_, err = te.Leaderboards().Activate(ctx, "b")
		require.NoError(t, err)
		r, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: v, IdempotencyKey: "k"})
		require.NoError(t, err)
		require.False(t, r.IdempotentReplayed, "a key used by another tenant is new here")
	}
	for k, v := range values {
		te, err := eng.Tenant(k)
		require.NoError(t, err)
		m, err := te.Users().Metric(ctx, "ana", "xp")
		require.NoError(t, err)
		require.Equal(t, gamify.AmountFromInt(int64(v)), m.Total)
		p, err := te.Leaderboards().Rankings(ctx, "b", gamify.BoardQuery{})
		require.NoError(t, err)
		require.Equal(t, []gamify.BoardRow{{Rank: 1, User: "ana", Score: gamify.AmountFromInt(int64(v))}}, p.Rows)
		require.NoError(t, te.Check(ctx))
	}
	_, err = eng.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound, "the root engine sees no tenant's users")

	list, err := eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NoError(t, eng.Tenants().Delete(ctx, "globex"))
	_, err = eng.Tenant("globex")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	list, err = eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, "acme", list[0].Key)
	require.Len(t, list, 1)

	// Tenant data survives a restart of the root engine.
	eng.reopen(t)
	te, err := eng.Tenant("acme")
	require.NoError(t, err)
	m, err := te.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "10", m.Total.String())
}

func tenantKeys(ts []gamify.Tenant) []string {
	out := []string{}
	for _, tn := range ts {
		out = append(out, tn.Key)
	}
	return out
}

func TestTenantsAdmin(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	out, issues, err := eng.Tenants().BulkCreate(ctx, []gamify.Tenant{
		{Key: "zeta", Name: "Zeta"},
		{Key: "bad key", Name: "Bad"},
		{Key: "alpha", Name: "Alpha", Status: gamify.StatusInactive},
		{Key: "zeta", Name: "Zeta again"},
		{Key: "gone", Name: "Gone", Status: gamify.StatusArchived},
		{Key: "mid", Name: ""},
		{Key: "mid", Name: "Mid"},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"zeta", "alpha", "mid"}, tenantKeys(out))
	require.Equal(t, gamify.StatusActive, out[0].Status)
	require.Equal(t, gamify.StatusInactive, out[1].Status)
	require.Len(t, issues, 4)
	for i, want := range []struct {
		index int
		field string
		err   error
	}{{1, "Tenant.Key", gamify.ErrInvalid}, {3, "", gamify.ErrConflict}, {4, "Tenant.Status", gamify.ErrInvalid}, {5, "Tenant.Name", gamify.ErrInvalid}} {
		require.Equal(t, want.index, issues[i].Index)
		require.ErrorIs(t, issues[i].Err, want.err)
		if want.field != "" {
			var ve *gamify.ValidationError
			require.ErrorAs(t, issues[i].Err, &ve)
			require.Equal(t, want.field, ve.Field)
		}
	}
	_, _, err = eng.Tenants().BulkCreate(ctx, make([]gamify.Tenant, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// List: creation order, inactive included, paged.
	list, err := eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"zeta", "alpha", "mid"}, tenantKeys(list))
	list, err = eng.Tenants().List(ctx, gamify.ListOptions{Limit: 1, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"alpha"}, tenantKeys(list))
	_, err = eng.Tenants().List(ctx, gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	patched, issues, err := eng.Tenants().BulkPatch(ctx, []string{"zeta", "nope", "alpha", "mid"}, func(tn *gamify.Tenant) {
		tn.Name += " Inc"
		if tn.Key == "mid" {
			tn.Key = "middle"
		}
	})
	require.NoError(t, err)
	require.Equal(t, []string{"zeta", "alpha"}, tenantKeys(patched))
	require.Equal(t, "Alpha Inc", patched[1].Name)
	require.Equal(t, gamify.StatusInactive, patched[1].Status, "kept")
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	require.Equal(t, 3, issues[1].Index)
	require.ErrorContains(t, issues[1].Err, "Tenant.Key")

	te, err := eng.Tenant("zeta")
	require.NoError(t, err)
	issues, err = eng.Tenants().BulkDelete(ctx, []string{"zeta", "nope", "zeta"})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound, "an archived tenant is not deleted again")
	_, err = te.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrClosed, "a deleted tenant's engine is closed")
	_, err = eng.Tenants().BulkDelete(ctx, nil)
	require.ErrorIs(t, err, gamify.ErrInvalid)

	eng.reopen(t)
	list, err = eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"alpha", "mid"}, tenantKeys(list))
	list, err = eng.Tenants().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"zeta", "alpha", "mid"}, tenantKeys(list))
	require.Equal(t, gamify.StatusArchived, list[0].Status)
	require.Equal(t, "Zeta Inc", list[0].Name)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "zeta", Name: "Zeta 2"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the key is never reused")
}

func TestTenantPatchAndLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	created, err := eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, created.Status)
	te, err := eng.Tenant("acme")
	require.NoError(t, err)
	mustMetric(t, te, "xp")
	_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 7})
	require.NoError(t, err)

	// Refused edits name their field and change nothing.
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Tenant){
		"Tenant.Key":     func(tn *gamify.Tenant) { tn.Key = "acme2" },
		"Tenant.Status":  func(tn *gamify.Tenant) { tn.Status = gamify.StatusInactive },
		"Tenant.Created": func(tn *gamify.Tenant) { tn.Created = tn.Created.Add(time.Hour) },
		"Tenant.Updated": func(tn *gamify.Tenant) { tn.Updated = tn.Updated.Add(time.Hour) },
		"Tenant.Name":    func(tn *gamify.Tenant) { tn.Name = "" },
	} {
		_, err := eng.Tenants().Patch(ctx, "acme", edit)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Tenants().Patch(ctx, "nope", func(*gamify.Tenant) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "x", Name: "X", Status: gamify.StatusLocked})
	require.ErrorContains(t, err, "Tenant.Status")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	eng.clock.Advance(time.Minute)
	tn, err := eng.Tenants().Patch(ctx, "acme", func(tn *gamify.Tenant) { tn.Name = "Acme Corp" })
	require.NoError(t, err)
	want := created
	want.Name, want.Updated = "Acme Corp", created.Updated.Add(time.Minute)
	require.Equal(t, want, tn, "only Name (and Updated) changed")
	got, err := eng.Tenants().Get(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, tn, got)

	// Deactivate: the open engine is closed, Tenant refuses it, the tenant
	// is listed and can be renamed; twice is not an error.
	tn, err = eng.Tenants().Deactivate(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, tn.Status)
	_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.ErrorIs(t, err, gamify.ErrClosed, "the open engine was closed")
	_, err = eng.Tenant("acme")
	require.ErrorIs(t, err, gamify.ErrConflict, "an inactive tenant is not opened")
	require.ErrorContains(t, err, "inactive")
	list, err := eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"acme"}, tenantKeys(list), "inactive tenants are listed")
	tn, err = eng.Tenants().Patch(ctx, "acme", func(tn *gamify.Tenant) { tn.Name = "Acme Ltd" })
	require.NoError(t, err, "an inactive tenant can be patched")
	require.Equal(t, gamify.StatusInactive, tn.Status)
	again, err := eng.Tenants().Deactivate(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, tn, again)
	eng.reopen(t)
	_, err = eng.Tenant("acme")
	require.ErrorIs(t, err, gamify.ErrConflict, "still inactive after a restart")
	tn, err = eng.Tenants().Activate(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, tn.Status)
	again, err = eng.Tenants().Activate(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, tn, again, "activating twice changes nothing")
	te, err = eng.Tenant("acme")
	require.NoError(t, err)
	m, err := te.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "7", m.Total.String(), "the data was kept while inactive")

	// Created inactive: not opened until activated.
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "later", Name: "Later", Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = eng.Tenant("later")
	require.ErrorIs(t, err, gamify.ErrConflict)

	// Delete archives: the engine is closed and refused, the file kept.
	require.NoError(t, eng.Tenants().Delete(ctx, "acme"))
	require.ErrorIs(t, eng.Tenants().Delete(ctx, "acme"), gamify.ErrNotFound)
	require.ErrorIs(t, eng.Tenants().Delete(ctx, "nope"), gamify.ErrNotFound)
	_, err = te.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrClosed)
	_, err = eng.Tenant("acme")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = os.Stat(filepath.Join(eng.path+".tenants", "acme.db"))
	require.NoError(t, err, "the data file is kept")
	_, err = eng.Tenants().Activate(ctx, "acme")
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived tenant stays archived")
	_, err = eng.Tenants().Patch(ctx, "acme", func(tn *gamify.Tenant) { tn.Name = "Back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)
	eng.reopen(t)
	got, err = eng.Tenants().Get(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	_, err = eng.Tenant("acme")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme again"})
	require.ErrorIs(t, err, gamify.ErrConflict)
}

// Concurrent creates of one key land in one batch: exactly one succeeds
// (tenants are read from the writer's catalog, not from the committed store).
func TestTenantConcurrentCreatesOfOneKey(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: fmt.Sprint("Acme ", i)})
			errs <- err
		}()
	}
	ok := 0
	for range 8 {
		if err := <-errs; err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, gamify.ErrConflict)
		}
	}
	require.Equal(t, 1, ok)
}

// Tenant files are named after keys; keys differing only in case would share
// a file on case-insensitive file systems, so the second is refused.
func TestTenantKeysDifferingInCaseAreRefused(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Tenants().Create(ctx, gamify.Tenant{Key: "Acme", Name: "Acme"})
	require.NoError(t, err)
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Other acme"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.ErrorContains(t, err, "only in case")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
}
