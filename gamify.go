// Package gamify is an embedded, in-process gamification engine: metrics and
// events, users and attributes, with streaks, points, achievements,
// leaderboards and rewards built on the same write path. One Engine applies
// events to a bbolt-backed ledger one command at a time (under a single
// writer lock) and group-commits them in batches, so every rule ("award
// exactly once", per-user order, idempotency) holds without locks in domain
// code.
//
// Open an engine on a file, define metrics, and Track events:
//
//	eng, err := gamify.Open("game.db", nil)
//	if err != nil { ... }
//	defer eng.Close()
//	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "Experience"})
//	res, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
//
// The API groups administration by resource (Users, Attributes, Metrics) the
// way hosted gamification SDKs do; the verbs of the game loop (Track, Flush,
// Subscribe, Check) are methods of the Engine itself.
package gamify

import (
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// The sentinel errors. Test with errors.Is.
var (
	// ErrNotFound is returned when a user, definition or record does not exist.
	ErrNotFound = gamifytype.ErrNotFound
	// ErrInvalid is returned (inside a *ValidationError) when input is malformed.
	ErrInvalid = gamifytype.ErrInvalid
	// ErrConflict is returned when an operation contradicts existing state,
	// such as creating a definition whose key exists.
	ErrConflict = gamifytype.ErrConflict
	// ErrInsufficientPoints is returned when a spend or negative award would
	// take available points below zero.
	ErrInsufficientPoints = gamifytype.ErrInsufficientPoints
	// ErrOutOfStock is returned when a reward has no inventory left.
	ErrOutOfStock = gamifytype.ErrOutOfStock
	// ErrClosed is returned by calls made after Close.
	ErrClosed = gamifytype.ErrClosed

	// ErrLocked is returned by Open when another process holds the database
	// file for longer than Options.LockTimeout.
	ErrLocked = store.ErrLocked
	// ErrCorrupt is returned by Open for a truncated or damaged file, a
	// damaged command log or one that does not continue the file's
	// checkpoint (the log of another copy of the file included), or a
	// stored definition that does not load; by any call that reads a record
	// whose checksum fails; and reported by Check for damaged records and
	// references that resolve to nothing. Open also returns it for an empty
	// (0-byte) file, which is never taken for a new database.
	ErrCorrupt = store.ErrCorrupt
	// ErrNewerSchema is returned by Open for a file written by a newer
	// gamify; ErrOldSchema for a file of a layout this build cannot read.
	ErrNewerSchema = store.ErrNewerSchema
	ErrOldSchema   = store.ErrOldSchema
	// ErrForeign is returned by Open for a path that is not a gamify
	// database: a directory, a named pipe, or another program's bbolt file.
	// Open writes nothing into it.
	ErrForeign = store.ErrForeign
	// ErrBackupExists is returned by Open when a file needs a migration and
	// a different file already sits at its backup path (see Open).
	ErrBackupExists = store.ErrBackupExists
)

// ValidationError reports a bad input field; it unwraps to ErrInvalid. Its
// fields: Field (the input's path, e.g. "Event.Value" or
// "PointsSystem.Triggers[1].Points"), Value (the offending value) and Reason
// ("must be a finite number"). Validate methods and calls report every bad
// field at once, joined with errors.Join: use errors.As to get the first.
// A field whose key names a definition or user that does not exist
// (Event.Metric) is also ErrNotFound for errors.Is; one naming a definition
// that exists but is inactive (an inactive metric) is also ErrConflict.
type ValidationError = gamifytype.ValidationError

// IdempotencyError reports an idempotency key reused with a different
// payload: an event, award, spend or claim whose key was first used for
// another one. The key's first use stands and nothing is applied. It
// unwraps to ErrConflict; Field names the key's field
// ("Events[2].IdempotencyKey"), Key the key and What the first use.
type IdempotencyError = gamifytype.IdempotencyError

// Interval is the span of instants [From, To): a zero To means it has not
// ended, a zero From reaches back to the start of time. Points systems,
// triggers, boosts, streaks, leaderboards and challenges report the
// intervals they were inactive in their Inactive field.
type Interval = gamifytype.Interval

// Amount is an exact decimal with 6 fractional digits: every metric value,
// total, score, points balance, cost, threshold and multiplier the engine
// stores or returns. It is a struct, so an untyped constant never turns into
// one by accident (Reward{Cost: 200} does not compile): write
// AmountFromInt(200) or MustParseAmount("12.5"). The zero value is 0.
//
// Methods: Add, Sub (saturating), AddChecked, SubChecked, MulInt, Neg, Abs,
// Sign, IsZero, Cmp, Less, Floor, Float64, Micros, String. Amounts compare
// with ==; JSON and text forms are decimal strings ("12.5"); JSON input may
// also be a plain number (12.5 means 12.5).
type Amount = gamifytype.Amount

// AmountFromInt returns n whole units as an Amount. It panics when |n| is
// above about 9.2 trillion (a programmer error for a constant).
func AmountFromInt(n int64) Amount { return gamifytype.AmountFromInt(n) }

// AmountFromFloat returns v rounded to the nearest millionth; a float whose
// shortest decimal form has at most 6 fractional digits (0.1, 12.345) is
// taken exactly. It fails with a ValidationError for NaN, ±Inf and values
// too large.
func AmountFromFloat(v float64) (Amount, error) { return gamifytype.AmountFromFloat(v) }

// AmountScale is the number of millionths in 1: AmountFromInt(1).Micros().
const AmountScale = gamifytype.AmountScale

// AmountFromMicros returns the Amount of m millionths (the stored form).
func AmountFromMicros(m int64) Amount { return gamifytype.AmountFromMicros(m) }

// ParseAmount parses an exact decimal such as "4.4" or "-0.000001" (at most
// 6 fractional digits, no exponent); a bad string is a ValidationError.
func ParseAmount(s string) (Amount, error) { return gamifytype.ParseAmount(s) }

// MustParseAmount is ParseAmount for constants: it panics on a bad string.
func MustParseAmount(s string) Amount { return gamifytype.MustParseAmount(s) }

// MaxAmount is the largest Amount (about 9.2 trillion). Read it; do not
// assign to it.
var MaxAmount = gamifytype.MaxAmount

// Date is a calendar date without a time zone (pauses, board dates,
// periods). Its JSON and text form is "2006-01-02"; the zero Date is "".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String formats d as "2006-01-02".
func (d Date) String() string { return streak.Date(d).String() }

// MarshalText formats d as "2006-01-02", or the zero Date as "".
func (d Date) MarshalText() ([]byte, error) {
	if d == (Date{}) {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses "2006-01-02" ("" is the zero Date).
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := streak.ParseDate("Date", string(b))
	if err != nil {
		return err
	}
	*d = Date(v)
	return nil
}
