package gamify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	Key     string // immutable customer id, [A-Za-z0-9_-]{1,64}
	Name    string
	Status  Status // active or archived
	Created time.Time
	Updated time.Time
}

const defTenant = "tenant/"

// TenantsAPI administers tenants. Get it from Engine.Tenants.
type TenantsAPI struct{ e *Engine }

// Tenants returns the tenants API.
func (e *Engine) Tenants() TenantsAPI { return TenantsAPI{e} }

// tenants holds the open tenant engines of an Engine.
type tenants struct {
	mu   sync.Mutex // guards open
	open map[string]*Engine
}

// Create registers a tenant; a key in use (even archived) is ErrConflict.
func (a TenantsAPI) Create(ctx context.Context, key, name string) (Tenant, error) {
	if err := gamifytype.ValidateKey("Tenant.Key", key); err != nil {
		return Tenant{}, err
	}
	if err := validateName("Tenant", name); err != nil {
		return Tenant{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		if _, ok, err := a.e.readTenant(key); err != nil || ok {
			return nil, cmpErr(err, fmt.Errorf("%w: tenant %s exists", ErrConflict, key))
		}
		tn := Tenant{Key: key, Name: name, Status: StatusActive, Created: stamp(t.now), Updated: stamp(t.now)}
		t.putTenant(tn)
		return tn, nil
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("create tenant %s: %w", key, err)
	}
	return v.(Tenant), nil
}

func (t *txn) putTenant(tn Tenant) {
	v, _ := json.Marshal(tn)
	t.writes = append(t.writes, write{store.Definitions, []byte(defTenant + tn.Key), v})
}

func (e *Engine) readTenant(key string) (Tenant, bool, error) {
	var tn Tenant
	var ok bool
	err := e.db.View(func(tx *store.Tx) error {
		v := tx.Get(store.Definitions, []byte(defTenant+key))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &tn)
	})
	return tn, ok, err
}

// Get returns a tenant, archived or not, or ErrNotFound.
func (a TenantsAPI) Get(ctx context.Context, key string) (Tenant, error) {
	if err := a.e.live(); err != nil {
		return Tenant{}, err
	}
	tn, ok, err := a.e.readTenant(key)
	if err == nil && !ok {
		err = ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant %s: %w", key, err)
	}
	return tn, nil
}

// List returns tenants ordered by key.
func (a TenantsAPI) List(ctx context.Context, opts ListOptions) ([]Tenant, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	if err := a.e.live(); err != nil {
		return nil, err
	}
	var all []Tenant
	err = a.e.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Definitions, []byte(defTenant), func(_, v []byte) error {
			var tn Tenant
			if err := json.Unmarshal(v, &tn); err != nil {
				return err
			}
			if tn.Status == StatusActive || opts.IncludeArchived {
				all = append(all, tn)
			}
			return nil
		})
	})
	return page(all, opts.Skip, limit), err // the scan is in key order
}

// Update renames a tenant.
func (a TenantsAPI) Update(ctx context.Context, key, name string) (Tenant, error) {
	if err := validateName("Tenant", name); err != nil {
		return Tenant{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		tn, ok, err := a.e.readTenant(key)
		if err != nil || !ok || tn.Status != StatusActive {
			return nil, cmpErr(err, ErrNotFound)
		}
		tn.Name, tn.Updated = name, stamp(t.now)
		t.putTenant(tn)
		return tn, nil
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("update tenant %s: %w", key, err)
	}
	return v.(Tenant), nil
}

// Delete archives a tenant: Tenant refuses it from then on and its open
// engine is closed; its file is kept.
func (a TenantsAPI) Delete(ctx context.Context, key string) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		tn, ok, err := a.e.readTenant(key)
		if err != nil || !ok || tn.Status != StatusActive {
			return nil, cmpErr(err, ErrNotFound)
		}
		tn.Status, tn.Updated = StatusArchived, stamp(t.now)
		t.putTenant(tn)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("delete tenant %s: %w", key, err)
	}
	a.e.tenants.mu.Lock()
	te := a.e.tenants.open[key]
	delete(a.e.tenants.open, key)
	a.e.tenants.mu.Unlock()
	if te != nil {
		return te.Close()
	}
	return nil
}

// Tenant returns the engine of an active tenant: the whole API, over data no
// other tenant can read or change. It is opened on first use with this
// engine's options and closed by this engine's Close.
func (e *Engine) Tenant(key string) (*Engine, error) {
	if err := e.live(); err != nil {
		return nil, err
	}
	tn, ok, err := e.readTenant(key)
	if err == nil && (!ok || tn.Status != StatusActive) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", key, err)
	}
	e.tenants.mu.Lock()
	defer e.tenants.mu.Unlock()
	if te, ok := e.tenants.open[key]; ok {
		return te, nil
	}
	dir := e.db.Path() + ".tenants"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", key, err)
	}
	opts := e.opts
	te, err := Open(filepath.Join(dir, key+".db"), &opts)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", key, err)
	}
	if e.tenants.open == nil {
		e.tenants.open = map[string]*Engine{}
	}
	e.tenants.open[key] = te
	return te, nil
}

// closeTenants closes every open tenant engine.
func (e *Engine) closeTenants() error {
	e.tenants.mu.Lock()
	defer e.tenants.mu.Unlock()
	var first error
	for k, te := range e.tenants.open {
		first = cmp.Or(first, te.Close())
		delete(e.tenants.open, k)
	}
	return first
}
