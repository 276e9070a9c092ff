package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestStatsCommand(t *testing.T) {
	path := seedDB(t)
	code, out, errs := runCmd("stats", "--db", path, "--json")
	require.Equal(t, exitOK, code, errs)
	var st gamify.Stats
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Equal(t, 2, st.BoardEntries, "ana and bo on the board")
	code, out, _ = runCmd("stats", "--db", path)
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "board entries")
	code, _, _ = runCmd("stats", "--db", filepath.Join(t.TempDir(), "none.db"))
	require.Equal(t, exitFailure, code, "stats never creates a file")
}

func TestBackupCommand(t *testing.T) {
	path := seedDB(t)
	out := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, errs := runCmd("backup", "--db", path, "--out", out)
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, stdout, "checked")

	ctx := context.Background()
	cp, err := gamify.Open(out, nil)
	require.NoError(t, err)
	m, err := cp.Users().Metric(ctx, "ana", "words")
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(7), m.Total)
	require.NoError(t, cp.Check(ctx))
	require.NoError(t, cp.Close())

	code, _, errs = runCmd("backup", "--db", path, "--out", out)
	require.Equal(t, exitFailure, code, "an existing --out is never overwritten")
	require.Contains(t, errs, "exists")
	code, _, _ = runCmd("backup", "--db", path)
	require.Equal(t, exitUsage, code)

	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	code, _, _ = runCmd("backup", "--db", path, "--out", filepath.Join(t.TempDir(), "b.db"))
	require.Equal(t, exitLocked, code, "a file a server holds is backed up over HTTP")
	require.NoError(t, eng.Close())
	left, err := filepath.Glob(filepath.Join(filepath.Dir(out), "*.tmp"))
	require.NoError(t, err)
	require.Empty(t, left, "no temporary file is left behind")
}

func TestMigrateCommand(t *testing.T) {
	gz, err := os.Open(filepath.Join("..", "..", "testdata", "v2", "game.db.gz"))
	require.NoError(t, err)
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "game.db")
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	code, out, errs := runCmd("migrate", "--db", path)
	require.Equal(t, exitOK, code, errs)
	require.Equal(t, "migrated "+path+"; the file as it was is at "+path+".v2.bak\n", out)
	bak, err := os.ReadFile(path + ".v2.bak")
	require.NoError(t, err)
	require.Equal(t, raw, bak)

	code, out, _ = runCmd("migrate", "--db", path)
	require.Equal(t, exitOK, code)
	require.Equal(t, path+" is up to date\n", out)
	code, _, _ = runCmd("check", "--db", path)
	require.Equal(t, exitOK, code)
	code, _, _ = runCmd("migrate", "--db", filepath.Join(t.TempDir(), "none.db"))
	require.Equal(t, exitFailure, code, "migrate never creates a file")
}

// TestReadTenantWithoutFile: a read command does not create the file of a
// tenant that has none yet (Engine.Tenant would): exit 3.
func TestReadTenantWithoutFile(t *testing.T) {
	path := seedDB(t)
	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	_, err = eng.Tenants().Create(context.Background(), gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	for _, args := range [][]string{
		{"user", "ana"}, {"board", "top"}, {"check"}, {"stats"}, {"export", "--out", filepath.Join(t.TempDir(), "x.jsonl")},
		{"backup", "--out", filepath.Join(t.TempDir(), "b.db")},
	} {
		code, _, errs := runCmd(append(args, "--db", path, "--tenant", "acme")...)
		require.Equal(t, exitNotFound, code, "%v: %s", args, errs)
		require.Contains(t, errs, `tenant "acme": not found`)
		require.NoDirExists(t, path+".tenants", args)
	}
}
