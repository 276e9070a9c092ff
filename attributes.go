package gamify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

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

// Attribute declares a key that users or events may carry. Values are
// strings of at most 255 bytes.
//
// An inactive attribute (Deactivate, or created with Status inactive) is
// refused in events and user profiles exactly like an undeclared key; the
// values users already hold are kept, and what reads them (achievement and
// trigger gates, leaderboard breakdowns) still sees them.
type Attribute struct {
	Key     string        // immutable, [A-Za-z0-9_-]{1,64}
	Name    string        // display name, required
	Type    AttributeType // user or event; immutable
	Status  Status        // active (the default), inactive or archived; see Activate, Deactivate, Delete
	Created time.Time
	Updated time.Time

	ref uint32 // creation order
}

type storedAttribute struct {
	Attribute
	Ref uint32 `json:"ref"`
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
	v, err := a.e.exec(ctx, a.e.now(), createAttributeOp.cmd(at))
	if err != nil {
		return Attribute{}, fmt.Errorf("create attribute %s: %w", at.Key, err)
	}
	return v.(Attribute), nil
}

// createAttribute stores a new, validated attribute.
func (t *txn) createAttribute(at Attribute) (Attribute, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.attrs[at.Key]; ok {
		return Attribute{}, fmt.Errorf("%w: attribute %s exists", ErrConflict, at.Key)
	}
	switch at.Status {
	case "":
		at.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Attribute{}, gamifytype.Invalid("Attribute.Status", at.Status, "must be active (the default) or inactive")
	}
	at.Created, at.Updated = stamp(t.now), stamp(t.now)
	at.ref = 1
	for _, o := range cat.attrs { // attributes are few
		at.ref = max(at.ref, o.ref+1)
	}
	t.putAttribute(&at)
	return at, nil
}

func (t *txn) putAttribute(a *Attribute) {
	t.catalogForWrite().attrs[a.Key] = a
	t.putJSON(store.Definitions, []byte(defAttribute+a.Key), storedAttribute{Attribute: *a, Ref: a.ref})
}

// Get returns an attribute, archived or not, or ErrNotFound.
func (a AttributesAPI) Get(ctx context.Context, key string) (Attribute, error) {
	return getDef(a.e, "attribute", key, func(c *catalog) map[string]*Attribute { return c.attrs })
}

// List returns attributes in creation order, inactive ones included,
// archived ones only with IncludeArchived.
func (a AttributesAPI) List(ctx context.Context, opts ListOptions) ([]Attribute, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Attribute { return c.attrs },
		func(at *Attribute) bool { return at.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *Attribute) int { return cmp.Or(cmp.Compare(x.ref, y.ref), cmp.Compare(x.Key, y.Key)) })
}

// attributes describes attributes for the shared admin verbs.
var attributes = resource[Attribute]{
	what: "attribute", field: "Attribute", kind: "attribute", check: (*Attribute).Validate,
	defs:  func(c *catalog) map[string]*Attribute { return c.attrs },
	clone: func(a Attribute) Attribute { return a },
	owned: func(a *Attribute) owned { return owned{a.Key, a.Status, a.Created, a.Updated, nil} },
	replace: func(t *txn, old *Attribute, a Attribute) (Attribute, error) {
		if a.Type != old.Type {
			return Attribute{}, gamifytype.Invalid("Attribute.Type", a.Type, "is immutable")
		}
		if err := a.Validate(); err != nil {
			return Attribute{}, err
		}
		a.ref, a.Updated = old.ref, stamp(t.now)
		t.putAttribute(&a)
		return a, nil
	},
}

