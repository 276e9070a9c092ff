package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gamifykit/gamify"
)

// replayDB rolls a database forward with a command log: the log of a
// crashed engine, or one kept beside a backup (point-in-time recovery). The
// log's segments are copied beside the file (FILE.log), the file is opened,
// which replays every command its checkpoint lacks, and closed, which folds
// them in. A log that does not continue the file's checkpoint is refused
// (exit 1) and the file is left as it was.
func replayDB(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", stderr)
	db := fs.String("db", "", "the database `FILE`")
	logDir := fs.String("log", "", "a command log `DIR` to apply (default: the file's own FILE.log, after a crash)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
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
	own := *db + ".log"
	if *logDir != "" {
		if abs(*logDir) == abs(own) {
			*logDir = ""
		} else if _, err := os.Stat(own); err == nil {
			fmt.Fprintf(stderr, "gamify: %s already has a command log (%s): replay it first (gamify replay --db %s)\n", *db, own, *db)
			return exitFailure
		}
	}
	if *logDir != "" {
		// A directory without a segment is not a log: opening would only
		// rewrite the file and say "replayed 0".
		if segs, err := filepath.Glob(filepath.Join(*logDir, "*.log")); err == nil && len(segs) == 0 {
			if _, err := os.Stat(*logDir); err != nil {
				return failed(stderr, err)
			}
			fmt.Fprintf(stderr, "gamify: --log %s: no log to replay (no *.log segment in it)\n", *logDir)
			return exitFailure
		}
		if err := copyLog(*logDir, own); err != nil {
			os.RemoveAll(own)
			return failed(stderr, err)
		}
	} else if _, err := os.Stat(own); err != nil {
		fmt.Fprintf(stderr, "gamify: %s has no command log to replay (%s)\n", *db, own)
		return exitFailure
	}
	start := time.Now()
	eng, code := openDB(*db, &gamify.Options{LockTimeout: 2 * time.Second}, stderr)
	if eng == nil {
		if *logDir != "" {
			os.RemoveAll(own) // the copy only: the file is as it was
		}
		return code
	}
	st := eng.Stats()
	if err := eng.Close(); err != nil {
		return failed(stderr, err)
	}
	took := time.Since(start)
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(map[string]any{"replayed": st.Replayed, "failed": st.ReplayFailed,
			"position": st.LogPosition, "seconds": took.Seconds()})
	} else {
		fmt.Fprintf(stdout, "replayed %d commands into %s (position %d) in %v\n", st.Replayed, *db, st.LogPosition, took.Round(time.Millisecond))
	}
	if st.ReplayFailed > 0 {
		fmt.Fprintf(stderr, "gamify: %d commands failed at replay (logged above)\n", st.ReplayFailed)
		return exitFailure
	}
	return exitOK
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// copyLog copies the segment files of a command log directory.
func copyLog(from, to string) error {
	ents, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	if err := os.Mkdir(to, 0o700); err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() || filepath.Ext(e.Name()) != ".log" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
