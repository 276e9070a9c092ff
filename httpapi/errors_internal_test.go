package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// TestClassify pins the error table of docs/http.md, wrapped errors included.
func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("op: %w", err) }
	cases := []struct {
		err    error
		status int
		code   string
		field  string
	}{
		{wrap(&gamify.ValidationError{Field: "Event.Value", Reason: "bad"}), http.StatusUnprocessableEntity, "invalid", "Event.Value"},
		{errors.Join(&gamify.ValidationError{Field: "A.B", Reason: "x"}, &gamify.ValidationError{Field: "A.C", Reason: "y"}), http.StatusUnprocessableEntity, "invalid", "A.B"},
		{wrap(gamifytype.NotFound("Event.Metric", "km", "metric")), http.StatusNotFound, "not_found", "Event.Metric"},
		{wrap(gamifytype.Conflict("Event.Metric", "km", "is not an active metric")), http.StatusConflict, "conflict", "Event.Metric"},
		// The first field named decides the status too.
		{errors.Join(gamifytype.NotFound("Events[0].Metric", "km", "metric"), &gamify.ValidationError{Field: "Events[1].Value", Reason: "x"}), http.StatusNotFound, "not_found", "Events[0].Metric"},
		{errors.Join(&gamify.ValidationError{Field: "Events[0].Value", Reason: "x"}, gamifytype.NotFound("Events[1].Metric", "km", "metric")), http.StatusUnprocessableEntity, "invalid", "Events[0].Value"},
		{wrap(gamify.ErrInvalid), http.StatusUnprocessableEntity, "invalid", ""},
		{wrap(gamify.ErrNotFound), http.StatusNotFound, "not_found", ""},
		{wrap(gamify.ErrConflict), http.StatusConflict, "conflict", ""},
		{wrap(gamify.ErrAchievementLocked), http.StatusConflict, "conflict", ""},
		{wrap(gamify.ErrInsufficientPoints), http.StatusUnprocessableEntity, "insufficient_points", ""},
		{wrap(gamify.ErrOutOfStock), http.StatusConflict, "out_of_stock", ""},
		{wrap(gamify.ErrClosed), http.StatusServiceUnavailable, "unavailable", ""},
		{wrap(gamify.ErrUnavailable), http.StatusServiceUnavailable, "unavailable", ""},
		{wrap(context.Canceled), http.StatusServiceUnavailable, "unavailable", ""},
		{errors.New("disk on fire"), http.StatusInternalServerError, "internal", ""},
	}
	for _, c := range cases {
		ae, known := classify(c.err)
		require.Equal(t, c.status, ae.status, "classify(%v)", c.err)
		require.Equal(t, c.code, ae.code, "classify(%v)", c.err)
		require.Equal(t, c.field, ae.field, "classify(%v)", c.err)
		require.Equal(t, c.status != http.StatusInternalServerError, known)
	}
	// A 500 does not leak the error's text.
	ae, _ := classify(errors.New("secret path /var/x"))
	require.Equal(t, "internal error", ae.message)
}

// TestClassifyKeepsWrapping checks a wrapped apiError keeps its wrapping
// text ("the other fields were updated, ...") in the message.
func TestClassifyKeepsWrapping(t *testing.T) {
	ae, known := classify(fmt.Errorf("the other fields were updated, the status was not: %w", invalid("status", "refused")))
	if !known || ae.message != "the other fields were updated, the status was not: refused" || ae.field != "status" || ae.status != 422 {
		t.Fatalf("classify = %+v, %v", ae, known)
	}
}
