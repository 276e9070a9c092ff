package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// MaxBodyBytesDefault is the default of Options.MaxBodyBytes: 1 MiB, room
// for a bulk call of 1000 events with profiles.
const MaxBodyBytesDefault = 1 << 20

// The scopes a Key may carry. ScopeAdmin and ScopeGamifyAdmin are the same
// grant under Bricqs' two names; a key without either is an application
// (participant) key.
const (
	ScopeAdmin       = "admin"
	ScopeGamifyAdmin = "gamify:admin"
)

// Key is an API key the server accepts.
type Key struct {
	// Secret is the value clients send in the X-API-Key header.
	Secret string `json:"key"`
	// Name labels the key in logs; optional.
	Name string `json:"name,omitempty"`
	// Scopes grant access: ScopeAdmin or ScopeGamifyAdmin for the admin
	// endpoints; any other value (such as "application") only names the key's
	// purpose. Every valid key may call the application endpoints.
	Scopes []string `json:"scopes,omitempty"`
	// Tenant, when set, confines the key to that tenant: requests without a
	// tenant use it and requests naming another are 403.
	Tenant string `json:"tenant,omitempty"`
	// User, when set, confines an application key to one user (Trophy's
	// user-scoped keys, safe to ship in a client): calls about another user
	// are 403, and so is a challenge's participant list. Shared reads
	// (leaderboards, achievements, points systems, a challenge's
	// leaderboard and stats) stay open. An admin key cannot have a User.
	User string `json:"user,omitempty"`
}

func (k *Key) admin() bool {
	return slices.Contains(k.Scopes, ScopeAdmin) || slices.Contains(k.Scopes, ScopeGamifyAdmin)
}

// Options configure the handler New returns.
type Options struct {
	// Keys are the accepted API keys; with none, every request is 401.
	Keys []Key
	// MaxBodyBytes caps a request body; a larger one is 413. Default:
	// MaxBodyBytesDefault.
	MaxBodyBytes int64
	// Logger receives failures that are answered 500. Default: discard.
	Logger *slog.Logger
}

// handler serves one Engine (and its tenants).
type handler struct {
	eng     *gamify.Engine
	keys    []Key
	maxBody int64
	log     *slog.Logger
	mux     *http.ServeMux
}

// New returns an http.Handler serving eng's Trophy- and Bricqs-shaped APIs
// (see the package doc and docs/http.md). It refuses Options it cannot
// serve with a *gamify.ValidationError naming the field: a key whose Secret
// is empty (an unset environment variable) or given twice, an admin key
// confined to a User, a negative MaxBodyBytes.
func New(eng *gamify.Engine, opts Options) (http.Handler, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	h := &handler{
		eng:     eng,
		keys:    slices.Clone(opts.Keys),
		maxBody: cmp.Or(opts.MaxBodyBytes, MaxBodyBytesDefault),
		log:     cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		mux:     http.NewServeMux(),
	}
	h.routeTrophy()
	h.routeLeagues()
	h.routeChallenges()
	h.routeTrophyAdmin()
	h.routeBricqs()
	h.routeOps()
	h.mux.HandleFunc("GET /healthz", h.health)
	return h, nil
}

// validate names every field of o that New refuses. A secret is never
// quoted: the errors name keys by index and Name.
func (o *Options) validate() error {
	var errs []error
	seen := map[string]int{}
	for i, k := range o.Keys {
		f := fmt.Sprintf("httpapi.Options.Keys[%d]", i)
		switch j, dup := seen[k.Secret]; {
		case k.Secret == "":
			errs = append(errs, gamifytype.Invalid(f+".Secret", nil, fmt.Sprintf("is empty (key %q)", k.Name)))
		case dup:
			errs = append(errs, gamifytype.Invalid(f+".Secret", nil, fmt.Sprintf("is the secret of Keys[%d] too (key %q)", j, k.Name)))
		default:
			seen[k.Secret] = i
		}
		if k.User != "" && k.admin() {
			errs = append(errs, gamifytype.Invalid(f+".User", k.User, "must be empty for an admin key: an admin key cannot be confined to a user"))
		}
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, gamifytype.Invalid("httpapi.Options.MaxBodyBytes", o.MaxBodyBytes, "must not be negative (0 means MaxBodyBytesDefault)"))
	}
	return errors.Join(errs...)
}

