package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// queryInt reads an integer query parameter within [lo, hi]; absent is def.
func (c *call) queryInt(name string, def, lo, hi int) (int, error) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("%s must be an integer from %d to %d, not %q", name, lo, hi, s))
	}
	return n, nil
}

// queryBool reads a boolean query parameter; absent is false.
func (c *call) queryBool(name string) (bool, error) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalid(name, fmt.Sprintf("%s must be true or false, not %q", name, s))
	}
	return b, nil
}

// queryList reads a list given as repeated parameters or comma-separated.
func (c *call) queryList(name string) []string {
	var out []string
	for _, v := range c.r.URL.Query()[name] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// queryAttrs reads "k:v,k2:v2" filters (Trophy's userAttributes).
func (c *call) queryAttrs(name string) (map[string]string, error) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	m := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(pair, ":")
		if !ok || k == "" {
			return nil, invalid(name, fmt.Sprintf("%s must be attribute:value pairs separated by commas, not %q", name, s))
		}
		m[k] = v
	}
	return m, nil
}

// queryDate reads a YYYY-MM-DD parameter; absent is the zero Date.
func (c *call) queryDate(name string) (gamify.Date, error) {
	var d gamify.Date
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return d, nil
	}
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return d, invalid(name, fmt.Sprintf("%s must be a date YYYY-MM-DD, not %q", name, s))
	}
	return d, nil
}

// numberIn is a JSON number or a decimal string, read later by amountOf so
// that a bad value is a 422 naming its field rather than a decode error.
type numberIn string

// UnmarshalJSON keeps the literal; null is "".
func (n *numberIn) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = ""
		return nil
	}
	*n = numberIn(strings.Trim(string(b), `"`))
	return nil
}

// optNumber is a numberIn that tells an explicit null (set, empty) from an
// absent field (not set).
type optNumber struct {
	set bool
	n   numberIn
}

// UnmarshalJSON records that the field was given.
func (o *optNumber) UnmarshalJSON(b []byte) error {
	o.set = true
	return o.n.UnmarshalJSON(b)
}

// amountOf reads a JSON number (or decimal string) as an exact Amount. An
// exponent form is accepted when its value has at most 6 fractional digits;
// more digits are refused, never rounded.
func amountOf(field string, n numberIn) (gamify.Amount, error) {
	s := string(n)
	if strings.ContainsAny(s, "eE") {
		s = expandExponent(s)
	}
	a, err := gamify.ParseAmount(s)
	if err != nil {
		why := "must be a finite number with at most 6 fractional digits"
		var ve *gamify.ValidationError
		if errors.As(err, &ve) && ve.Reason == "is too large" {
			why = "is too large for an amount" // beyond the range, not a fraction too fine
		}
		return gamify.Amount{}, invalid(field, fmt.Sprintf("%s %s, not %q", field, why, string(n)))
	}
	return a, nil
}

// expandExponent rewrites "1.25e2" as "125" by moving the decimal point in
// the string (a float64 would round), dropping the fraction's trailing zeros;
// a malformed form or an exponent beyond ±40 (far outside Amount's range)
// comes back unchanged, for ParseAmount to refuse.
func expandExponent(s string) string {
	i := strings.IndexAny(s, "eE")
	exp, err := strconv.Atoi(s[i+1:])
	if err != nil || exp < -40 || exp > 40 {
		return s
	}
	mant, sign := s[:i], ""
	if mant != "" && (mant[0] == '-' || mant[0] == '+') {
		mant, sign = mant[1:], mant[:1]
	}
	whole, frac, _ := strings.Cut(mant, ".")
	digits, point := whole+frac, len(whole)+exp
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return s
	}
	switch {
	case point <= 0:
		whole, frac = "0", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		whole, frac = digits+strings.Repeat("0", point-len(digits)), ""
	default:
		whole, frac = digits[:point], digits[point:]
	}
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		return sign + whole + "." + frac
	}
	return sign + whole
}

// num writes an Amount as an exact JSON number ("12.5" → 12.5).
func num(a gamify.Amount) json.Number { return json.Number(a.String()) }

// numOrNull is num, or null for zero (an unset cap).
func numOrNull(a gamify.Amount) *json.Number {
	if a.IsZero() {
		return nil
	}
	n := num(a)
	return &n
}

// day formats a calendar date, or null for the zero Date.
func day(d gamify.Date) *string {
	if d == (gamify.Date{}) {
		return nil
	}
	s := d.String()
	return &s
}

// dayOf formats the local date of t (in t's location), or null for zero.
func dayOf(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

// lastDayOf is the local date of the last instant before an exclusive end.
func lastDayOf(end time.Time) *string {
	if end.IsZero() {
		return nil
	}
	return dayOf(end.Add(-time.Nanosecond))
}

// instant formats t in RFC 3339 UTC, or null for zero.
func instant(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func strOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// kv is Trophy's {key, value} pair.
type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func pairs(m map[string]string) []kv {
	out := []kv{}
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// timeIn is an RFC 3339 time in a body. A bad one is a
// *json.UnmarshalTypeError, which encoding/json gives the field's path:
// the answer names it (422), where time.Time's own error names nothing.
type timeIn struct{ time.Time }

func (t *timeIn) UnmarshalJSON(b []byte) error {
	if err := t.Time.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: "time " + gamifytype.Quote(string(b)), Type: reflect.TypeFor[time.Time]()}
	}
	return nil
}

// jsonKind names the JSON a Go type decodes from, for a type error.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "RFC 3339 time string"
	case t == reflect.TypeFor[numberIn]():
		return "number"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.String()
}

// typeError is the answer to a value of raw of the wrong JSON type, named
// by its path with array indexes (typePath).
func typeError(ute *json.UnmarshalTypeError, raw []byte) error {
	field := typePath(raw, ute)
	what := field
	if what == "" {
		what = "the body"
	}
	return invalid(field, fmt.Sprintf("%s must be a JSON %s, not %s", what, jsonKind(ute.Type), ute.Value))
}
