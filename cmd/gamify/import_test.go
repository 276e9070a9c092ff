package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportFailingEarlyLeavesNoDB: an import that fails before applying
// anything does not leave the db it created behind.
func TestImportFailingEarlyLeavesNoDB(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	writeLines(t, good, []string{`{"kind":"header","format":"gamify-export","version":1}`, `{"kind":"end"}`})
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	notJSON := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(notJSON, []byte("hello\n"), 0o600))
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"unknown tenant", []string{"--in", good, "--tenant", "nope"}, exitNotFound},
		{"empty file", []string{"--in", empty}, exitFailure},
		{"not JSON", []string{"--in", notJSON}, exitFailure},
		{"empty stdin", []string{"--in", "-"}, exitFailure},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdin = strings.NewReader("")
			defer func() { stdin = os.Stdin }()
			db := filepath.Join(t.TempDir(), "new.db")
			code, _, errs := runCmd(append([]string{"import", "--db", db}, c.args...)...)
			require.Equal(t, c.code, code, errs)
			require.NoFileExists(t, db)
			require.NoDirExists(t, db+".log")
			require.NoDirExists(t, db+".tenants")
		})
	}
	// A db that was there stays.
	db := filepath.Join(dir, "old.db")
	code, _, errs := runCmd("import", "--db", db, "--in", good)
	require.Equal(t, exitOK, code, errs)
	code, _, _ = runCmd("import", "--db", db, "--in", empty)
	require.Equal(t, exitFailure, code)
	require.FileExists(t, db)
}
