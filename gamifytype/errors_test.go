package gamifytype

import (
	"errors"
	"fmt"
	"testing"
)

func TestValidationErrorKinds(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     *ValidationError
		is, not []error
		msg     string
	}{
		{"invalid", Invalid("Event.Value", 1.5, "is bad"),
			[]error{ErrInvalid}, []error{ErrNotFound, ErrConflict}, "gamify: invalid Event.Value (1.5): is bad"},
		{"not found", NotFound("Event.Metric", "km", "metric"),
			[]error{ErrInvalid, ErrNotFound}, []error{ErrConflict}, "gamify: invalid Event.Metric (km): names no metric"},
		{"conflict", Conflict("Event.Metric", "km", "is not an active metric"),
			[]error{ErrInvalid, ErrConflict}, []error{ErrNotFound}, "gamify: invalid Event.Metric (km): is not an active metric"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Wrapped and joined, as calls return them.
			for _, err := range []error{c.err, fmt.Errorf("track: %w", c.err), errors.Join(Invalid("Event.User", "", "is empty"), c.err)} {
				for _, target := range c.is {
					if !errors.Is(err, target) {
						t.Errorf("errors.Is(%v, %v) = false", err, target)
					}
				}
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("errors.As(%v) = false", err)
				}
			}
			for _, target := range c.not {
				if errors.Is(c.err, target) {
					t.Errorf("errors.Is(%v, %v) = true", c.err, target)
				}
			}
			if got := c.err.Error(); got != c.msg {
				t.Errorf("Error() = %q, want %q", got, c.msg)
			}
			if c.err.Field != "Event.Value" && c.err.Field != "Event.Metric" {
				t.Errorf("Field = %q", c.err.Field)
			}
		})
	}
	// The value is bounded as Invalid bounds it.
	long := NotFound("Event.Metric", string(make([]byte, 300)), "metric")
	if v := long.Value.(string); len(v) > 2*MaxQuoteLen {
		t.Errorf("value not bounded: %d bytes", len(v))
	}
}
