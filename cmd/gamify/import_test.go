package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gamifykit/gamify"
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

// TestImportMissingFields: a line without a field its kind needs stops the
// import, naming the line and the field.
func TestImportMissingFields(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.jsonl")
	header := `{"kind":"header","format":"gamify-export","version":1}`
	metric := `{"kind":"metric","data":{"Key":"words","Name":"Words"}}`
	ev := `{"kind":"event","user":"ana","metric":"words","amount":"1","time":"2026-11-30T10:00:00Z","key":"e1"}`
	for _, c := range []struct{ line, want string }{
		{`{"kind":"user"}`, "line 3: the user line needs data; it has no data"},
		{`{"kind":"metric"}`, "line 3: the metric line needs data; it has no data"},
		{`{"kind":"preferences","data":{}}`, "line 3: the preferences line needs user, data; it has no user"},
		{`{"kind":"league-results","data":[]}`, "line 3: the league-results line needs league, user, data; it has no league, user"},
		{`{"kind":"challenges","data":[]}`, "line 3: the challenges line needs user, data; it has no user"},
		{`{"kind":"league-run","data":{}}`, "line 3: the league-run line needs league, data; it has no league"},
		{`{"kind":"milestones","data":[]}`, "line 3: the milestones line needs streak, data; it has no streak"},
		{`{"kind":"event","user":"ana","metric":"words","amount":"1","time":"2026-11-30T10:00:00Z"}`, "line 3: the event line needs metric, user, amount, time, key; it has no key"},
		{`{"kind":"event","user":"ana","metric":"words","amount":"1","key":"e1"}`, "line 3: the event line needs metric, user, amount, time, key; it has no time"},
		{`{"kind":"award","user":"ana","amount":"1","key":"a"}`, "line 3: the award line needs system, user, amount, key; it has no system"},
		{`{"kind":"claim","user":"ana","key":"c"}`, "line 3: the claim line needs reward, user, key; it has no reward"},
		{`{"kind":"completion","user":"ana"}`, "line 3: the completion line needs achievement, user; it has no achievement"},
		{`{"kind":"pin","user":"ana","system":"xp"}`, "line 3: the pin line needs system, user, level; it has no level"},
	} {
		writeLines(t, in, []string{header, metric, c.line, `{"kind":"end"}`})
		code, _, errs := runCmd("import", "--db", filepath.Join(t.TempDir(), "g.db"), "--in", in)
		require.Equal(t, exitFailure, code, c.line)
		require.Contains(t, errs, c.want, c.line)
	}
	// A bad event line says which pending lines its chunk loses.
	writeLines(t, in, []string{header, metric, ev, `{"kind":"event","user":"ana","metric":"words","amount":"1","key":"e2"}`})
	code, _, errs := runCmd("import", "--db", filepath.Join(t.TempDir(), "g.db"), "--in", in)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errs, "line 4: the event line needs metric, user, amount, time, key; it has no time (lines 3 to 4, a batch, are not applied)")
}

// TestImportEndCounts: an end line whose counts differ from the lines read
// (lines lost from the middle) fails the import, naming the kind.
func TestImportEndCounts(t *testing.T) {
	path := seedGame(t)
	out := filepath.Join(t.TempDir(), "game.jsonl")
	code, _, errs := runCmd("export", "--db", path, "--out", out)
	require.Equal(t, exitOK, code, errs)
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	var kept []string
	dropped := 0
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if strings.Contains(l, `"kind":"event"`) && dropped < 2 {
			dropped++
			continue
		}
		kept = append(kept, l)
	}
	require.Equal(t, 2, dropped)
	writeLines(t, out+".cut", kept)
	code, _, errs = runCmd("import", "--db", filepath.Join(t.TempDir(), "new.db"), "--in", out+".cut")
	require.Equal(t, exitFailure, code, errs)
	require.Contains(t, errs, "the end line's counts differ from the lines read (event: 5 in the end line, 3 read)")
	require.Contains(t, errs, "what came before is applied, statuses are not")
	// The whole export imports.
	code, _, errs = runCmd("import", "--db", filepath.Join(t.TempDir(), "new.db"), "--in", out)
	require.Equal(t, exitOK, code, errs)
}

// TestImportFailingEarlyLeavesNoTenantFile: an import into a tenant whose
// file it had to create, failing before applying anything, removes that
// file and keeps the db; a tenant file that was there stays.
func TestImportFailingEarlyLeavesNoTenantFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "g.db")
	eng, err := gamify.Open(db, nil)
	require.NoError(t, err)
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	tdb := filepath.Join(db+".tenants", "acme.db")

	code, _, errs := runCmd("import", "--db", db, "--tenant", "acme", "--in", empty)
	require.Equal(t, exitFailure, code, errs)
	require.FileExists(t, db)
	require.NoFileExists(t, tdb)
	require.NoDirExists(t, tdb+".log")

	good := filepath.Join(dir, "good.jsonl")
	writeLines(t, good, []string{`{"kind":"header","format":"gamify-export","version":1}`, `{"kind":"end"}`})
	code, _, errs = runCmd("import", "--db", db, "--tenant", "acme", "--in", good)
	require.Equal(t, exitOK, code, errs)
	require.FileExists(t, tdb)
	code, _, _ = runCmd("import", "--db", db, "--tenant", "acme", "--in", empty)
	require.Equal(t, exitFailure, code)
	require.FileExists(t, tdb, "a tenant file that was there stays")
}