// health answers load balancers without a key: 200 while the engine
// serves reads, 503 once it is closed.
func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	if _, err := h.eng.Metrics().List(r.Context(), gamify.ListOptions{Limit: 1}); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

// call is one authenticated request, with the engine of its tenant.
type call struct {
	r   *http.Request
	eng *gamify.Engine
	key *Key
	log *slog.Logger
}

func (c *call) ctx() context.Context { return c.r.Context() }

// ownUser refuses a user-scoped key acting for another user.
func (c *call) ownUser(id string) error {
	if c.key.User != "" && id != c.key.User {
		return otherUser()
	}
	return nil
}

func otherUser() *apiError {
	return &apiError{http.StatusForbidden, "forbidden", "API key is confined to another user", ""}
}

// endpoint handles a call and returns the status and body to send.
type endpoint func(c *call) (int, any, error)

type scope int

const (
	anyKey scope = iota
	adminKey
)

// handle registers an endpoint behind authentication and tenant selection.
func (h *handler) handle(pattern string, need scope, fn endpoint) {
	// Only users' and participants' {id} is a user; elsewhere (a reward's
	// claim) it is a resource key and the handler checks the body's user.
	userID := strings.Contains(pattern, "/users/{id}") || strings.Contains(pattern, "/participants/{id}")
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		key := h.authenticate(r)
		if key == nil {
			writeError(w, &apiError{http.StatusUnauthorized, "unauthorized", "missing or invalid API key", ""})
			return
		}
		if need == adminKey && !key.admin() {
			writeError(w, &apiError{http.StatusForbidden, "forbidden", "API key requires 'admin' or 'gamify:admin' scope", ""})
			return
		}
		if id := r.PathValue("id"); userID && key.User != "" && id != key.User {
			writeError(w, otherUser())
			return
		}
		eng, err := h.tenantEngine(r, key)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if r.ContentLength > h.maxBody {
			writeError(w, tooLarge(h.maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		status, body, err := fn(&call{r: r, eng: eng, key: key, log: h.log})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if s, ok := body.(interface{ stream(http.ResponseWriter) }); ok {
			s.stream(w)
			return
		}
		writeJSON(w, status, body)
	})
}

// ServeHTTP strips a /tenants/{key} prefix into the request's tenant, then
// routes. Unknown paths and methods get JSON errors too.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Cut the escaped path, so that an id holding an encoded slash
	// (/tenants/acme/v1/users/a%2Fb) stays one segment.
	if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/tenants/"); ok {
		tenantEsc, pathEsc, _ := strings.Cut(rest, "/")
		tenant, err1 := url.PathUnescape(tenantEsc)
		path, err2 := url.PathUnescape("/" + pathEsc)
		if tenant == "" || err1 != nil || err2 != nil {
			writeError(w, &apiError{http.StatusNotFound, "not_found", "no such endpoint", ""})
			return
		}
		if hdr := r.Header.Get("Tenant-ID"); hdr != "" && hdr != tenant {
			writeError(w, &apiError{http.StatusBadRequest, "bad_request", "the Tenant-ID header and the path name different tenants", "Tenant-ID"})
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, "/"+pathEsc
		r2.Header.Set("Tenant-ID", tenant)
		r = r2
	}
	// ServeMux answers an unclean path (/v1/users//a) with an HTML redirect;
	// the API answers JSON.
	if p := r.URL.Path; p != cleanPath(p) {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "no such endpoint", ""})
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		// ServeMux's own 404 and 405 bodies are plain text.
		rec := &probe{header: http.Header{}}
		h.mux.ServeHTTP(rec, r)
		for k, v := range rec.header {
			if k == "Allow" {
				w.Header()[k] = v
			}
		}
		if rec.status == http.StatusMethodNotAllowed {
			writeError(w, &apiError{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed", ""})
		} else {
			writeError(w, &apiError{http.StatusNotFound, "not_found", "no such endpoint", ""})
		}
		return
	}
	h.mux.ServeHTTP(w, r)
}