// Patch changes an attribute: edit gets a copy of the stored attribute and
// sets the fields to change; the others are kept. Key, Type, Status, Created
// and Updated cannot change (a change to one is a ValidationError). edit runs
// outside the writer and may run more than once if another write lands
// meanwhile, so it must only edit its argument.
func (a AttributesAPI) Patch(ctx context.Context, key string, edit func(*Attribute)) (Attribute, error) {
	return attributes.patch(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 attributes in one commit (as Patch does
// for one), reporting failures per item; it returns the attributes it changed.
func (a AttributesAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Attribute)) ([]Attribute, []Issue, error) {
	return attributes.bulkPatch(ctx, a.e, keys, edit)
}

// Activate lets events and profiles carry an inactive attribute again.
// Activating an active attribute changes nothing.
func (a AttributesAPI) Activate(ctx context.Context, key string) (Attribute, error) {
	return a.setStatus(ctx, key, StatusActive)
}

// Deactivate makes events and profiles that set the attribute fail as if it
// were undeclared, until Activate; stored values are kept (see Attribute).
// Deactivating an inactive attribute changes nothing.
func (a AttributesAPI) Deactivate(ctx context.Context, key string) (Attribute, error) {
	return a.setStatus(ctx, key, StatusInactive)
}

func (a AttributesAPI) setStatus(ctx context.Context, key string, to Status) (Attribute, error) {
	return attributes.setStatus(ctx, a.e, key, to)
}

func setAttributeStatus(a *Attribute, s Status, now time.Time) { a.Status, a.Updated = s, now }

// Delete archives an attribute: it can no longer be set on users or events
// and disappears from lists; values already stored on users are kept and
// the key is never reused.
func (a AttributesAPI) Delete(ctx context.Context, key string) error {
	_, err := a.e.exec(ctx, a.e.now(), archiveAttributeOp.cmd(key))
	if err != nil {
		return fmt.Errorf("delete attribute %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

var (
	createAttributeOp  = newOp("attribute.create", (*txn).createAttribute)
	archiveAttributeOp = newOp("attribute.archive", func(t *txn, key string) (any, error) { return nil, t.archiveAttribute(key) })
)

func (t *txn) archiveAttribute(key string) error {
	_, err := attributes.restatus(t, key, StatusArchived, setAttributeStatus, (*txn).putAttribute)
	return err
}

var _ = registerKind("attribute", kindOps[Attribute]{
	of:     func(string) resource[Attribute] { return attributes },
	create: checkedCreate((*Attribute).Validate, (*txn).createAttribute),
	status: func(t *txn, _, key string, to Status) (Attribute, error) {
		return attributes.restatus(t, key, to, setAttributeStatus, (*txn).putAttribute)
	},
	archive: func(t *txn, _, key string) error { return t.archiveAttribute(key) },
})

// BulkCreate declares up to 100 attributes in one commit. Items that fail
// are reported as issues and skipped; the others are created.
func (a AttributesAPI) BulkCreate(ctx context.Context, ats []Attribute) ([]Attribute, []Issue, error) {
	return bulkCreate(ctx, a.e, attributes, "Attributes", ats, func(at *Attribute) string { return at.Key })
}

// BulkDelete archives up to 100 attributes in one commit, reporting
// failures per item.
func (a AttributesAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return bulkDelete(ctx, a.e, attributes, keys)
}

// checkAttributes verifies that every key of attrs is an active attribute of
// type typ; field names the map in errors ("Event.Attributes"). An inactive
// attribute is refused like an undeclared one.
func (c *catalog) checkAttributes(field string, typ AttributeType, attrs map[string]string) error {
	if len(attrs) > gamifytype.MaxMapEntries {
		return gamifytype.CheckLen(field, len(attrs), gamifytype.MaxMapEntries)
	}
	var errs []error
	for k, v := range attrs {
		at, ok := c.attrs[k]
		switch {
		case !ok || at.Status == StatusArchived:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is not a declared attribute"))
		case at.Status != StatusActive:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is not a declared attribute (it is inactive)"))
		case at.Type != typ:
			errs = append(errs, gamifytype.Invalid(field+"["+k+"]", k, "is a "+string(at.Type)+" attribute, not a "+string(typ)+" attribute"))
		case len(v) > gamifytype.MaxNameLen || !utf8.ValidString(v): // the field name is built on failure only: Track's hot path
			errs = append(errs, gamifytype.CheckText(field+"["+k+"]", v, gamifytype.MaxNameLen))
		}
	}
	return errors.Join(errs...)
}
