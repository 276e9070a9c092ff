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
	Status      Status   // set by the engine: active or archived
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
	errs = append(errs, validateName("Metric", m.Name))
	if m.UnitType != "" && m.UnitType != UnitNumber && m.UnitType != UnitCurrency {
		errs = append(errs, gamifytype.Invalid("Metric.UnitType", m.UnitType, "must be number or currency"))
	}
	return errors.Join(errs...)
}

func validateName(what, name string) error {
	if name == "" {
		return gamifytype.Invalid(what+".Name", name, "must not be empty")
	}
	if len(name) > 255 {
		return gamifytype.Invalid(what+".Name", len(name), "must be at most 255 bytes")
	}
	return nil
}

// MetricUpdate changes the fields that are set (non-nil) of a metric.
type MetricUpdate struct {
	Name        *string
	Description *string
	ImageURL    *string
	UnitType    *UnitType
	Units       *string
}

func (u *MetricUpdate) validate() error {
	var errs []error
	if u.Name != nil {
		errs = append(errs, validateName("MetricUpdate", *u.Name))
	}
	if u.UnitType != nil && *u.UnitType != UnitNumber && *u.UnitType != UnitCurrency {
		errs = append(errs, gamifytype.Invalid("MetricUpdate.UnitType", *u.UnitType, "must be number or currency"))
	}
	return errors.Join(errs...)
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
	now := a.e.now()
	v, err := a.e.admin(ctx, now, func(t *txn) (any, error) { return t.createMetric(m) })
	if err != nil {
		return Metric{}, fmt.Errorf("create metric %s: %w", m.Key, err)
	}
	return v.(Metric), nil
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
	m.Status = StatusActive
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
	v, _ := json.Marshal(storedMetric{Metric: *m, Ref: m.ref})
	t.writes = append(t.writes, write{store.Definitions, []byte(defMetric + m.Key), v})
}

// Get returns the metric with key, archived or not, or ErrNotFound.
func (a MetricsAPI) Get(ctx context.Context, key string) (Metric, error) {
	return getDef(a.e, "metric", key, func(c *catalog) map[string]*Metric { return c.metrics })
}

// List returns metrics in creation order.
func (a MetricsAPI) List(ctx context.Context, opts ListOptions) ([]Metric, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*Metric { return c.metrics },
		func(m *Metric) bool { return m.Status == StatusActive || opts.IncludeArchived },
		func(x, y *Metric) int { return cmp.Compare(x.ref, y.ref) })
}

// Update changes the given fields of a metric.
func (a MetricsAPI) Update(ctx context.Context, key string, u MetricUpdate) (Metric, error) {
	if err := u.validate(); err != nil {
		return Metric{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) { return t.updateMetric(key, u) })
	if err != nil {
		return Metric{}, fmt.Errorf("update metric %s: %w", key, err)
	}
	return v.(Metric), nil
}

func (t *txn) updateMetric(key string, u MetricUpdate) (Metric, error) {
	old, ok := t.catalogForWrite().metrics[key]
	if !ok || old.Status == StatusArchived {
		return Metric{}, ErrNotFound
	}
	m := *old
	setIf(&m.Name, u.Name)
	setIf(&m.Description, u.Description)
	setIf(&m.ImageURL, u.ImageURL)
	setIf(&m.UnitType, u.UnitType)
	setIf(&m.Units, u.Units)
	m.Updated = stamp(t.now)
	t.putMetric(&m)
	return m, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Delete archives a metric: it disappears from lists and can no longer be
// tracked; users' totals and history are kept and the key is never reused.
func (a MetricsAPI) Delete(ctx context.Context, key string) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) { return nil, t.archiveMetric(key) })
	if err != nil {
		return fmt.Errorf("delete metric %s: %w", key, err)
	}
	return nil
}

func (t *txn) archiveMetric(key string) error {
	old, ok := t.catalogForWrite().metrics[key]
	if !ok || old.Status == StatusArchived {
		return ErrNotFound
	}
	m := *old
	m.Status = StatusArchived
	m.Updated = stamp(t.now)
	t.putMetric(&m)
	return nil
}

// BulkCreate creates up to 100 metrics in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a MetricsAPI) BulkCreate(ctx context.Context, ms []Metric) ([]Metric, []Issue, error) {
	if err := checkBulk("Metrics", len(ms)); err != nil {
		return nil, nil, err
	}
	var issues []Issue
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		var out []Metric
		for i, m := range ms {
			err := m.Validate()
			if err == nil {
				m, err = t.createMetric(m)
			}
			if err != nil {
				issues = append(issues, Issue{Index: i, Key: m.Key, Severity: SeverityError, Message: err.Error(), Err: err})
				continue
			}
			out = append(out, m)
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return v.([]Metric), issues, nil
}

// MetricPatch is one item of BulkUpdate.
type MetricPatch struct {
	Key string
	MetricUpdate
}

// BulkUpdate applies up to 100 updates in one commit, reporting failures per item.
func (a MetricsAPI) BulkUpdate(ctx context.Context, ps []MetricPatch) ([]Metric, []Issue, error) {
	if err := checkBulk("Patches", len(ps)); err != nil {
		return nil, nil, err
	}
	var issues []Issue
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		var out []Metric
		for i, p := range ps {
			err := p.validate()
			var m Metric
			if err == nil {
				m, err = t.updateMetric(p.Key, p.MetricUpdate)
			}
			if err != nil {
				issues = append(issues, Issue{Index: i, Key: p.Key, Severity: SeverityError, Message: err.Error(), Err: err})
				continue
			}
			out = append(out, m)
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return v.([]Metric), issues, nil
}

// BulkDelete archives up to 100 metrics in one commit, reporting failures per item.
func (a MetricsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	var issues []Issue
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		for i, k := range keys {
			if err := t.archiveMetric(k); err != nil {
				issues = append(issues, Issue{Index: i, Key: k, Severity: SeverityError, Message: err.Error(), Err: err})
			}
		}
		return nil, nil
	})
	return issues, err
}
