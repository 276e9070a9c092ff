package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

// Exit codes scripts can rely on (docs/cli.md).
const (
	exitOK       = 0 // done
	exitFailure  = 1 // the command failed (I/O, a damaged file, a server error)
	exitUsage    = 2 // bad command line, flags or key configuration
	exitNotFound = 3 // the user, board or tenant asked for does not exist
	exitLocked   = 4 // another process holds the database (a running serve?)
	exitProblems = 5 // check found violations of the stored data's invariants
)

const usage = `gamify - an embedded gamification engine, from the shell

Usage:
  gamify serve --db FILE [--addr ADDR] [--keys FILE] [flags]
  gamify user ID --db FILE [--tenant KEY] [--json]
  gamify board KEY --db FILE [--tenant KEY] [--run DATE] [--group G] [--offset N] [--limit N] [--json]
  gamify check --db FILE [--tenant KEY] [--json] [--progress]
  gamify compact --db FILE [--progress]
  gamify stats --db FILE [--tenant KEY] [--json]
  gamify backup --db FILE --out FILE [--tenant KEY] [--progress]
  gamify migrate --db FILE
  gamify export --db FILE [--tenant KEY] [--out FILE|-] [--json] [--progress]
  gamify import --db FILE [--tenant KEY] [--in FILE|-] [--json] [--progress]
  gamify replay --db FILE [--log DIR] [--json]
  gamify help [COMMAND]

Commands:
  serve   serve the database over HTTP: Trophy's API under /v1 and /admin/v1,
          Bricqs' admin API under /api/v1/gamify/admin (see docs/http.md)
  user    print a user's profile, totals, points, streaks and achievements
  board   print a page of a leaderboard's standings
  check   verify every invariant of the stored data (totals = ledger, indexes, claims)
  compact rewrite the file with live data only (erased users' bytes are gone); offline
  stats   print the engine's sizes after Open (a server's counters: GET /admin/v1/stats)
  backup  write a consistent copy, synced and checked before it is named --out
          (while serve holds the file: GET /admin/v1/backup)
  migrate upgrade a file of an older schema in place, after a backup beside it
  export  write definitions, users and the ledger's events as JSON Lines
  import  apply an export through the engine; running it again changes nothing
  replay  roll the file forward with its command log (after a crash) or with a
          log DIR kept from the engine a backup came from; offline

API keys for serve come from --keys FILE (or $GAMIFY_KEYS_FILE), a JSON file
  {"keys": [{"key": "SECRET", "name": "ops", "scopes": ["admin"]},
            {"key": "SECRET2", "name": "game", "tenant": "acme"}]}
and from $GAMIFY_ADMIN_KEYS and $GAMIFY_APP_KEYS (comma-separated secrets,
with the admin scope or none). serve refuses to start without a key.

Examples:
  GAMIFY_ADMIN_KEYS=s3cret gamify serve --db game.db --addr 127.0.0.1:8080
  gamify serve --db game.db --addr :8080 --keys keys.json --buffered
  gamify user ana --db game.db --json | jq .Points
  gamify board weekly-xp --db game.db --run 2026-03-02 --limit 20
  gamify check --db game.db || echo "damaged: restore a backup"
  gamify backup --db game.db --out backups/game-2026-12-01.db
  curl -fsS -H "X-API-Key: $ADMIN" http://127.0.0.1:8080/admin/v1/backup -o game-copy.db
  gamify export --db game.db --out game.jsonl && gamify import --db new.db --in game.jsonl

Long work (import, export, check, compact, backup) shows a progress line on stderr
when it is a terminal, or with --progress; never with --json.

Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 database in use,
5 check found problems.
`

