package gamify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// Tenant is a customer whose data lives apart from every other tenant's.
//
// Each tenant has a database file of its own next to the engine's
// (<path>.tenants/<key>.db), opened on first use by Engine.Tenant with the
// engine's options. Separate files make isolation structural: no key, index,
// idempotency key or leaderboard of one tenant can reach another's.
type Tenant struct {
	Key  string // immutable customer id, [A-Za-z0-9_-]{1,64}
	Name string // display name, required
	// Status is active (the default) or inactive on Create. Engine.Tenant
	// refuses an inactive tenant (ErrConflict) and Deactivate closes its open
	// engine; its data file is kept for Activate. Delete archives it: Tenant
	// is then ErrNotFound, the file is kept and the key is never reused.
	Status  Status
	Created time.Time
	Updated time.Time

	ref uint32 // creation order
}

type storedTenant struct {
	Tenant
	Ref uint32 `json:"ref"`
}

// Validate reports every bad field of a tenant to create.
func (tn *Tenant) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("Tenant.Key", tn.Key); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateName("Tenant", tn.Name))
	return errors.Join(errs...)
}

const defTenant = "tenant/"

// TenantsAPI administers tenants. Get it from Engine.Tenants.
type TenantsAPI struct{ e *Engine }

// Tenants returns the tenants API.
func (e *Engine) Tenants() TenantsAPI { return TenantsAPI{e} }

// tenants holds the open tenant engines of an Engine.
type tenants struct {
	mu     sync.Mutex // guards open and closed
	open   map[string]*Engine
	closed bool // set by the engine's Close: no tenant opens after it
}

// Create registers a tenant; a key in use (even archived) is ErrConflict.
func (a TenantsAPI) Create(ctx context.Context, tn Tenant) (Tenant, error) {
	if err := tn.Validate(); err != nil {
		return Tenant{}, err
	}
	c, err := createDef(ctx, a.e, tenantDefs, tn)
	if err != nil {
		return Tenant{}, fmt.Errorf("create tenant %s: %w", tn.Key, err)
	}
	return c, nil
}

func (t *txn) createTenant(tn Tenant) (Tenant, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.tenants[tn.Key]; ok {
		return Tenant{}, fmt.Errorf("%w: tenant %s exists", ErrConflict, tn.Key)
	}
	// A tenant's data file is named after its key, and macOS and Windows
	// file systems ignore case: "Acme" and "acme" would share one file.
	for k := range cat.tenants {
		if strings.EqualFold(k, tn.Key) {
			return Tenant{}, fmt.Errorf("%w: tenant %s differs from tenant %s only in case", ErrConflict, tn.Key, gamifytype.Quote(k))
		}
	}
	switch tn.Status {
	case "":
		tn.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Tenant{}, gamifytype.Invalid("Tenant.Status", tn.Status, "must be active (the default) or inactive")
	}
	tn.Created, tn.Updated = stamp(t.now), stamp(t.now)
	cat.lastTenantRef++
	tn.ref = cat.lastTenantRef
	t.putTenant(&tn)
	return tn, nil
}

func (t *txn) putTenant(tn *Tenant) {
	t.catalogForWrite().tenants[tn.Key] = tn
	t.putJSON(store.Definitions, []byte(defTenant+tn.Key), storedTenant{Tenant: *tn, Ref: tn.ref})
}

// Get returns a tenant, archived or not, or ErrNotFound.
func (a TenantsAPI) Get(ctx context.Context, key string) (Tenant, error) {
	return getDef(a.e, "tenant", key, func(c *catalog) map[string]*Tenant { return c.tenants })
}

// List returns tenants in creation order, inactive ones included (archived
// ones only with IncludeArchived).
func (a TenantsAPI) List(ctx context.Context, opts ListOptions) ([]Tenant, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Tenant { return c.tenants },
		func(tn *Tenant) bool { return tn.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *Tenant) int { return cmp.Compare(x.ref, y.ref) })
}

// tenantDefs describes tenants for the shared admin verbs.
var tenantDefs = resource[Tenant]{
	what: "tenant", field: "Tenant", kind: "tenant", check: (*Tenant).Validate,
	defs:  func(c *catalog) map[string]*Tenant { return c.tenants },
	clone: func(tn Tenant) Tenant { return tn },
	owned: func(tn *Tenant) owned { return owned{tn.Key, tn.Status, tn.Created, tn.Updated, nil} },
	replace: func(t *txn, old *Tenant, tn Tenant) (Tenant, error) {
		if err := tn.Validate(); err != nil {
			return Tenant{}, err
		}
		tn.ref, tn.Updated = old.ref, stamp(t.now)
		t.putTenant(&tn)
		return tn, nil
	},
}

// Patch changes a tenant (its Name: Key, Status, Created and Updated are
// the engine's, and a change to one is a ValidationError). edit gets a copy
// of the stored tenant; it runs outside the writer and may run more than
// once if another write lands meanwhile, so it must only edit its argument.
func (a TenantsAPI) Patch(ctx context.Context, key string, edit func(*Tenant)) (Tenant, error) {
	return tenantDefs.patch(ctx, a.e, key, edit)
}

// Activate lets Engine.Tenant open an inactive tenant's engine again, over
// the data it had. Activating an active tenant changes nothing.
func (a TenantsAPI) Activate(ctx context.Context, key string) (Tenant, error) {
	return a.setStatus(ctx, key, StatusActive)
}

