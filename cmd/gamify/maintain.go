package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gamifykit/gamify"
)

// checkReport is what "gamify check --json" prints.
type checkReport struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
}

// checkDB runs Engine.Check: every invariant of the stored data.
func checkDB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	db := fs.String("db", "", "the database `FILE`")
	tenant := fs.String("tenant", "", "check this tenant's file (`KEY`)")
	asJSON := fs.Bool("json", false, `print {"ok", "problems"}`)
	forced := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	root, eng, code := readOpen(*db, *tenant, stderr)
	if eng == nil {
		return code
	}
	defer root.Close()
	// Check reports no progress: a spinner and the elapsed time.
	prog := newProgress(stderr, progressOn(stderr, *forced, *asJSON), "check", "", 0).tick()
	err := eng.Check(ctx)
	prog.finish(err == nil || (!errors.Is(err, gamify.ErrClosed) && ctx.Err() == nil))
	if err != nil && (errors.Is(err, gamify.ErrClosed) || ctx.Err() != nil) {
		return failed(stderr, err)
	}
	rep := checkReport{OK: err == nil, Problems: []string{}}
	if err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				rep.Problems = append(rep.Problems, e.Error())
			}
		} else {
			rep.Problems = append(rep.Problems, err.Error())
		}
	}
	if *asJSON {
		writeJSON(stdout, rep)
	} else if rep.OK {
		fmt.Fprintln(stdout, "ok")
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p)
		}
	}
	if !rep.OK {
		return exitProblems
	}
	return exitOK
}

// compactDB rewrites a closed database with live data only (gamify.Compact).
func compactDB(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("compact", stderr)
	db := fs.String("db", "", "the database `FILE` (no other process may hold it)")
	forced := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	if *db == "" {
		fmt.Fprintln(stderr, "gamify: --db FILE is required")
		return exitUsage
	}
	before, err := os.Stat(*db)
	if err != nil {
		fmt.Fprintf(stderr, "gamify: %v\n", err)
		return exitFailure
	}
	// Compact's lock wait is not reported as ErrLocked: probe the lock first
	// with an Open, which is.
	probe, code := openDB(*db, &gamify.Options{LockTimeout: time.Second}, stderr)
	if probe == nil {
		return code
	}
	if err := probe.Close(); err != nil {
		return failed(stderr, err)
	}
	prog := newProgress(stderr, progressOn(stderr, *forced, false), "compact", "", 0).tick()
	err = gamify.Compact(*db)
	prog.finish(err == nil)
	if err != nil {
		fmt.Fprintf(stderr, "gamify: compact %s: %v\n", *db, err)
		return exitFailure
	}
	after, err := os.Stat(*db)
	if err != nil {
		fmt.Fprintf(stderr, "gamify: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "compacted %s: %d bytes, was %d\n", *db, after.Size(), before.Size())
	return exitOK
}
