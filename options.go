package gamify

import (
	"cmp"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Durability says when Track returns relative to the commit of its event.
type Durability int

const (
	// Durable makes Track return after the batch holding its event is fsynced.
	Durable Durability = iota
	// Buffered makes Track return once its event is applied in memory; the
	// batch is sealed for commit after at most Options.MaxFlushDelay, once
	// the commit in progress ends. A crash loses at most that window plus
	// one commit, never corrupts and never applies an event twice.
	Buffered
)

func (d Durability) String() string {
	switch d {
	case Durable:
		return "durable"
	case Buffered:
		return "buffered"
	}
	return "unknown"
}

// MarshalText encodes d by name: "durable" or "buffered".
func (d Durability) MarshalText() ([]byte, error) {
	switch d {
	case Durable, Buffered:
		return []byte(d.String()), nil
	}
	return nil, gamifytype.Invalid("Durability", int(d), "must be durable or buffered")
}

// UnmarshalText decodes "durable" or "buffered"; "" is Durable, the default.
func (d *Durability) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "durable":
		*d = Durable
	case "buffered":
		*d = Buffered
	default:
		return gamifytype.Invalid("Durability", string(b), "must be durable or buffered")
	}
	return nil
}

// Defaults for Options.
const (
	MaxFlushDelayDefault = 10 * time.Millisecond
	LockTimeoutDefault   = 5 * time.Second
	MaxEventAgeDefault   = 400 * 24 * time.Hour
	MaxClockSkewDefault  = 5 * time.Minute
	MaxBatchDefault      = 4096
	NotifyBufferDefault  = 1024
	UserCacheDefault     = 1 << 18

	CheckpointIntervalDefault = 3 * time.Second
	CheckpointSizeDefault     = 16 << 20
)

