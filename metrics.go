package gamify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// UnitType says how a metric's values are shown.
type UnitType string

const (
	// UnitNumber is a plain count (the default).
	UnitNumber UnitType = "number"
	// UnitCurrency is money.
	UnitCurrency UnitType = "currency"
)

// Metric defines something users do that is counted: each user has a
// running total of the metric's event values.
type Metric struct {
	Key         string   // immutable, [A-Za-z0-9_-]{1,64}
	Name        string   // display name, required
	Description string   // optional
	ImageURL    string   // optional
	UnitType    UnitType // number (default) or currency
	Units       string   // label such as "steps" or "USD"
	Status      Status   // active (the default), inactive or archived; see Activate, Deactivate, Delete
	Created     time.Time
	Updated     time.Time

	ref uint32 // compact internal id used in stored keys
}

type storedMetric struct {
	Metric
	Ref uint32 `json:"ref"`
}

// Validate reports every bad field of a metric to create.
func (m *Metric) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("Metric.Key", m.Key); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateName("Metric", m.Name),
		gamifytype.CheckText("Metric.Description", m.Description, gamifytype.MaxTextLen),
		gamifytype.CheckText("Metric.ImageURL", m.ImageURL, gamifytype.MaxURLLen),
		gamifytype.CheckText("Metric.Units", m.Units, gamifytype.MaxNameLen))
	if m.UnitType != "" && m.UnitType != UnitNumber && m.UnitType != UnitCurrency {
		errs = append(errs, gamifytype.Invalid("Metric.UnitType", m.UnitType, "must be number or currency"))
	}
	return errors.Join(errs...)
}

// validateName checks a required display name (gamifytype.MaxNameLen).
func validateName(what, name string) error {
	if name == "" {
		return gamifytype.Invalid(what+".Name", name, "must not be empty")
	}
	return gamifytype.CheckText(what+".Name", name, gamifytype.MaxNameLen)
}

// MetricsAPI administers metric definitions. Get it from Engine.Metrics.
type MetricsAPI struct{ e *Engine }

// Metrics returns the metric administration API.
func (e *Engine) Metrics() MetricsAPI { return MetricsAPI{e} }

// Create defines a new metric. A key in use, even by an archived metric,
// is ErrConflict.
func (a MetricsAPI) Create(ctx context.Context, m Metric) (Metric, error) {
	if err := m.Validate(); err != nil {
		return Metric{}, err
	}
	c, err := createDef(ctx, a.e, metrics, m)
	if err != nil {
		return Metric{}, fmt.Errorf("create metric %s: %w", m.Key, err)
	}
	return c, nil
}

func (t *txn) catalogForWrite() *catalog {
	if t.cat == nil {
		t.cat = t.w.cat.clone()
	}
	return t.cat
}

func (t *txn) createMetric(m Metric) (Metric, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.metrics[m.Key]; ok {
		return Metric{}, fmt.Errorf("%w: metric %s exists", ErrConflict, m.Key)
	}
	m.UnitType = cmp.Or(m.UnitType, UnitNumber)
	switch m.Status {
	case "":
		m.Status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return Metric{}, gamifytype.Invalid("Metric.Status", m.Status, "must be active (the default) or inactive")
	}
	m.Created, m.Updated = stamp(t.now), stamp(t.now)
	cat.lastMetricRef++
	m.ref = cat.lastMetricRef
	t.putMetric(&m)
	return m, nil
}

func (t *txn) putMetric(m *Metric) {
	cat := t.catalogForWrite()
	cat.metrics[m.Key] = m
	cat.metricByRef[m.ref] = m
	t.putJSON(store.Definitions, []byte(defMetric+m.Key), storedMetric{Metric: *m, Ref: m.ref})
}

// Get returns the metric with key, archived or not, or ErrNotFound.
func (a MetricsAPI) Get(ctx context.Context, key string) (Metric, error) {
	return getDef(a.e, "metric", key, func(c *catalog) map[string]*Metric { return c.metrics })
}

