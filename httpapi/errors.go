package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// errorBody is the one error shape of every endpoint. Error is the field
// Trophy clients read, Detail the one Bricqs clients read; both hold the
// message.
type errorBody struct {
	Code   string `json:"code"`
	Error  string `json:"error"`
	Detail string `json:"detail"`
	Field  string `json:"field,omitempty"`
}

// apiError is an error answered with a given status and code.
type apiError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *apiError) Error() string { return e.message }

// invalid is a 422 naming a request field.
func invalid(field, message string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, "invalid", message, field}
}

func notFound(message string) *apiError {
	return &apiError{http.StatusNotFound, "not_found", message, ""}
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, errorBody{Code: e.code, Error: e.message, Detail: e.message, Field: e.field})
}

// classify maps an engine error to its status and code (the table in
// docs/http.md). Anything unexpected is a 500 whose message is not shown.
func classify(err error) (*apiError, bool) {
	var ae *apiError
	var ve *gamify.ValidationError
	switch {
	case errors.As(err, &ae):
		if err != error(ae) {
			// Keep the wrapping text ("the other fields were updated, ...").
			return &apiError{ae.status, ae.code, err.Error(), ae.field}, true
		}
		return ae, true
	case errors.As(err, &ve):
		// A field naming a missing key is 404 (Trophy's answer to an unknown
		// metric), one naming an inactive definition 409, as the same key
		// in the path would be; the first bad field decides, as it is named.
		switch {
		case errors.Is(ve, gamify.ErrNotFound):
			return &apiError{http.StatusNotFound, "not_found", err.Error(), ve.Field}, true
		case errors.Is(ve, gamify.ErrConflict):
			return &apiError{http.StatusConflict, "conflict", err.Error(), ve.Field}, true
		}
		return &apiError{http.StatusUnprocessableEntity, "invalid", err.Error(), ve.Field}, true
	case errors.Is(err, gamify.ErrInvalid):
		return &apiError{http.StatusUnprocessableEntity, "invalid", err.Error(), ""}, true
	case errors.Is(err, gamify.ErrNotFound):
		return &apiError{http.StatusNotFound, "not_found", err.Error(), ""}, true
	case errors.Is(err, gamify.ErrInsufficientPoints):
		return &apiError{http.StatusUnprocessableEntity, "insufficient_points", err.Error(), ""}, true
	case errors.Is(err, gamify.ErrOutOfStock):
		return &apiError{http.StatusConflict, "out_of_stock", err.Error(), ""}, true
	case errors.Is(err, gamify.ErrConflict):
		return &apiError{http.StatusConflict, "conflict", err.Error(), ""}, true
	case errors.Is(err, gamify.ErrClosed):
		return &apiError{http.StatusServiceUnavailable, "unavailable", "the engine is closed", ""}, true
	case errors.Is(err, gamify.ErrUnavailable):
		// A replica cut off from its shared log: reads go on, a write can
		// be retried (with its idempotency key).
		return &apiError{http.StatusServiceUnavailable, "unavailable", err.Error(), ""}, true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{http.StatusServiceUnavailable, "unavailable", "the request was cancelled", ""}, true
	}
	return &apiError{http.StatusInternalServerError, "internal", "internal error", ""}, false
}

// keyConflict names the Idempotency-Key header in the engine's conflict of
// the key reused with another payload (an IdempotencyError naming the
// engine's own field), as a 422 names its field. Any other conflict (an
// inactive system, a claim limit) passes unchanged.
func keyConflict(err error, key string) error {
	var ie *gamify.IdempotencyError
	if key == "" || !errors.As(err, &ie) || ie.Key != gamifytype.Quote(key) {
		return err
	}
	return &apiError{http.StatusConflict, "conflict", err.Error(), "Idempotency-Key"}
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae, known := classify(err)
	if !known {
		h.log.Error("httpapi: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, ae)
}