// Options configure an Engine. The zero value of every field means its default.
type Options struct {
	// Clock supplies the time; it is read once per public call. Default: the
	// system clock. Use a *ManualClock in tests and simulations.
	Clock Clock
	// Logger receives operational messages: failed jobs and commits, lost
	// buffered batches, dropped notifications and recovered subscriber
	// panics, at level Warn (Error for lost events). Default:
	// slog.Default() as of Open.
	Logger *slog.Logger
	// DefaultTimezone is used for users and boards without one. Default: UTC.
	DefaultTimezone *time.Location
	// Durability is Durable (the default) or Buffered.
	Durability Durability
	// MaxFlushDelay bounds how long a Buffered event's batch waits before
	// it is sealed for commit (it then waits for the commit in progress).
	// Default: 10 ms.
	MaxFlushDelay time.Duration
	// LockTimeout bounds the wait for the database file lock when another
	// process holds it. Default: 5 s (never infinite).
	LockTimeout time.Duration
	// MaxEventAge is how far back an event may be dated. Default: 400 days.
	MaxEventAge time.Duration
	// MaxClockSkew is how far in the future an event may be dated. Default: 5 min.
	MaxClockSkew time.Duration
	// IdempotencyWindow bounds how long an idempotency key is remembered,
	// counted from when it was first used: a key older than this is treated
	// as new, for events, awards, spends and claims alike (ImportClaim's keys
	// excepted: an import run again stores nothing twice). Default: 0,
	// forever. Expired keys stay stored until an hourly job prunes them (up
	// to 50,000 per run). The writer keeps a filter of the keys stored, 10 to
	// 40 bits a key, so that a new key is known new without a read.
	IdempotencyWindow time.Duration
	// MaxBatch caps the events (and other commands) applied in one commit:
	// a command is applied only while the open batch holds fewer, so a
	// TrackBatch, which counts its events, may take it past the cap; past
	// it producers wait for the commit in progress. Default: 4096.
	MaxBatch int
	// NotifyBuffer is how many undelivered notifications a subscriber may
	// fall behind before it loses notifications (dropped and counted). It
	// admits or drops whole commits: a commit arriving while fewer than
	// NotifyBuffer wait is queued in full, however large (a maximal
	// TrackBatch emits several per event), so a subscriber that keeps up
	// never loses any; one arriving later is dropped whole. The committer
	// never waits for a subscriber. Default: 1024.
	NotifyBuffer int
	// UserCache bounds the users whose decoded records the writer keeps.
	// A user with 8 badges, 2 points systems (12 triggers) and a streak
	// costs about 2 KB of live heap there (1 KB in the file), and the Go
	// heap holds up to about twice its live bytes: the default's 262,144
	// such users take about 550 MB live, 1.1 GB of heap. An event of a user
	// not in it costs a read and a decode. Default: 262,144.
	UserCache int
	// OutboxRetain is how many of the newest outbox sequence numbers are
	// kept; older entries are removed once every consumer acknowledged them
	// (see OutboxAPI). Default: 100,000.
	OutboxRetain int
	// OutboxMaxAge is how long an outbox entry is kept; older entries are
	// removed once every consumer acknowledged them. Default: 7 days.
	OutboxMaxAge time.Duration
	// OutboxHardLimit caps the outbox whatever the consumers: entries not
	// among the newest OutboxHardLimit sequence numbers are removed even if
	// a consumer has not acknowledged them (logged as a warning). It must be
	// at least OutboxRetain. Default: 1,000,000, or OutboxRetain if larger.
	OutboxHardLimit int
	// CheckpointInterval bounds how long applied changes live only in the
	// command log and in memory before a checkpoint writes them to the
	// database file (the log beside it, path + ".log", is trimmed then). A
	// crash costs Open the replay of the log since the last checkpoint
	// (replay runs at about half the live rate: the user cache starts cold;
	// bench/RESULTS.md has the figures behind the defaults). Default: 3 s.
	CheckpointInterval time.Duration
	// CheckpointSize starts a checkpoint early once this many bytes of
	// changed records are staged in memory (about 650 bytes an event at 1M
	// users, 500 at 10k). A larger one rewrites a user's record less often
	// and costs more replay after a crash: at the default, about 30,000
	// events at 10k or 1M users, 0.6 s and 1.1 s of replay on a 2-core
	// machine. Default: 16 MiB.
	CheckpointSize int64
	// ControlRatio is the share of new users, in [0, 1], put in the
	// experiment's control group (User.Control), chosen by a hash of the
	// user id: the same id always lands in the same group. A user keeps the
	// group assigned at creation when the ratio changes later. Keep it the
	// same across restarts: the command log replays creations with it.
	// Default: 0, nobody.
	ControlRatio float64
	// Replication makes the engine a replica of a state shared through a
	// replicated command log (package jetstream); nil keeps the local log
	// beside the file. The file is then this replica's checkpoint of the
	// shared log. Every replica must be opened with the same options that
	// shape what a command does (ControlRatio, Reminders, DefaultTimezone,
	// IdempotencyWindow, outbox retention): they are not in the log. A
	// replica's file is marked as one: Open without Replication refuses it,
	// and Open with Replication refuses a file a local engine wrote, both
	// with ErrConflict.
	Replication ReplicatedLog
	// Reminders turns on streak reminders, reactivation messages and weekly
	// recaps (see ReminderOptions); nil sends none.
	Reminders *ReminderOptions

	// noSync disables fsync; set only by internal benchmarks of CPU cost.
	noSync bool
	// beforeTxnCommit runs as a command's changes are about to enter the
	// working state; a fault-injection seam for tests (it may panic).
	beforeTxnCommit func()
	// beforeCommit is the fault-injection seam of the commit point, the
	// command log's append and fsync (checkpoint.go's appendLog).
	beforeCommit func() error
	// beforeLogSync runs before each fsync of the command log (its failure
	// is the fsync's): the seam of a failed fsync after the append.
	beforeLogSync func() error
	// beforeCheckpoint is the seam of a checkpoint's commit to the file.
	beforeCheckpoint func() error
	// afterCommit runs between a batch's commit and the writer hearing of
	// it: the window in which the store is ahead of the working state.
	afterCommit func()
	// catchUpMax, when set, replaces catchUpMaxDefault (tests of the bound).
	catchUpMax int
	// leagueChunk, when set, replaces leagueChunk (tests of a chunked
	// league rollover).
	leagueChunk int
	// rewardKey, when set, replaces the random source of generated reward
	// keys (tests of collisions).
	rewardKey func() string
	// idemFilterKeys, when set, sizes every filter of idempotency keys for
	// that many keys whatever it holds, so that it is rebuilt all the time
	// (tests); idemRebuildScan runs in a rebuild's snapshot before it scans
	// (tests of the keys pending then and recorded meanwhile).
	idemFilterKeys  int
	idemRebuildScan func()
}