// Deactivate suspends a tenant: its open engine is closed (callers holding
// it get ErrClosed) and Engine.Tenant refuses it with ErrConflict until it is
// activated again. Its data file is kept untouched and it stays listed.
func (a TenantsAPI) Deactivate(ctx context.Context, key string) (Tenant, error) {
	tn, err := a.setStatus(ctx, key, StatusInactive)
	if err != nil {
		return Tenant{}, err
	}
	return tn, a.e.closeTenant(key)
}

func (a TenantsAPI) setStatus(ctx context.Context, key string, to Status) (Tenant, error) {
	return tenantDefs.setStatus(ctx, a.e, key, to)
}

func setTenantStatus(tn *Tenant, s Status, now time.Time) { tn.Status, tn.Updated = s, now }

// Delete archives a tenant: Engine.Tenant refuses it (ErrNotFound) from
// then on and its open engine is closed; its data file is kept and the key
// is never reused.
func (a TenantsAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, tenantDefs, key); err != nil {
		return fmt.Errorf("delete tenant %s: %w", gamifytype.Quote(key), err)
	}
	return a.e.closeTenant(key)
}

func (t *txn) archiveTenant(key string) error {
	old, ok := t.catalogForWrite().tenants[key]
	if !ok || old.Status == StatusArchived {
		return ErrNotFound
	}
	tn := *old
	tn.Status, tn.Updated = StatusArchived, stamp(t.now)
	t.putTenant(&tn)
	return nil
}

var _ = registerKind("tenant", kindOps[Tenant]{
	of:     func(string) resource[Tenant] { return tenantDefs },
	create: checkedCreate((*Tenant).Validate, (*txn).createTenant),
	status: func(t *txn, _, key string, to Status) (Tenant, error) {
		return tenantDefs.restatus(t, key, to, setTenantStatus, (*txn).putTenant)
	},
	archive: func(t *txn, _, key string) error { return t.archiveTenant(key) },
})

// BulkCreate creates up to 100 tenants in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a TenantsAPI) BulkCreate(ctx context.Context, ts []Tenant) ([]Tenant, []Issue, error) {
	return bulkCreate(ctx, a.e, tenantDefs, "Tenants", ts, func(tn *Tenant) string { return tn.Key })
}

// BulkPatch runs edit on up to 100 tenants in one commit (as Patch does for
// one), reporting failures per item; it returns the tenants it changed.
func (a TenantsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Tenant)) ([]Tenant, []Issue, error) {
	return tenantDefs.bulkPatch(ctx, a.e, keys, edit)
}

// BulkDelete archives up to 100 tenants in one commit (as Delete does for
// one), reporting failures per item.
func (a TenantsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	issues, err := bulkDelete(ctx, a.e, tenantDefs, keys)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, k := range keys {
		if !slices.ContainsFunc(issues, func(is Issue) bool { return is.Index == i }) {
			errs = append(errs, a.e.closeTenant(k))
		}
	}
	return issues, errors.Join(errs...)
}

// closeTenant closes the open engine of a tenant, if any.
func (e *Engine) closeTenant(key string) error {
	e.tenants.mu.Lock()
	te := e.tenants.open[key]
	delete(e.tenants.open, key)
	e.tenants.mu.Unlock()
	if te != nil {
		return te.Close()
	}
	return nil
}

// Tenant returns the engine of an active tenant: the whole API, over data no
// other tenant can read or change. It is opened on first use with this
// engine's options, beside this engine's file, and closed by this engine's
// Close; once Close has begun, Tenant returns ErrClosed. It has Stats of its
// own. An inactive tenant is ErrConflict; a missing or archived one
// ErrNotFound. A replicated engine (Options.Replication) has no tenant
// engines yet: Tenant returns ErrConflict (a tenant would need a shared log
// of its own).
func (e *Engine) Tenant(key string) (*Engine, error) {
	e.tenants.mu.Lock()
	defer e.tenants.mu.Unlock()
	// Checked under the lock that Close takes first, so that a tenant opened
	// by a call racing Close is closed by it, never left holding its file.
	if e.tenants.closed {
		return nil, ErrClosed
	}
	// The status is read under the lock: Deactivate and Delete publish theirs
	// before they close the engine, so none is opened after that close.
	tn, ok := e.cat.Load().tenants[key]
	switch {
	case !ok || tn.Status == StatusArchived:
		return nil, fmt.Errorf("tenant %s: %w", gamifytype.Quote(key), ErrNotFound)
	case tn.Status != StatusActive:
		return nil, fmt.Errorf("tenant %s: %w: the tenant is %s", gamifytype.Quote(key), ErrConflict, tn.Status)
	}
	if te, ok := e.tenants.open[key]; ok {
		return te, nil
	}
	if e.repl != nil {
		return nil, fmt.Errorf("tenant %s: %w: tenant engines are not replicated", gamifytype.Quote(key), ErrConflict)
	}
	dir := e.path + ".tenants"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", gamifytype.Quote(key), err)
	}
	opts := e.opts
	te, err := Open(filepath.Join(dir, key+".db"), &opts)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", gamifytype.Quote(key), err)
	}
	if e.tenants.open == nil {
		e.tenants.open = map[string]*Engine{}
	}
	e.tenants.open[key] = te
	return te, nil
}

// closeTenants closes every open tenant engine and refuses new ones.
func (e *Engine) closeTenants() error {
	e.tenants.mu.Lock()
	defer e.tenants.mu.Unlock()
	e.tenants.closed = true
	var first error
	for k, te := range e.tenants.open {
		first = cmp.Or(first, te.Close())
		delete(e.tenants.open, k)
	}
	return first
}