// List returns metrics in creation order.
func (a MetricsAPI) List(ctx context.Context, opts ListOptions) ([]Metric, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Metric { return c.metrics },
		func(m *Metric) bool { return m.Status != StatusArchived || opts.IncludeArchived },
		func(x, y *Metric) int { return cmp.Compare(x.ref, y.ref) })
}

// metrics describes metrics for the shared admin verbs.
var metrics = resource[Metric]{
	what: "metric", field: "Metric", kind: "metric", check: (*Metric).Validate,
	defs:  func(c *catalog) map[string]*Metric { return c.metrics },
	clone: func(m Metric) Metric { return m },
	owned: func(m *Metric) owned { return owned{m.Key, m.Status, m.Created, m.Updated, nil} },
	replace: func(t *txn, old *Metric, m Metric) (Metric, error) {
		if err := m.Validate(); err != nil {
			return Metric{}, err
		}
		m.UnitType = cmp.Or(m.UnitType, UnitNumber)
		m.ref, m.Updated = old.ref, stamp(t.now)
		t.putMetric(&m)
		return m, nil
	},
}

// Patch changes a metric: edit gets a copy of the stored metric and sets the
// fields to change; the others are kept. Key, Status, Created and Updated
// are the engine's (a change to one is a ValidationError). edit runs
// outside the writer and may run more than once if another write lands
// meanwhile, so it must only edit its argument.
func (a MetricsAPI) Patch(ctx context.Context, key string, edit func(*Metric)) (Metric, error) {
	return metrics.patch(ctx, a.e, key, edit)
}

// Activate makes an inactive metric count events again. Activating an
// active metric changes nothing.
func (a MetricsAPI) Activate(ctx context.Context, key string) (Metric, error) {
	return a.setStatus(ctx, key, StatusActive)
}

// Deactivate stops a metric from counting: Track refuses its events until
// it is activated again; totals and history are kept.
func (a MetricsAPI) Deactivate(ctx context.Context, key string) (Metric, error) {
	return a.setStatus(ctx, key, StatusInactive)
}

func (a MetricsAPI) setStatus(ctx context.Context, key string, to Status) (Metric, error) {
	return metrics.setStatus(ctx, a.e, key, to)
}

func setMetricStatus(m *Metric, s Status, now time.Time) { m.Status, m.Updated = s, now }

// Delete archives a metric: it disappears from lists and can no longer be
// tracked; users' totals and history are kept and the key is never reused.
func (a MetricsAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, metrics, key); err != nil {
		return fmt.Errorf("delete metric %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

func (t *txn) archiveMetric(key string) error {
	_, err := metrics.restatus(t, key, StatusArchived, setMetricStatus, (*txn).putMetric)
	return err
}

var _ = registerKind("metric", kindOps[Metric]{
	of:     func(string) resource[Metric] { return metrics },
	create: checkedCreate((*Metric).Validate, (*txn).createMetric),
	status: func(t *txn, _, key string, to Status) (Metric, error) {
		return metrics.restatus(t, key, to, setMetricStatus, (*txn).putMetric)
	},
	archive: func(t *txn, _, key string) error { return t.archiveMetric(key) },
})

// BulkCreate creates up to 100 metrics in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a MetricsAPI) BulkCreate(ctx context.Context, ms []Metric) ([]Metric, []Issue, error) {
	return bulkCreate(ctx, a.e, metrics, "Metrics", ms, func(m *Metric) string { return m.Key })
}

// BulkPatch runs edit on up to 100 metrics in one commit (as Patch does for
// one), reporting failures per item; it returns the metrics it changed.
func (a MetricsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Metric)) ([]Metric, []Issue, error) {
	return metrics.bulkPatch(ctx, a.e, keys, edit)
}

// BulkDelete archives up to 100 metrics in one commit, reporting failures per item.
func (a MetricsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return bulkDelete(ctx, a.e, metrics, keys)
}