// withDefaults returns a copy of o with defaults filled in.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.DefaultTimezone = cmp.Or(c.DefaultTimezone, time.UTC)
	c.MaxFlushDelay = cmp.Or(c.MaxFlushDelay, MaxFlushDelayDefault)
	c.LockTimeout = cmp.Or(c.LockTimeout, LockTimeoutDefault)
	c.MaxEventAge = cmp.Or(c.MaxEventAge, MaxEventAgeDefault)
	c.MaxClockSkew = cmp.Or(c.MaxClockSkew, MaxClockSkewDefault)
	c.MaxBatch = cmp.Or(c.MaxBatch, MaxBatchDefault)
	c.NotifyBuffer = cmp.Or(c.NotifyBuffer, NotifyBufferDefault)
	c.UserCache = cmp.Or(c.UserCache, UserCacheDefault)
	c.OutboxRetain = cmp.Or(c.OutboxRetain, OutboxRetainDefault)
	c.OutboxMaxAge = cmp.Or(c.OutboxMaxAge, OutboxMaxAgeDefault)
	c.CheckpointInterval = cmp.Or(c.CheckpointInterval, CheckpointIntervalDefault)
	c.CheckpointSize = cmp.Or(c.CheckpointSize, CheckpointSizeDefault)
	c.OutboxHardLimit = cmp.Or(c.OutboxHardLimit, max(OutboxHardLimitDefault, c.OutboxRetain))
	if c.Reminders != nil {
		c.Reminders = c.Reminders.withDefaults()
	}
	return c
}

func (o *Options) outboxRetention() retention {
	return retention{retain: uint64(o.OutboxRetain), hardLimit: uint64(o.OutboxHardLimit), maxAge: o.OutboxMaxAge}
}

// validate reports every bad field at once.
func (o *Options) validate() error {
	var errs []error
	bad := func(field string, v any, reason string) {
		errs = append(errs, gamifytype.Invalid("Options."+field, v, reason))
	}
	if o.Durability != Durable && o.Durability != Buffered {
		bad("Durability", o.Durability, "must be Durable or Buffered")
	}
	if o.MaxFlushDelay < 0 {
		bad("MaxFlushDelay", o.MaxFlushDelay, "must not be negative")
	}
	if o.LockTimeout < 0 {
		bad("LockTimeout", o.LockTimeout, "must not be negative")
	}
	if o.MaxEventAge < 0 {
		bad("MaxEventAge", o.MaxEventAge, "must not be negative")
	}
	if o.MaxClockSkew < 0 {
		bad("MaxClockSkew", o.MaxClockSkew, "must not be negative")
	}
	if o.IdempotencyWindow < 0 {
		bad("IdempotencyWindow", o.IdempotencyWindow, "must not be negative")
	}
	if o.CheckpointInterval < 0 {
		bad("CheckpointInterval", o.CheckpointInterval, "must not be negative")
	}
	if o.CheckpointSize < 0 {
		bad("CheckpointSize", o.CheckpointSize, "must not be negative")
	}
	if o.MaxBatch < 0 {
		bad("MaxBatch", o.MaxBatch, "must not be negative")
	}
	if o.NotifyBuffer < 0 {
		bad("NotifyBuffer", o.NotifyBuffer, "must not be negative")
	}
	if o.UserCache < 0 {
		bad("UserCache", o.UserCache, "must not be negative")
	}
	if o.OutboxRetain < 0 {
		bad("OutboxRetain", o.OutboxRetain, "must not be negative")
	}
	if o.OutboxMaxAge < 0 {
		bad("OutboxMaxAge", o.OutboxMaxAge, "must not be negative")
	}
	if !(o.ControlRatio >= 0 && o.ControlRatio <= 1) {
		bad("ControlRatio", o.ControlRatio, "must be between 0 and 1")
	}
	if o.Reminders != nil {
		errs = append(errs, o.Reminders.validate())
	}
	if o.OutboxHardLimit < o.OutboxRetain {
		bad("OutboxHardLimit", o.OutboxHardLimit, "must be at least OutboxRetain")
	}
	return errors.Join(errs...)
}

// Clock tells the time. The engine reads it once per public call and passes
// that instant down, so a manual clock makes every behaviour reproducible.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to. It is safe for
// concurrent use. Scheduled jobs do not run by themselves under a
// ManualClock; call Engine.RunDue after advancing it.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (backwards too).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d and returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
