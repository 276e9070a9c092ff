package gamifytype

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on inputs, in one place. Every call checks its input against them
// before anything reaches the writer, so a stored record always fits the
// store and one caller's input can never fail another caller's commit.
// docs/behaviour.md lists which field has which limit.
const (
	// MaxIDLen bounds user ids (in characters) and idempotency keys and
	// reward codes (in bytes).
	MaxIDLen = 255
	// MaxNameLen bounds short texts, in bytes: names, units, categories,
	// award reasons, attribute values, each of a level's benefits.
	MaxNameLen = 255
	// MaxTextLen bounds long texts, in bytes: descriptions (of every
	// definition, levels and boosts included), device tokens.
	MaxTextLen = 4096
	// MaxURLLen bounds URLs, in bytes: image URLs.
	MaxURLLen = 2048
	// MaxMapEntries bounds maps: user and event attributes, filters.
	MaxMapEntries = 64
	// MaxListLen bounds lists inside one definition or call (a level's
	// benefits, a user's device tokens, an achievement's rules).
	MaxListLen = 100
	// MaxQuoteLen bounds the prefix of a bad value an error quotes.
	MaxQuoteLen = 64
)

// The range of instants the engine stores: event times are kept in
// nanoseconds since 1970 as int64, which spans the years 1678 to 2261.
var (
	MinTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC) // exclusive
)

// EncodableTime reports whether t lies in [MinTime, MaxTime), or is zero.
func EncodableTime(t time.Time) bool {
	return t.IsZero() || !t.Before(MinTime) && t.Before(MaxTime)
}

// CheckTime returns a ValidationError for field unless t is zero or lies in
// [MinTime, MaxTime).
func CheckTime(field string, t time.Time) error {
	if EncodableTime(t) {
		return nil
	}
	return Invalid(field, t, "must be in the years 1678 to 2261")
}

// CheckText returns a ValidationError for field unless s is valid UTF-8 of
// at most max bytes. The error quotes a bounded prefix of s.
func CheckText(field, s string, max int) error {
	if len(s) > max {
		return Invalid(field, s, fmt.Sprintf("must be at most %d bytes (is %d)", max, len(s)))
	}
	if !utf8.ValidString(s) {
		return Invalid(field, s, "must be valid UTF-8")
	}
	return nil
}

// CheckLen returns a ValidationError for field unless n is at most max
// entries.
func CheckLen(field string, n, max int) error {
	if n > max {
		return Invalid(field, n, fmt.Sprintf("must hold at most %d entries", max))
	}
	return nil
}

// Quote returns s, or its first MaxQuoteLen bytes (cut at a character
// boundary) followed by "…" and the full length, for error messages. A
// string that is not valid UTF-8 is quoted with Go escapes.
func Quote(s string) string {
	if len(s) <= MaxQuoteLen {
		if !utf8.ValidString(s) {
			return strconv.Quote(s)
		}
		return s
	}
	n := MaxQuoteLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	p := s[:n]
	if !utf8.ValidString(p) {
		p = strconv.Quote(p)
	}
	return fmt.Sprintf("%s… (%d bytes)", p, len(s))
}

// CheckFilters returns the ValidationErrors of an attribute map (filters,
// attributes): at most max entries, keys that are valid keys, values of at
// most MaxNameLen bytes of UTF-8. Too many entries is one error, reported
// before any entry is looked at.
func CheckFilters(field string, m map[string]string, max int) error {
	if len(m) > max {
		return CheckLen(field, len(m), max)
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) { // errors in a stable order
		if err := ValidateKey(field, k); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := CheckText(field+"["+k+"]", m[k], MaxNameLen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckID returns a ValidationError for field unless id is a user id: 1 to
// MaxIDLen characters of valid UTF-8.
func CheckID(field, id string) error {
	switch {
	case id == "":
		return Invalid(field, id, "must not be empty")
	case len(id) > MaxIDLen*utf8.UTFMax || utf8.RuneCountInString(id) > MaxIDLen:
		return Invalid(field, id, fmt.Sprintf("must be at most %d characters (is %d bytes)", MaxIDLen, len(id)))
	case !utf8.ValidString(id):
		return Invalid(field, id, "must be valid UTF-8")
	}
	return nil
}
