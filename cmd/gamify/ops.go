package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/gamifykit/gamify"
)

// statsDB prints the engine's counters and sizes just after Open (the
// counters of a running server are at GET /admin/v1/stats).
func statsDB(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("stats", stderr)
	db := fs.String("db", "", "the database `FILE`")
	tenant := fs.String("tenant", "", "this tenant's file (`KEY`)")
	asJSON := fs.Bool("json", false, "print Engine.Stats as JSON")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	root, eng, code := readOpen(*db, *tenant, stderr)
	if eng == nil {
		return code
	}
	defer root.Close()
	st := eng.Stats()
	if *asJSON {
		return writeJSON(stdout, st)
	}
	size := int64(-1)
	if fi, err := os.Stat(*db); err == nil && *tenant == "" {
		size = fi.Size()
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if size >= 0 {
		fmt.Fprintf(tw, "file\t%s\t%d bytes\n", *db, size)
	}
	fmt.Fprintf(tw, "board entries\t%d\t(unfinished runs, all groups)\n", st.BoardEntries)
	fmt.Fprintf(tw, "users cached\t%d\n", st.UsersCached)
	fmt.Fprintf(tw, "jobs run at open\t%d\t(%d failed, %d collapsed)\n", st.JobsRun, st.JobsFailed, st.JobsCollapsed)
	fmt.Fprintf(tw, "tenants open\t%d\n", st.Tenants)
	return flushed(tw)
}

func flushed(tw *tabwriter.Writer) int {
	if err := tw.Flush(); err != nil {
		return exitFailure
	}
	return exitOK
}

// backupDB writes a consistent copy of the database to --out, through the
// engine (Engine.Backup): the copy is written to a temporary file beside
// --out, synced, checked by opening it, then renamed into place. A file
// held by a running serve is backed up with GET /admin/v1/backup instead.
func backupDB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("backup", stderr)
	db := fs.String("db", "", "the database `FILE`")
	tenant := fs.String("tenant", "", "back up this tenant's file (`KEY`)")
	out := fs.String("out", "", "where to write the copy (`FILE`; must not exist)")
	forced := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "gamify: --out FILE is required")
		return exitUsage
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(stderr, "gamify: %s exists: backup never overwrites a file\n", *out)
		return exitFailure
	}
	root, eng, code := readOpen(*db, *tenant, stderr)
	if eng == nil {
		return code
	}
	defer root.Close()
	start := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".*.tmp")
	if err != nil {
		return failed(stderr, err)
	}
	defer os.Remove(tmp.Name())
	// The copy is about the size of the file (a tenant's file is not ours
	// to find: then bytes and rate only).
	var size int64
	if fi, err := os.Stat(*db); err == nil && *tenant == "" {
		size = fi.Size()
	}
	prog := newProgress(stderr, progressOn(stderr, *forced, false), "backup", "", size).tick()
	err = eng.Backup(ctx, countingWriter{tmp, prog})
	prog.finish(err == nil)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = verifyCopy(ctx, tmp.Name())
	}
	if err == nil {
		// Link, unlike Rename, never replaces a file that appeared meanwhile.
		err = os.Link(tmp.Name(), *out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gamify: backup %s: %v\n", *db, err)
		return exitFailure
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return failed(stderr, err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %d bytes in %v, checked\n", *db, *out, fi.Size(), time.Since(start).Round(time.Millisecond))
	return exitOK
}

// verifyCopy opens the copy at path and runs Check on it.
func verifyCopy(ctx context.Context, path string) error {
	cp, err := gamify.Open(path, &gamify.Options{LockTimeout: time.Second})
	if err != nil {
		return fmt.Errorf("the copy does not open: %w", err)
	}
	if err := cp.Check(ctx); err != nil {
		cp.Close()
		return fmt.Errorf("the copy does not check: %w", err)
	}
	return cp.Close()
}

// migrateDB opens the file, which upgrades an older schema in place after
// writing its backup (FILE.vN.bak), and says what happened.
func migrateDB(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("migrate", stderr)
	db := fs.String("db", "", "the database `FILE`")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	if *db == "" {
		fmt.Fprintln(stderr, "gamify: --db FILE is required")
		return exitUsage
	}
	if _, err := os.Stat(*db); err != nil {
		return failed(stderr, err)
	}
	before := backups(*db)
	eng, code := openDB(*db, &gamify.Options{LockTimeout: 2 * time.Second}, stderr)
	if eng == nil {
		return code
	}
	if err := eng.Close(); err != nil {
		return failed(stderr, err)
	}
	for b := range backups(*db) {
		if !before[b] {
			fmt.Fprintf(stdout, "migrated %s; the file as it was is at %s\n", *db, b)
			return exitOK
		}
	}
	fmt.Fprintf(stdout, "%s is up to date\n", *db)
	return exitOK
}

// backups is the set of migration backups beside path.
func backups(path string) map[string]bool {
	m, _ := filepath.Glob(path + ".v*.bak")
	set := map[string]bool{}
	for _, b := range m {
		set[b] = true
	}
	return set
}
