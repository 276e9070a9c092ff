package gamify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// AttributeType says where an attribute's values live.
type AttributeType string

const (
	// UserAttribute values describe a user (plan, country); they gate
	// achievements, triggers and boosts and split leaderboards.
	UserAttribute AttributeType = "user"
	// EventAttribute values describe one event (level, mode); they filter
	// achievements and triggers.
	EventAttribute AttributeType = "event"
)

// Attribute declares a key that users or events may carry. Values are strings.
type Attribute struct {
	Key     string
	Name    string
	Type    AttributeType
	Status  Status
	Created time.Time
	Updated time.Time
}

// Validate reports every bad field of an attribute to create.
func (a *Attribute) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("Attribute.Key", a.Key); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateName("Attribute", a.Name))
	if a.Type != UserAttribute && a.Type != EventAttribute {
		errs = append(errs, gamifytype.Invalid("Attribute.Type", a.Type, "must be user or event"))
	}
	return errors.Join(errs...)
}

// AttributesAPI administers attribute declarations. Get it from Engine.Attributes.
type AttributesAPI struct{ e *Engine }

// Attributes returns the attribute administration API.
func (e *Engine) Attributes() AttributesAPI { return AttributesAPI{e} }

// Create declares an attribute. A key in use, even archived, is ErrConflict.
func (a AttributesAPI) Create(ctx context.Context, at Attribute) (Attribute, error) {
	if err := at.Validate(); err != nil {
		return Attribute{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if _, ok := cat.attrs[at.Key]; ok {
			return nil, fmt.Errorf("%w: attribute %s exists", ErrConflict, at.Key)
		}
		at.Status = StatusActive
		at.Created, at.Updated = stamp(t.now), stamp(t.now)
		t.putAttribute(&at)
		return at, nil
	})
	if err != nil {
		return Attribute{}, fmt.Errorf("create attribute %s: %w", at.Key, err)
	}
	return v.(Attribute), nil
}

func (t *txn) putAttribute(a *Attribute) {
	t.catalogForWrite().attrs[a.Key] = a
	v, _ := json.Marshal(a)
	t.writes = append(t.writes, write{store.Definitions, []byte(defAttribute + a.Key), v})
}

// Get returns an attribute, archived or not, or ErrNotFound.
func (a AttributesAPI) Get(ctx context.Context, key string) (Attribute, error) {
	return getDef(a.e, "attribute", key, func(c *catalog) map[string]*Attribute { return c.attrs })
}

// List returns attributes ordered by key.
func (a AttributesAPI) List(ctx context.Context, opts ListOptions) ([]Attribute, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Attribute { return c.attrs },
		func(at *Attribute) bool { return at.Status == StatusActive || opts.IncludeArchived },
		func(x, y *Attribute) int { return cmp.Compare(x.Key, y.Key) })
}

// Update renames an attribute (its key and type are immutable).
func (a AttributesAPI) Update(ctx context.Context, key, name string) (Attribute, error) {
	if err := validateName("Attribute", name); err != nil {
		return Attribute{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		old, ok := t.catalogForWrite().attrs[key]
		if !ok || old.Status == StatusArchived {
			return nil, ErrNotFound
		}
		at := *old
		at.Name, at.Updated = name, stamp(t.now)
		t.putAttribute(&at)
		return at, nil
	})
	if err != nil {
		return Attribute{}, fmt.Errorf("update attribute %s: %w", key, err)
	}
	return v.(Attribute), nil
}

// Delete archives an attribute: it can no longer be set on users or events.
// Values already stored on users are kept.
func (a AttributesAPI) Delete(ctx context.Context, key string) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		old, ok := t.catalogForWrite().attrs[key]
		if !ok || old.Status == StatusArchived {
			return nil, ErrNotFound
		}
		at := *old
		at.Status, at.Updated = StatusArchived, stamp(t.now)
		t.putAttribute(&at)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("delete attribute %s: %w", key, err)
	}
	return nil
}

// checkAttributes verifies that every key of attrs is an active attribute of
// type typ; field names the map in errors ("Event.Attributes").
func (c *catalog) checkAttributes(field string, typ AttributeType, attrs map[string]string) error {
	var errs []error
	for k, v := range attrs {
		at, ok := c.attrs[k]
		switch {
		case !ok || at.Status != StatusActive:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is not a declared attribute"))
		case at.Type != typ:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is a "+string(at.Type)+" attribute, not a "+string(typ)+" attribute"))
		case len(v) > 255:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", len(v), "value must be at most 255 bytes"))
		}
	}
	return errors.Join(errs...)
}