// commandHelp is "gamify help COMMAND" for the commands with more to say
// than their flags.
var commandHelp = map[string]string{
	"export": `gamify export --db FILE [--tenant KEY] [--out FILE|-] [--json] [--progress]

Writes the database (or a tenant's) as JSON Lines, one object a line with a
"kind": a header {"kind":"header","format":"gamify-export","version":1,...};
every definition, what it needs first (attribute, metric, points, level,
streak, achievement, trigger, boost, leaderboard, league, reward, the
streaks' milestones, challenge, tenant); every user with their preferences,
league-results and challenges; the league-run lines; the ledger in
sequence order (event, award, spend, claim lines, each with an idempotency
key: the caller's, or gamify-export:SEQ); manual achievement completions and
pinned levels; and {"kind":"end","counts":{...}}. Trigger awards, milestone
and bundle grants and claim debits are left out: import pays them again. Not
carried: event attributes (the ledger does not keep them), reward codes,
score submissions, streak freezes and pauses, the outbox. docs/cli.md lists
it all.

--out defaults to stdout (the summary then goes to stderr); an existing
--out is never replaced.

Examples:
  gamify export --db game.db --out game.jsonl
  gamify export --db game.db --tenant acme | gzip > acme.jsonl.gz
  gamify export --db game.db --out - | jq -c 'select(.kind=="event")' | wc -l
`,
	"import": `gamify import --db FILE [--tenant KEY] [--in FILE|-] [--json] [--progress]

Applies an export through the engine, in order: definitions with Create (a
stored one holding what the line sets is fine; a different one is an error
naming the line and the fields), users, then events with TrackBatch in chunks of up to 1000
and the other ledger lines one by one, all with their idempotency keys; the
end line then gives definitions and users their inactive, archived, locked
or finished status. Running an import again changes nothing.

A bad line stops the import with its line number (exit 1): what was applied
before the line's chunk stays (re-running after a fix is safe), nothing from
its chunk on is applied. A file without its end line is an error too, once
everything in it is applied. --db is created if missing; --tenant must exist.
The import runs in Buffered mode and flushes before it reports.

Examples:
  gamify import --db new.db --in game.jsonl
  gunzip -c acme.jsonl.gz | gamify import --db game.db --tenant acme
  gamify import --db new.db --in game.jsonl --json | jq .events_per_second
`,
	"replay": `gamify replay --db FILE [--log DIR] [--json]

Rolls the file forward with a command log and folds it in. Without --log it
replays the file's own log (FILE.log, left by an engine that did not Close:
any Open does the same; replay says how much). With --log DIR it copies the
log's segments beside the file first: a log copied from the engine the file
came from, which must continue the file's checkpoint position, or the copy
is refused (exit 1) and removed, the file left as it was. A file that
already has a log of its own must replay it first.

Examples:
  gamify replay --db game.db
  gamify replay --db restored.db --log saved/game.db.log --json | jq .replayed
`,
}

// commands are the commands run knows.
var commands = []string{"serve", "user", "board", "check", "compact", "stats", "backup", "migrate", "export", "import", "replay"}

// listening, when set (by tests), is told the address serve listens on.
var listening func(addr string)

// run executes one command line and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if h, ok := commandHelp[args[1]]; ok {
				fmt.Fprint(stdout, h)
				return exitOK
			}
			if !slices.Contains(commands, args[1]) {
				fmt.Fprintf(stderr, "gamify: unknown command %q\n", args[1])
				return exitUsage
			}
			run(ctx, []string{args[1], "-h"}, stdout, stdout, getenv) // its flags
			return exitOK
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	case "serve":
		return serve(ctx, args[1:], stderr, getenv)
	case "user":
		return readUser(ctx, args[1:], stdout, stderr)
	case "board":
		return readBoard(ctx, args[1:], stdout, stderr)
	case "check":
		return checkDB(ctx, args[1:], stdout, stderr)
	case "compact":
		return compactDB(args[1:], stdout, stderr)
	case "stats":
		return statsDB(args[1:], stdout, stderr)
	case "backup":
		return backupDB(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateDB(args[1:], stdout, stderr)
	case "export":
		return exportDB(ctx, args[1:], stdout, stderr)
	case "replay":
		return replayDB(args[1:], stdout, stderr)
	case "import":
		return importDB(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "gamify: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// newFlags returns a flag set that prints the usage on -h and reports
// errors to stderr (exit code 2 is the caller's).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gamify "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of gamify %s:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nRun \"gamify help\" for every command and examples.\n")
	}
	return fs
}