// cleanPath is the path ServeMux routes p as: path.Clean, keeping a
// trailing slash.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// probe records the status ServeMux answers an unrouted request with.
type probe struct {
	header http.Header
	status int
}

func (p *probe) Header() http.Header         { return p.header }
func (p *probe) Write(b []byte) (int, error) { return len(b), nil }
func (p *probe) WriteHeader(s int)           { p.status = s }

// authenticate returns the key the request carries, or nil. Every key is
// compared in constant time so timing does not reveal a prefix.
func (h *handler) authenticate(r *http.Request) *Key {
	secret := r.Header.Get("X-API-Key")
	if secret == "" {
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			secret = strings.TrimSpace(b)
		}
	}
	if secret == "" {
		return nil
	}
	var found *Key
	for i := range h.keys {
		if subtle.ConstantTimeCompare([]byte(h.keys[i].Secret), []byte(secret)) == 1 {
			found = &h.keys[i]
		}
	}
	return found
}

// tenantEngine returns the engine the request addresses: the tenant named by
// the Tenant-ID header (or path), else the key's tenant, else the root.
func (h *handler) tenantEngine(r *http.Request, key *Key) (*gamify.Engine, error) {
	tenant := r.Header.Get("Tenant-ID")
	switch {
	case key.Tenant != "" && tenant != "" && tenant != key.Tenant:
		return nil, &apiError{http.StatusForbidden, "forbidden", "API key is bound to another tenant", "Tenant-ID"}
	case tenant == "":
		tenant = key.Tenant
	}
	if tenant == "" {
		return h.eng, nil
	}
	eng, err := h.eng.Tenant(tenant)
	if errors.Is(err, gamify.ErrNotFound) {
		return nil, &apiError{http.StatusNotFound, "tenant_not_found", fmt.Sprintf("tenant %s not found", tenant), "Tenant-ID"}
	}
	return eng, err
}

// decode reads a JSON body into v. A body over the limit is 413, malformed
// JSON 400.
func (c *call) decode(v any) error { return c.decodeBody(v, false) }

// decodeStrict is decode refusing unknown fields (422 naming the field), for
// admin bodies: a misspelt field must not silently change nothing.
func (c *call) decodeStrict(v any) error { return c.decodeBody(v, true) }

func (c *call) decodeBody(v any, strict bool) error {
	var body io.Reader = c.r.Body
	var read bytes.Buffer // what the decoder read, for an unknown field's path
	if strict {
		body = io.TeeReader(body, &read)
	}
	dec := json.NewDecoder(body)
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil {
		// dec.More is false before a stray ']' or '}': only EOF ends the body.
		_, err = dec.Token()
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &mbe):
			return tooLarge(mbe.Limit)
		}
		return &apiError{http.StatusBadRequest, "bad_request", "the body holds more after its JSON value", ""}
	}
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(mbe.Limit)
	case errors.Is(err, io.EOF):
		return &apiError{http.StatusBadRequest, "bad_request", "the request body is empty", ""}
	case errors.As(err, &ute):
		return typeError(ute, read.Bytes())
	}
	if ue, ok := unknownField(err, read.Bytes(), v); ok {
		return ue
	}
	return &apiError{http.StatusBadRequest, "bad_request", "malformed JSON: " + err.Error(), ""}
}

// unknownField is the 422 of encoding/json's unknown-field error, which has
// no typed form and names the bare field: the field is reported by its
// path in raw, the JSON decoded into v (`metrics[0].foo`).
func unknownField(err error, raw []byte, v any) (error, bool) {
	q, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return nil, false
	}
	f, uerr := strconv.Unquote(q)
	if uerr != nil {
		return nil, false
	}
	// The walk's field is the decoder's (a walk that went astray keeps the
	// bare name).
	if p, found := unknownPath(raw, v); found && (p == f || strings.HasSuffix(p, "."+f)) {
		f = p
	}
	return invalid(f, fmt.Sprintf("unknown field %q", f)), true
}

func tooLarge(limit int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is larger than %d bytes", limit), ""}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}
