package gamifytype

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

var (
	// ErrNotFound is returned when a user, definition or record does not exist.
	ErrNotFound = errors.New("gamify: not found")
	// ErrInvalid is returned (wrapped in a *ValidationError) when input is malformed.
	ErrInvalid = errors.New("gamify: invalid input")
	// ErrConflict is returned when an operation contradicts existing state, such as
	// creating a key that exists or reaching a claim limit.
	ErrConflict = errors.New("gamify: conflict")
	// ErrInsufficientPoints is returned when a spend or negative award would take
	// a user's available points below zero.
	ErrInsufficientPoints = errors.New("gamify: insufficient points")
	// ErrOutOfStock is returned when a reward has no inventory left.
	ErrOutOfStock = errors.New("gamify: out of stock")
	// ErrClosed is returned by every call made after Engine.Close.
	ErrClosed = errors.New("gamify: engine closed")
)

// ValidationError reports one bad input field. It unwraps to ErrInvalid.
// One built by NotFound or Conflict also matches ErrNotFound or ErrConflict
// (errors.Is): the field names a definition or user that does not exist,
// or one that exists but refuses the call.
type ValidationError struct {
	Field  string // e.g. "Event.Value"
	Value  any    // the offending value, for the message
	Reason string // what is wrong, e.g. "must be a finite number"

	quoted bool  // Value is a string Invalid already bounded with Quote
	kind   error // nil, ErrNotFound or ErrConflict: the sentinel Is also matches
}

// Error formats as `gamify: invalid Event.Value (NaN): must be a finite number`.
func (e *ValidationError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("gamify: invalid %s: %s", e.Field, e.Reason)
	}
	v, ok := e.Value.(string)
	if !ok {
		v = fmt.Sprint(e.Value)
	}
	if !ok || !e.quoted { // quoting twice would bound the quote, not the input
		v = Quote(v)
	}
	return fmt.Sprintf("gamify: invalid %s (%s): %s", e.Field, v, e.Reason)
}

// Unwrap returns ErrInvalid so that errors.Is(err, ErrInvalid) holds.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Is reports whether target is the sentinel NotFound or Conflict set, so
// that errors.Is(err, ErrNotFound) holds for a field naming a missing key
// while callers checking ErrInvalid or the Field keep working.
func (e *ValidationError) Is(target error) bool { return e.kind != nil && target == e.kind }

// NotFound is a ValidationError on a field whose key names no existing
// definition or user (what, e.g. "metric"): it is ErrNotFound as well as
// ErrInvalid, formatted as `gamify: invalid Event.Metric (km): names no
// metric`.
func NotFound(field string, value any, what string) *ValidationError {
	e := Invalid(field, value, "names no "+what)
	e.kind = ErrNotFound
	return e
}

// Conflict is a ValidationError on a field whose key names a definition
// that exists but refuses the call, e.g. an inactive metric: it is
// ErrConflict as well as ErrInvalid.
func Conflict(field string, value any, reason string) *ValidationError {
	e := Invalid(field, value, reason)
	e.kind = ErrConflict
	return e
}

// Invalid is shorthand for &ValidationError{field, value, reason}, except
// that a string value is kept as its bounded Quote: an error never carries
// a whole oversized input.
func Invalid(field string, value any, reason string) *ValidationError {
	s, quoted := value.(string)
	if quoted {
		value = Quote(s)
	}
	return &ValidationError{Field: fieldName(field), Value: value, Reason: reason, quoted: quoted}
}

// fieldName bounds a field name that embeds an input (a map key, as in
// "Achievement.EventFilters[k]") like Quote does, escaping invalid UTF-8
// without surrounding quotes, so the name still starts with its type.
func fieldName(field string) string {
	if utf8.ValidString(field) && len(field) <= 2*MaxQuoteLen {
		return field
	}
	if len(field) > 2*MaxQuoteLen {
		n := 2 * MaxQuoteLen
		for n > 0 && !utf8.RuneStart(field[n]) {
			n--
		}
		field = field[:n] + "…"
	}
	if !utf8.ValidString(field) {
		q := strconv.Quote(field)
		field = q[1 : len(q)-1]
	}
	return field
}

// IdempotencyError reports an idempotency key reused with a different
// payload (the key's first use stands). It unwraps to ErrConflict.
type IdempotencyError struct {
	Field string // the key's field, e.g. "Event.IdempotencyKey" or "Events[2].IdempotencyKey"
	Key   string // the key, bounded like a ValidationError's value
	What  string // what the key was first used for, e.g. "event of lessons (value, time or attributes)"
}

// Error formats as `gamify: conflict: Event.IdempotencyKey "k" was first
// used for a different event of lessons (value, time or attributes)`.
func (e *IdempotencyError) Error() string {
	return fmt.Sprintf("%v: %s %q was first used for a different %s", ErrConflict, e.Field, e.Key, e.What)
}

// Unwrap returns ErrConflict so that errors.Is(err, ErrConflict) holds.
func (e *IdempotencyError) Unwrap() error { return ErrConflict }