// parse parses flags that may come before or after the positional
// arguments (gamify user ana --db x, or gamify user --db x ana).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseNoArgs parses the flags of a command without positional arguments
// and reports a stray one: false means exit 2, with stderr told why.
func parseNoArgs(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), pos[0])
	}
	return err == nil && len(pos) == 0
}

// keyFile is the format of --keys.
type keyFile struct {
	Keys []httpapi.Key `json:"keys"`
}

// loadKeys gathers the keys of --keys (or $GAMIFY_KEYS_FILE) and of
// $GAMIFY_ADMIN_KEYS and $GAMIFY_APP_KEYS.
func loadKeys(path string, getenv func(string) string) ([]httpapi.Key, error) {
	var keys []httpapi.Key
	var where []string // where keys[i] comes from, for errors
	if path == "" {
		path = getenv("GAMIFY_KEYS_FILE")
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var kf keyFile
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kf); err != nil {
			return nil, fmt.Errorf("keys file %s: %w", path, err)
		}
		for i, k := range kf.Keys {
			if k.Secret == "" {
				return nil, fmt.Errorf("keys file %s: keys[%d].key is empty", path, i)
			}
			// httpapi.New refuses it too; here, before the db is opened, naming the file.
			if k.User != "" && (slices.Contains(k.Scopes, httpapi.ScopeAdmin) || slices.Contains(k.Scopes, httpapi.ScopeGamifyAdmin)) {
				return nil, fmt.Errorf("keys file %s: keys[%d]: an admin key cannot be confined to a user (user %q)", path, i, k.User)
			}
			where = append(where, fmt.Sprintf("keys[%d] of keys file %s", i, path))
		}
		keys = kf.Keys
	}
	for _, env := range []struct {
		name   string
		scopes []string
	}{{"GAMIFY_ADMIN_KEYS", []string{httpapi.ScopeAdmin}}, {"GAMIFY_APP_KEYS", nil}} {
		for i, s := range strings.Split(getenv(env.name), ",") {
			if s = strings.TrimSpace(s); s != "" {
				label := fmt.Sprintf("$%s[%d]", env.name, i)
				keys = append(keys, httpapi.Key{Secret: s, Name: label[1:], Scopes: env.scopes})
				where = append(where, label)
			}
		}
	}
	// Name keys by where they come from: a file's may have no name.
	seen := map[string]int{}
	for i, k := range keys {
		if j, ok := seen[k.Secret]; ok {
			return nil, fmt.Errorf("the key of %s is given twice (%s has it too)", where[i], where[j])
		}
		seen[k.Secret] = i
	}
	if len(keys) == 0 {
		return nil, errors.New("no API keys: give --keys FILE, $GAMIFY_KEYS_FILE, $GAMIFY_ADMIN_KEYS or $GAMIFY_APP_KEYS")
	}
	return keys, nil
}

// openDB opens the database; ErrLocked becomes exitLocked.
func openDB(path string, opts *gamify.Options, stderr io.Writer) (*gamify.Engine, int) {
	if path == "" {
		fmt.Fprintln(stderr, "gamify: --db FILE is required")
		return nil, exitUsage
	}
	eng, err := gamify.Open(path, opts)
	switch {
	case errors.Is(err, gamify.ErrLocked):
		fmt.Fprintf(stderr, "gamify: %s is in use by another process (a running gamify serve?): %v\n", path, err)
		return nil, exitLocked
	case err != nil:
		fmt.Fprintf(stderr, "gamify: open %s: %v\n", path, err)
		return nil, exitFailure
	}
	return eng, exitOK
}

