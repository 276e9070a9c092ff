// Package gamify is an embedded, in-process gamification engine: metrics and
// events, users and attributes, with streaks, points, achievements,
// leaderboards and rewards built on the same write path. One Engine applies
// events to a bbolt-backed ledger through a single writer goroutine that
// group-commits batches, so every rule ("award exactly once", per-user order,
// idempotency) holds without locks in domain code.
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
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/gamifykit/gamify/gamifytype"
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
)

// ValidationError reports a bad input field; it unwraps to ErrInvalid.
type ValidationError = gamifytype.ValidationError

// Amount is an exact decimal with 6 fractional digits. Totals are Amounts.
type Amount = gamifytype.Amount

// AmountScale is the number of Amount units in 1.
const AmountScale = gamifytype.AmountScale

// AmountFromInt returns n as an Amount.
func AmountFromInt(n int64) Amount { return gamifytype.AmountFromInt(n) }

// MaxAmount is the largest Amount (about 9.2 trillion).
const MaxAmount = gamifytype.MaxAmount

// ParseAmountString parses an exact decimal such as "4.4" or "-0.000001" (at
// most 6 fractional digits); field names the input in a ValidationError.
func ParseAmountString(field, s string) (Amount, error) {
	return gamifytype.ParseAmountString(field, s)
}
