package gamifytype

import (
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("a", MaxQuoteLen-1) + "é" + strings.Repeat("b", 100) // é straddles the cut
	for _, c := range []struct{ in, want string }{
		{"short", "short"},
		{strings.Repeat("x", MaxQuoteLen), strings.Repeat("x", MaxQuoteLen)},
		{long, strings.Repeat("a", MaxQuoteLen-1) + "… (165 bytes)"},
		{"caf\xe9", `"caf\xe9"`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestInvalidBoundsItsValue(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	err := Invalid("Metric.Description", huge, "must be at most 4096 bytes")
	if s, _ := err.Value.(string); len(s) > MaxQuoteLen+32 {
		t.Errorf("Value keeps %d bytes", len(s))
	}
	if n := len(err.Error()); n > 200 {
		t.Errorf("Error() is %d bytes", n)
	}
	if n := len(Invalid("F", make([]int, 10_000), "r").Error()); n > 200 {
		t.Errorf("Error() of a large non-string value is %d bytes", n)
	}
	// The message quotes the input once: its first bytes and its own length.
	want := "gamify: invalid Metric.Description (" + strings.Repeat("x", MaxQuoteLen) + "… (1048576 bytes)): must be at most 4096 bytes"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := Invalid("F", "caf\xe9", "r").Error(), `gamify: invalid F ("caf\xe9"): r`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	direct := &ValidationError{Field: "F", Value: huge, Reason: "r"} // not made by Invalid: bounded by Error
	if n := len(direct.Error()); n > 200 {
		t.Errorf("Error() of a ValidationError literal is %d bytes", n)
	}
	if got := Invalid("F", "v", "r").Value; got != "v" {
		t.Errorf("a short value is kept as is: %v", got)
	}
}

func TestChecks(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		bad  bool
	}{
		{"text ok", CheckText("F", "héllo", 6), false},
		{"text long", CheckText("F", "héllo", 5), true},
		{"text UTF-8", CheckText("F", "\xff", 5), true},
		{"id ok", CheckID("F", strings.Repeat("é", MaxIDLen)), false},
		{"id long", CheckID("F", strings.Repeat("é", MaxIDLen+1)), true},
		{"id empty", CheckID("F", ""), true},
		{"len", CheckLen("F", 101, 100), true},
		{"filters many", CheckFilters("F", map[string]string{"a": "1", "b": "2"}, 1), true},
		{"filters key", CheckFilters("F", map[string]string{"a b": "1"}, 5), true},
		{"filters value", CheckFilters("F", map[string]string{"a": strings.Repeat("v", MaxNameLen+1)}, 5), true},
		{"time zero", CheckTime("F", time.Time{}), false},
		{"time 2261", CheckTime("F", time.Date(2261, 12, 31, 0, 0, 0, 0, time.UTC)), false},
		{"time 2262", CheckTime("F", MaxTime), true},
		{"time 1677", CheckTime("F", time.Date(1677, 12, 31, 0, 0, 0, 0, time.UTC)), true},
	} {
		if (c.err != nil) != c.bad {
			t.Errorf("%s: err = %v, want bad=%v", c.name, c.err, c.bad)
		}
	}
}