func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	fs := newFlags("serve", stderr)
	db := fs.String("db", "", "the database `FILE` (created if missing)")
	addr := fs.String("addr", "127.0.0.1:8080", "the `ADDR`ess to listen on, host:port")
	keysPath := fs.String("keys", "", "a JSON `FILE` of API keys (default $GAMIFY_KEYS_FILE)")
	maxBody := fs.Int64("max-body", httpapi.MaxBodyBytesDefault, "the largest request body, in `bytes`")
	buffered := fs.Bool("buffered", false, "answer writes once applied, committing within 10 ms (default: once on disk)")
	grace := fs.Duration("shutdown-timeout", 10*time.Second, "how long requests in flight may finish on SIGINT or SIGTERM")
	if !parseNoArgs(fs, args, stderr) {
		return exitUsage
	}
	// Bad flags are refused before the db is opened (and maybe created).
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		fmt.Fprintf(stderr, "gamify serve: --addr %q: %v\n", *addr, err)
		return exitUsage
	}
	if *maxBody < 1 {
		fmt.Fprintf(stderr, "gamify serve: --max-body %d: must be at least 1\n", *maxBody)
		return exitUsage
	}
	keys, err := loadKeys(*keysPath, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "gamify serve: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := &gamify.Options{Logger: log}
	if *buffered {
		opts.Durability = gamify.Buffered
	}
	if *db == "" {
		fmt.Fprintln(stderr, "gamify: --db FILE is required")
		return exitUsage
	}
	// Listen first: an address that cannot be had must not leave a new db.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "gamify serve: %v\n", err)
		return exitFailure
	}
	eng, code := openDB(*db, opts, stderr)
	if eng == nil {
		ln.Close()
		return code
	}
	// Close runs last, after the server stopped taking requests.
	defer func() {
		if err := eng.Close(); err != nil {
			log.Error("close", "err", err)
		}
	}()
	h, err := httpapi.New(eng, httpapi.Options{Keys: keys, MaxBodyBytes: *maxBody, Logger: log})
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "gamify serve: %v\n", err)
		return exitUsage
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "db", *db, "addr", ln.Addr().String(), "keys", len(keys))
	if listening != nil {
		listening(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "gamify serve: %v\n", err)
		return exitFailure
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return exitFailure
	}
	return exitOK
}

// cmdClock is the clock of the engines export, import and the read
// commands open: nil, the system's (a test sets a manual one, to export
// and import at a source's time).
var cmdClock gamify.Clock

// readOpen opens path for a read command, which must not create it, and
// returns the root engine (to close) and the tenant's (the root for "").
func readOpen(path, tenant string, stderr io.Writer) (root, eng *gamify.Engine, code int) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			fmt.Fprintf(stderr, "gamify: %v\n", err)
			return nil, nil, exitFailure
		}
	}
	root, code = openDB(path, &gamify.Options{LockTimeout: 2 * time.Second, Clock: cmdClock}, stderr)
	if root == nil || tenant == "" {
		return root, root, code
	}
	// Engine.Tenant creates a tenant's file (PATH.tenants/KEY.db, as
	// tenants.go names it) on first use; a read must not.
	tfile := filepath.Join(path+".tenants", tenant+".db")
	if _, err := os.Stat(tfile); err != nil {
		root.Close()
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "gamify: tenant %q: not found (no file %s)\n", tenant, tfile)
			return nil, nil, exitNotFound
		}
		return nil, nil, failed(stderr, err)
	}
	eng, err := root.Tenant(tenant)
	if err != nil {
		root.Close()
		return nil, nil, failed(stderr, err)
	}
	return root, eng, exitOK
}

// failed reports err and returns its exit code.
func failed(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "gamify: %v\n", err)
	if errors.Is(err, gamify.ErrNotFound) {
		return exitNotFound
	}
	return exitFailure
}

func writeJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return exitFailure
	}
	return exitOK
}
