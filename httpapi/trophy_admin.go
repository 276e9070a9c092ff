package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gamifykit/gamify"
)

// Trophy's admin API, under /admin/v1; every endpoint needs an admin key.
// Definitions follow one shape: GET list (limit, skip), GET one by id, POST
// an array to create, PATCH an array of {id, ...} to update, DELETE ?ids=.
// Writes answer {created|updated|deleted, issues} with per-item issues, 201
// when anything was created.
func (h *handler) routeTrophyAdmin() {
	const p = "/admin/v1"
	h.handle("POST "+p+"/metrics/events", adminKey, h.batchEvents)
	h.handle("POST "+p+"/streaks/freezes", adminKey, h.grantFreezes)
	h.handle("POST "+p+"/streaks/restore", adminKey, h.restoreStreaks)
	h.handle("POST "+p+"/streaks/pauses", adminKey, h.createPauses)
	h.handle("DELETE "+p+"/streaks/pauses", adminKey, h.deletePauses)

	routeAdmin(h, p+"/attributes", attributesResource)
	routeAdmin(h, p+"/achievements", resource[gamify.Achievement]{achievementsOps, trophyAchievementCodec})
	routeAdmin(h, p+"/metrics", metricsResource)
	routeAdmin(h, p+"/tenants", tenantsResource)
	routeAdmin(h, p+"/leaderboards", leaderboardsResource)
	routeAdmin(h, p+"/points/systems", systemsResource)
	routeAdmin(h, p+"/points/systems/{systemId}/boosts", boostsResource)
	routeAdmin(h, p+"/points/systems/{systemId}/triggers", triggersResource)
	routeAdmin(h, p+"/points/systems/{systemId}/levels", levelsResource)
}

// ---- batch events

type batchEventIn struct {
	eventIn
	Key            string `json:"key"`
	IdempotencyKey string `json:"idempotencyKey"`
}

type issueOut struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	UserID   string `json:"userId,omitempty"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

type batchOut struct {
	Accepted int        `json:"accepted"`
	Issues   []issueOut `json:"issues"`
}

func itemIssue(i int, err error) issueOut {
	ae, known := classify(err)
	msg := ae.message
	if !known {
		msg = "internal error"
	}
	return issueOut{Index: &i, Severity: string(gamify.SeverityError), Message: msg}
}

// batchEvents applies up to 1000 events. Trophy queues them; here they are
// applied before the answer. The valid items go through one TrackBatch (one
// commit); if it fails, each is tracked alone so that one bad item does not
// sink the others, and the failures come back as per-item issues.
func (h *handler) batchEvents(c *call) (int, any, error) {
	var in []batchEventIn
	if err := c.decodeStrict(&in); err != nil {
		return 0, nil, err
	}
	if len(in) == 0 || len(in) > 1000 {
		return 0, nil, invalid("events", "a batch holds 1 to 1000 events")
	}
	out := batchOut{Issues: []issueOut{}}
	// An item's issue names its metric and user, as Trophy's do.
	issue := func(i int, err error) issueOut {
		is := itemIssue(i, err)
		is.ID = in[i].Key
		if in[i].User != nil {
			is.UserID = in[i].User.ID
		}
		return is
	}
	var evs []gamify.Event
	var idx []int
	for i := range in {
		if in[i].Key == "" {
			out.Issues = append(out.Issues, issue(i, invalid("key", "key is required")))
			continue
		}
		ev, err := in[i].event(in[i].Key, in[i].IdempotencyKey)
		if err != nil {
			out.Issues = append(out.Issues, issue(i, err))
			continue
		}
		evs, idx = append(evs, ev), append(idx, i)
	}
	if len(evs) > 0 {
		if rs, err := c.eng.TrackBatch(c.ctx(), evs); err == nil {
			for _, r := range rs {
				if !r.IdempotentReplayed { // a replay applied nothing
					out.Accepted++
				}
			}
		} else if ae, _ := classify(err); ae.status >= 500 {
			return 0, nil, err
		} else {
			for j, ev := range evs {
				r, err := c.eng.Track(c.ctx(), ev)
				if err != nil {
					if ae, _ := classify(err); ae.status >= 500 {
						return 0, nil, err
					}
					out.Issues = append(out.Issues, issue(idx[j], err))
					continue
				}
				if !r.IdempotentReplayed {
					out.Accepted++
				}
			}
		}
	}
	sortIssues(out.Issues)
	return http.StatusAccepted, out, nil
}

// sortIssues orders issues by item index.
func sortIssues(is []issueOut) {
	slices.SortStableFunc(is, func(a, b issueOut) int { return cmp.Compare(*a.Index, *b.Index) })
}

// ---- streak freezes and restore

type freezesIn struct {
	Freezes []struct {
		UserID string `json:"userId"`
	} `json:"freezes"`
}

type streakUsersOut struct {
	Issues []issueOut `json:"issues"`
}

func streakIssues(res []gamify.StreakUserResult, issues []gamify.Issue, users []string) []issueOut {
	out := []issueOut{}
	for _, is := range issues {
		i := is.Index
		o := issueOut{Index: &i, Severity: string(is.Severity), Message: is.Message}
		if i >= 0 && i < len(users) {
			o.UserID = users[i]
		}
		out = append(out, o)
	}
	for _, r := range res {
		if r.Warning != "" && !slices.ContainsFunc(out, func(o issueOut) bool { return o.UserID == r.User && o.Message == r.Warning }) {
			out = append(out, issueOut{UserID: r.User, Severity: string(gamify.SeverityWarning), Message: r.Warning})
		}
	}
	return out
}

func (h *handler) grantFreezes(c *call) (int, any, error) {
	var in freezesIn
	if err := c.decodeStrict(&in); err != nil {
		return 0, nil, err
	}
	users := []string{}
	for _, f := range in.Freezes {
		users = append(users, f.UserID)
	}
	if len(users) == 0 || len(users) > gamify.BulkLimit {
		return 0, nil, invalid("freezes", "freezes must hold 1 to 100 items")
	}
	def, err := c.defaultStreak()
	if err != nil {
		return 0, nil, err
	}
	res, issues, err := c.eng.Streaks().GrantFreezes(c.ctx(), def.Key, users)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, streakUsersOut{Issues: streakIssues(res, issues, users)}, nil
}

type restoreIn struct {
	Users []struct {
		ID string `json:"id"`
	} `json:"users"`
}

type restoreOut struct {
	RestoredUsers []string   `json:"restoredUsers"`
	Issues        []issueOut `json:"issues"`
}

func (h *handler) restoreStreaks(c *call) (int, any, error) {
	var in restoreIn
	if err := c.decodeStrict(&in); err != nil {
		return 0, nil, err
	}
	users := []string{}
	for _, u := range in.Users {
		users = append(users, u.ID)
	}
	if len(users) == 0 || len(users) > gamify.BulkLimit {
		return 0, nil, invalid("users", "users must hold 1 to 100 items")
	}
	def, err := c.defaultStreak()
	if err != nil {
		return 0, nil, err
	}
	res, issues, err := c.eng.Streaks().Restore(c.ctx(), def.Key, users)
	if err != nil {
		return 0, nil, err
	}
	out := restoreOut{RestoredUsers: []string{}, Issues: streakIssues(res, issues, users)}
	for _, r := range res {
		if r.Warning == "" {
			out.RestoredUsers = append(out.RestoredUsers, r.User)
		}
	}
	return http.StatusOK, out, nil
}

// ---- the admin shape, once for every definition

// ops are the engine's admin verbs of one definition type D.
type ops[D any] struct {
	list   func(c *call, o gamify.ListOptions) ([]D, error)
	get    func(c *call, key string) (D, error)
	create func(c *call, ds []D) ([]D, []gamify.Issue, error)
	delete func(c *call, keys []string) ([]gamify.Issue, error)
	patch  func(c *call, key string, edit func(*D)) (D, error)
	status func(c *call, key, status string) (D, error)
	// more are the statuses status takes beyond active, scheduled and
	// inactive (finished for boards, locked for achievements).
	more []gamify.Status
}

// codec is one API's JSON for D: decode reads a create item; edit reads an
// update item into the key it names, an edit of the definition and an
// optional status change; out writes a definition.
type codec[D any] struct {
	decode func(c *call, raw json.RawMessage) (D, error)
	edit   func(c *call, raw json.RawMessage) (key string, edit func(*D), status string, err error)
	out    func(D) any
}

// resource adapts one definition type D to an API's admin shape.
type resource[D any] struct {
	ops[D]
	codec[D]
}

func routeAdmin[D any](h *handler, path string, r resource[D]) {
	h.handle("GET "+path, adminKey, func(c *call) (int, any, error) {
		limit, err := c.queryInt("limit", 10, 1, 100)
		if err != nil {
			return 0, nil, err
		}
		skip, err := c.queryInt("skip", 0, 0, 1<<30)
		if err != nil {
			return 0, nil, err
		}
		ds, err := r.list(c, gamify.ListOptions{Limit: limit, Skip: skip})
		if err != nil {
			return 0, nil, err
		}
		out := []any{}
		for _, d := range ds {
			out = append(out, r.out(d))
		}
		return http.StatusOK, out, nil
	})
	h.handle("GET "+path+"/{id}", adminKey, func(c *call) (int, any, error) {
		d, err := r.get(c, c.r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, r.out(d), nil
	})
	h.handle("POST "+path, adminKey, func(c *call) (int, any, error) {
		items, err := c.items()
		if err != nil {
			return 0, nil, err
		}
		out := struct {
			Created []any      `json:"created"`
			Issues  []issueOut `json:"issues"`
		}{[]any{}, []issueOut{}}
		var ds []D
		var idx []int
		for i, raw := range items {
			d, err := r.decode(c, raw)
			if err != nil {
				out.Issues = append(out.Issues, itemIssue(i, err))
				continue
			}
			ds, idx = append(ds, d), append(idx, i)
		}
		if len(ds) > 0 {
			created, issues, err := r.create(c, ds)
			if err != nil {
				return 0, nil, err
			}
			for _, is := range issues {
				i := idx[is.Index]
				msg := is.Message
				if is.Err != nil {
					if e := filterElement(items[i], is.Err); e != is.Err {
						msg = e.Error()
					}
				}
				out.Issues = append(out.Issues, issueOut{Index: &i, ID: is.Key, Severity: string(is.Severity), Message: msg})
			}
			for _, d := range created {
				out.Created = append(out.Created, r.out(d))
			}
		}
		sortIssues(out.Issues)
		if len(out.Created) > 0 {
			return http.StatusCreated, out, nil
		}
		return http.StatusOK, out, nil
	})
	h.handle("PATCH "+path, adminKey, func(c *call) (int, any, error) {
		items, err := c.items()
		if err != nil {
			return 0, nil, err
		}
		out := struct {
			Updated []any      `json:"updated"`
			Issues  []issueOut `json:"issues"`
		}{[]any{}, []issueOut{}}
		for i, raw := range items {
			key, d, err := patchItem(c, r, raw)
			if err != nil {
				o := itemIssue(i, filterElement(raw, err))
				o.ID = key
				out.Issues = append(out.Issues, o)
				continue
			}
			out.Updated = append(out.Updated, r.out(d))
		}
		return http.StatusOK, out, nil
	})
	h.handle("DELETE "+path, adminKey, func(c *call) (int, any, error) {
		ids := c.queryList("ids")
		if len(ids) == 0 || len(ids) > gamify.BulkLimit {
			return 0, nil, invalid("ids", "ids must list 1 to 100 ids")
		}
		issues, err := r.delete(c, ids)
		if err != nil {
			return 0, nil, err
		}
		out := struct {
			Deleted []string   `json:"deleted"`
			Issues  []issueOut `json:"issues"`
		}{[]string{}, []issueOut{}}
		failed := map[int]bool{}
		for _, is := range issues {
			i := is.Index
			out.Issues = append(out.Issues, issueOut{Index: &i, ID: ids[i], Severity: string(is.Severity), Message: is.Message})
			failed[i] = is.Severity == gamify.SeverityError
		}
		for i, id := range ids {
			if !failed[i] {
				out.Deleted = append(out.Deleted, id)
			}
		}
		return http.StatusOK, out, nil
	})
}

// patchItem applies one update item: its fields, then its status. A status
// outside the lifecycle is refused before anything changes; a status change
// the state refuses (activating a finished board) is reported as such, the
// fields having been updated.
func patchItem[D any](c *call, r resource[D], raw json.RawMessage) (string, D, error) {
	var d D
	key, edit, status, err := r.edit(c, raw)
	if err != nil {
		return key, d, err
	}
	// Checked before the patch: a status this resource lacks must change
	// nothing, not update the other fields and then fail.
	switch st := gamify.Status(status); st {
	case "", gamify.StatusActive, gamify.StatusScheduled, gamify.StatusInactive:
	default:
		if !slices.Contains(r.more, st) {
			return key, d, invalid("status", fmt.Sprintf("status %q cannot be set here", status))
		}
	}
	if d, err = r.patch(c, key, edit); err != nil || status == "" {
		return key, d, err
	}
	if d, err = r.status(c, key, status); err != nil {
		return key, d, fmt.Errorf("the other fields were updated, the status was not: %w", err)
	}
	return key, d, nil
}

// fixed refuses a PATCH giving a create-only field a new value: the edit
// would ignore it and answer updated. Each pair is field name, given, current.
func fixed(noun string, pairs ...string) error {
	for i := 0; i+2 < len(pairs); i += 3 {
		if pairs[i+1] != "" && pairs[i+1] != pairs[i+2] {
			return invalid(pairs[i], fmt.Sprintf("a %s's %s cannot change", noun, pairs[i]))
		}
	}
	return nil
}

// items reads a JSON array of 1 to 100 items.
func (c *call) items() ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := c.decode(&items); err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > gamify.BulkLimit {
		return nil, invalid("items", "the body must be an array of 1 to 100 items")
	}
	return items, nil
}

// strictItem decodes one item, refusing unknown fields: an admin write
// that misspells a field must not silently change nothing.
func strictItem(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return typeError(ute, raw)
		}
		if ue, ok := unknownField(err, raw, v); ok {
			return ue
		}
		return invalid("", "bad item: "+err.Error())
	}
	return nil
}

// checked turns a fallible apply into an edit, after a trial run on a zero
// value has caught its errors: Patch's edit cannot fail.
func checked[D any](apply func(*D) error) (func(*D), error) {
	var probe D
	if err := apply(&probe); err != nil {
		return nil, err
	}
	return func(d *D) { _ = apply(d) }, nil
}

// editStatus applies a Trophy status through the lifecycle verbs.
func editStatus[D any](activate, deactivate func(context.Context, string) (D, error), finish func(context.Context, string) (D, error)) func(c *call, key, status string) (D, error) {
	return func(c *call, key, status string) (D, error) {
		switch gamify.Status(status) {
		case gamify.StatusActive, gamify.StatusScheduled:
			return activate(c.ctx(), key)
		case gamify.StatusInactive:
			return deactivate(c.ctx(), key)
		case gamify.StatusFinished:
			if finish != nil {
				return finish(c.ctx(), key)
			}
		}
		var zero D
		return zero, invalid("status", fmt.Sprintf("status %q cannot be set here", status))
	}
}

// ---- attributes

type attributeIO struct {
	ID      string     `json:"id,omitempty"`
	Key     string     `json:"key,omitempty"`
	Name    *string    `json:"name,omitempty"`
	Type    string     `json:"type,omitempty"`
	Status  string     `json:"status,omitempty"`
	Created *time.Time `json:"created,omitempty"`
	Updated *time.Time `json:"updated,omitempty"`
}

var attributesOps = ops[gamify.Attribute]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Attribute, error) {
		return c.eng.Attributes().List(c.ctx(), o)
	},
	get: func(c *call, k string) (gamify.Attribute, error) { return c.eng.Attributes().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Attribute) ([]gamify.Attribute, []gamify.Issue, error) {
		return c.eng.Attributes().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) { return c.eng.Attributes().BulkDelete(c.ctx(), ks) },
	patch: func(c *call, k string, e func(*gamify.Attribute)) (gamify.Attribute, error) {
		return c.eng.Attributes().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Attribute, error) {
		a := c.eng.Attributes()
		return editStatus(a.Activate, a.Deactivate, nil)(c, k, s)
	},
}

var attributesResource = resource[gamify.Attribute]{attributesOps, codec[gamify.Attribute]{
	decode: func(c *call, raw json.RawMessage) (gamify.Attribute, error) {
		var in attributeIO
		if err := strictItem(raw, &in); err != nil {
			return gamify.Attribute{}, err
		}
		a := gamify.Attribute{Key: in.Key, Type: gamify.AttributeType(in.Type)}
		if in.Name != nil {
			a.Name = *in.Name
		}
		return a, nil
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Attribute), string, error) {
		var in attributeIO
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		if in.Type != "" {
			cur, err := c.eng.Attributes().Get(c.ctx(), in.ID)
			if err != nil {
				return in.ID, nil, "", err
			}
			if err := fixed("attribute", "type", in.Type, string(cur.Type)); err != nil {
				return in.ID, nil, "", err
			}
		}
		return in.ID, func(a *gamify.Attribute) {
			if in.Name != nil {
				a.Name = *in.Name
			}
		}, in.Status, nil
	},
	out: func(a gamify.Attribute) any {
		return attributeIO{ID: a.Key, Key: a.Key, Name: &a.Name, Type: string(a.Type), Status: string(a.Status), Created: instant(a.Created), Updated: instant(a.Updated)}
	},
}}

// ---- metrics

type metricIO struct {
	ID          string     `json:"id,omitempty"`
	Key         string     `json:"key,omitempty"`
	Name        *string    `json:"name,omitempty"`
	Description *string    `json:"description,omitempty"`
	UnitType    *string    `json:"unitType,omitempty"`
	Units       *string    `json:"units,omitempty"`
	Status      string     `json:"status,omitempty"`
	Created     *time.Time `json:"created,omitempty"`
	Updated     *time.Time `json:"updated,omitempty"`
}

func (in *metricIO) apply(m *gamify.Metric) {
	setIf(&m.Name, in.Name)
	setIf(&m.Description, in.Description)
	setIf(&m.Units, in.Units)
	if in.UnitType != nil {
		m.UnitType = gamify.UnitType(*in.UnitType)
	}
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

var metricsOps = ops[gamify.Metric]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Metric, error) { return c.eng.Metrics().List(c.ctx(), o) },
	get:  func(c *call, k string) (gamify.Metric, error) { return c.eng.Metrics().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Metric) ([]gamify.Metric, []gamify.Issue, error) {
		return c.eng.Metrics().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) { return c.eng.Metrics().BulkDelete(c.ctx(), ks) },
	patch: func(c *call, k string, e func(*gamify.Metric)) (gamify.Metric, error) {
		return c.eng.Metrics().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Metric, error) {
		m := c.eng.Metrics()
		return editStatus(m.Activate, m.Deactivate, nil)(c, k, s)
	},
}

var metricsResource = resource[gamify.Metric]{metricsOps, codec[gamify.Metric]{
	decode: func(c *call, raw json.RawMessage) (gamify.Metric, error) {
		var in metricIO
		if err := strictItem(raw, &in); err != nil {
			return gamify.Metric{}, err
		}
		m := gamify.Metric{Key: in.Key, Status: gamify.Status(in.Status)}
		in.apply(&m)
		return m, nil
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Metric), string, error) {
		var in metricIO
		err := strictItem(raw, &in)
		return in.ID, in.apply, in.Status, err
	},
	out: func(m gamify.Metric) any {
		ut := string(m.UnitType)
		return metricIO{ID: m.Key, Key: m.Key, Name: &m.Name, Description: strOrNull(m.Description), UnitType: &ut,
			Units: &m.Units, Status: string(m.Status), Created: instant(m.Created), Updated: instant(m.Updated)}
	},
}}

// ---- tenants

type tenantIO struct {
	ID         string     `json:"id,omitempty"`
	CustomerID string     `json:"customerId,omitempty"`
	Name       *string    `json:"name,omitempty"`
	Status     string     `json:"status,omitempty"`
	Created    *time.Time `json:"created,omitempty"`
	Updated    *time.Time `json:"updated,omitempty"`
}

var tenantsOps = ops[gamify.Tenant]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Tenant, error) { return c.eng.Tenants().List(c.ctx(), o) },
	get:  func(c *call, k string) (gamify.Tenant, error) { return c.eng.Tenants().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Tenant) ([]gamify.Tenant, []gamify.Issue, error) {
		return c.eng.Tenants().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) { return c.eng.Tenants().BulkDelete(c.ctx(), ks) },
	patch: func(c *call, k string, e func(*gamify.Tenant)) (gamify.Tenant, error) {
		return c.eng.Tenants().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Tenant, error) {
		t := c.eng.Tenants()
		return editStatus(t.Activate, t.Deactivate, nil)(c, k, s)
	},
}

var tenantsResource = resource[gamify.Tenant]{tenantsOps, codec[gamify.Tenant]{
	decode: func(c *call, raw json.RawMessage) (gamify.Tenant, error) {
		var in tenantIO
		if err := strictItem(raw, &in); err != nil {
			return gamify.Tenant{}, err
		}
		tn := gamify.Tenant{Key: in.CustomerID, Status: gamify.Status(in.Status)}
		setIf(&tn.Name, in.Name)
		return tn, nil
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Tenant), string, error) {
		var in tenantIO
		err := strictItem(raw, &in)
		return in.ID, func(tn *gamify.Tenant) { setIf(&tn.Name, in.Name) }, in.Status, err
	},
	out: func(tn gamify.Tenant) any {
		return tenantIO{ID: tn.Key, CustomerID: tn.Key, Name: &tn.Name, Status: string(tn.Status), Created: instant(tn.Created), Updated: instant(tn.Updated)}
	},
}}

// ---- leaderboards

type boardIn struct {
	ID                  string   `json:"id"`
	Key                 string   `json:"key"`
	Name                *string  `json:"name"`
	Description         *string  `json:"description"`
	Status              string   `json:"status"`
	RankBy              string   `json:"rankBy"`
	MetricID            string   `json:"metricId"`
	PointsSystemID      string   `json:"pointsSystemId"`
	StreakID            string   `json:"streakId"`
	MaxParticipants     *int     `json:"maxParticipants"`
	Start               *string  `json:"start"`
	End                 *string  `json:"end"`
	StartTime           *string  `json:"startTime"`
	EndTime             *string  `json:"endTime"`
	BreakdownAttributes []string `json:"breakdownAttributes"`
	RunUnit             *string  `json:"runUnit"`
	RunInterval         *int     `json:"runInterval"`
}

func parseDay(field string, s *string, dst *gamify.Date) error {
	if s == nil {
		return nil
	}
	if err := dst.UnmarshalText([]byte(*s)); err != nil {
		return invalid(field, fmt.Sprintf("%s must be a date YYYY-MM-DD, not %q", field, *s))
	}
	return nil
}

// apply sets the fields the item gives; rank-by fields only on create.
// setSource sets what b ranks from an edit: a new rankBy clears the metric,
// system and streak of the old one; the given ones replace theirs.
func setSource(b *gamify.Leaderboard, rankBy, metric, system, streak string) {
	if rankBy != "" && gamify.RankBy(rankBy) != b.RankBy {
		b.RankBy, b.Metric, b.System, b.Streak = gamify.RankBy(rankBy), "", "", ""
	}
	b.Metric, b.System, b.Streak = cmp.Or(metric, b.Metric), cmp.Or(system, b.System), cmp.Or(streak, b.Streak)
}

// maxParticipantsTrophy is the largest maxParticipants Trophy takes.
const maxParticipantsTrophy = 1000

func (in *boardIn) apply(b *gamify.Leaderboard) error {
	setIf(&b.Name, in.Name)
	setIf(&b.Description, in.Description)
	if in.MaxParticipants != nil {
		// Trophy's range; the engine's 0 (no cap) is had by leaving it out
		// on create.
		if n := *in.MaxParticipants; n < 1 || n > maxParticipantsTrophy {
			return invalid("maxParticipants", fmt.Sprintf("maxParticipants must be 1 to %d, not %d", maxParticipantsTrophy, n))
		}
		b.MaxParticipants = *in.MaxParticipants
	}
	if err := parseDay("start", in.Start, &b.Start); err != nil {
		return err
	}
	if err := parseDay("end", in.End, &b.End); err != nil {
		return err
	}
	setIf(&b.Window.From, in.StartTime)
	setIf(&b.Window.To, in.EndTime)
	if in.BreakdownAttributes != nil {
		b.Breakdown = in.BreakdownAttributes
	}
	if in.RunUnit != nil {
		b.RunUnit = gamify.RunUnit(*in.RunUnit)
	}
	if in.RunInterval != nil {
		b.RunEvery = *in.RunInterval
	}
	return nil
}

type adminBoardOut struct {
	boardOut
	StartTime *string    `json:"startTime"`
	EndTime   *string    `json:"endTime"`
	Created   *time.Time `json:"created"`
	Updated   *time.Time `json:"updated"`
}

var leaderboardsOps = ops[gamify.Leaderboard]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Leaderboard, error) {
		return c.eng.Leaderboards().List(c.ctx(), gamify.BoardListOptions{ListOptions: o, IncludeInactive: true, IncludeFinished: true})
	},
	get: func(c *call, k string) (gamify.Leaderboard, error) { return c.eng.Leaderboards().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.Leaderboard) ([]gamify.Leaderboard, []gamify.Issue, error) {
		return c.eng.Leaderboards().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) {
		return c.eng.Leaderboards().BulkDelete(c.ctx(), ks)
	},
	patch: func(c *call, k string, e func(*gamify.Leaderboard)) (gamify.Leaderboard, error) {
		return c.eng.Leaderboards().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Leaderboard, error) {
		l := c.eng.Leaderboards()
		return editStatus(l.Activate, l.Deactivate, l.Finish)(c, k, s)
	},
	more: []gamify.Status{gamify.StatusFinished},
}

var leaderboardsResource = resource[gamify.Leaderboard]{leaderboardsOps, codec[gamify.Leaderboard]{
	decode: func(c *call, raw json.RawMessage) (gamify.Leaderboard, error) {
		var in boardIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Leaderboard{}, err
		}
		b := gamify.Leaderboard{Key: in.Key, RankBy: gamify.RankBy(in.RankBy), Metric: in.MetricID, System: in.PointsSystemID, Streak: in.StreakID}
		switch gamify.Status(in.Status) {
		case "", gamify.StatusActive, gamify.StatusScheduled: // activated: scheduled by the clock
		case gamify.StatusInactive:
			b.Status = gamify.StatusInactive
		default:
			return b, invalid("status", fmt.Sprintf("a leaderboard is created inactive, scheduled or active, not %q", in.Status))
		}
		return b, in.apply(&b)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Leaderboard), string, error) {
		var in boardIn
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		if in.RankBy+in.MetricID+in.PointsSystemID+in.StreakID != "" {
			cur, err := c.eng.Leaderboards().Get(c.ctx(), in.ID)
			if err != nil {
				return in.ID, nil, "", err
			}
			// What a board ranks can change only while it is inactive (as
			// in Trophy); the engine refuses it once the board was activated.
			if cur.Status != gamify.StatusInactive {
				if err := fixed("leaderboard", "rankBy", in.RankBy, string(cur.RankBy), "metricId", in.MetricID, cur.Metric,
					"pointsSystemId", in.PointsSystemID, cur.System, "streakId", in.StreakID, cur.Streak); err != nil {
					return in.ID, nil, "", err
				}
			}
		}
		// Check the dates before the edit runs: an edit cannot fail.
		edit, err := checked(func(b *gamify.Leaderboard) error {
			setSource(b, in.RankBy, in.MetricID, in.PointsSystemID, in.StreakID)
			return in.apply(b)
		})
		return in.ID, edit, in.Status, err
	},
	out: func(b gamify.Leaderboard) any {
		return adminBoardOut{boardOut: boardJSON(b), StartTime: strOrNull(b.Window.From), EndTime: strOrNull(b.Window.To),
			Created: instant(b.Created), Updated: instant(b.Updated)}
	},
}}

// ---- points systems

type systemIn struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	BadgeURL    *string   `json:"badgeUrl"`
	MaxPoints   optNumber `json:"maxPoints"`
	Status      string    `json:"status"`
	// Levels, Triggers and Boosts are created with the system (create
	// only), in the items' shapes of their own endpoints.
	Levels   []json.RawMessage `json:"levels"`
	Triggers []json.RawMessage `json:"triggers"`
	Boosts   []json.RawMessage `json:"boosts"`
}

// subItems decodes the levels, triggers and boosts of a new system; an
// error names the item ("triggers[1]: ...").
func (in *systemIn) subItems(c *call, s *gamify.PointsSystem) error {
	for i, raw := range in.Levels {
		l, err := levelsResource.decode(c, raw)
		if err != nil {
			return prefixed(fmt.Sprintf("levels[%d]", i), err)
		}
		if l.Level == 0 {
			l.Level = i + 1 // Trophy's levels have no number: in the order given
		}
		s.Levels = append(s.Levels, l)
	}
	for i, raw := range in.Triggers {
		t, err := triggersResource.decode(c, raw)
		if err != nil {
			return prefixed(fmt.Sprintf("triggers[%d]", i), err)
		}
		s.Triggers = append(s.Triggers, t)
	}
	for i, raw := range in.Boosts {
		b, err := boostsResource.decode(c, raw)
		if err != nil {
			return prefixed(fmt.Sprintf("boosts[%d]", i), err)
		}
		s.Boosts = append(s.Boosts, b)
	}
	return nil
}

// prefixed puts the item's place in front of a request-level error.
func prefixed(at string, err error) error {
	if ae, ok := err.(*apiError); ok {
		field := at
		if ae.field != "" {
			field = at + "." + ae.field
		}
		return &apiError{ae.status, ae.code, at + ": " + ae.message, field}
	}
	return fmt.Errorf("%s: %w", at, err)
}

func (in *systemIn) apply(s *gamify.PointsSystem) error {
	setIf(&s.Name, in.Name)
	setIf(&s.Description, in.Description)
	setIf(&s.ImageURL, in.BadgeURL)
	if in.MaxPoints.set {
		a := gamify.Amount{} // null clears the cap
		if in.MaxPoints.n != "" {
			var err error
			if a, err = amountOf("maxPoints", in.MaxPoints.n); err != nil {
				return err
			}
		}
		s.MaxPoints = a
	}
	return nil
}

type adminSystemOut struct {
	systemOut
	Status  string     `json:"status"`
	Created *time.Time `json:"created"`
	Updated *time.Time `json:"updated"`
	// What a create made with the system; absent elsewhere.
	Levels   []any `json:"levels,omitempty"`
	Triggers []any `json:"triggers,omitempty"`
	Boosts   []any `json:"boosts,omitempty"`
}

var systemsOps = ops[gamify.PointsSystem]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.PointsSystem, error) {
		return c.eng.Points().List(c.ctx(), o)
	},
	get: func(c *call, k string) (gamify.PointsSystem, error) { return c.eng.Points().Get(c.ctx(), k) },
	create: func(c *call, ds []gamify.PointsSystem) ([]gamify.PointsSystem, []gamify.Issue, error) {
		return c.eng.Points().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) { return c.eng.Points().BulkDelete(c.ctx(), ks) },
	patch: func(c *call, k string, e func(*gamify.PointsSystem)) (gamify.PointsSystem, error) {
		return c.eng.Points().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.PointsSystem, error) {
		p := c.eng.Points()
		return editStatus(p.Activate, p.Deactivate, nil)(c, k, s)
	},
}

var systemsResource = resource[gamify.PointsSystem]{systemsOps, codec[gamify.PointsSystem]{
	decode: func(c *call, raw json.RawMessage) (gamify.PointsSystem, error) {
		var in systemIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.PointsSystem{}, err
		}
		s := gamify.PointsSystem{Key: in.Key, Status: gamify.Status(in.Status)}
		if err := in.subItems(c, &s); err != nil {
			return s, err
		}
		return s, in.apply(&s)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.PointsSystem), string, error) {
		var in systemIn
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		if in.Levels != nil || in.Triggers != nil || in.Boosts != nil {
			return in.ID, nil, "", invalid("levels", "levels, triggers and boosts are created with the system; patch them at their own paths")
		}
		edit, err := checked(in.apply)
		return in.ID, edit, in.Status, err
	},
	out: func(s gamify.PointsSystem) any {
		out := adminSystemOut{systemOut: systemJSON(s), Status: string(s.Status), Created: instant(s.Created), Updated: instant(s.Updated)}
		for _, l := range s.Levels {
			out.Levels = append(out.Levels, levelsResource.out(l))
		}
		for _, t := range s.Triggers {
			out.Triggers = append(out.Triggers, triggersResource.out(t))
		}
		for _, b := range s.Boosts {
			out.Boosts = append(out.Boosts, boostsResource.out(b))
		}
		return out
	},
}}

// ---- points boosts of a system

type boostIn struct {
	ID             string         `json:"id"`
	Key            string         `json:"key"` // a gamify extension; generated when empty
	Name           *string        `json:"name"`
	UserID         string         `json:"userId"`
	UserAttributes []attrFilterIn `json:"userAttributes"`
	Start          *string        `json:"start"`
	End            *string        `json:"end"`
	Multiplier     *numberIn      `json:"multiplier"`
	Rounding       *string        `json:"rounding"`
	Status         string         `json:"status"`
}

// apply sets the fields the item gives. A per-user boost's dates are UTC
// days (the engine keeps instants for them), End inclusive.
func (in *boostIn) apply(b *gamify.Boost) error {
	setIf(&b.Name, in.Name)
	if in.Rounding != nil {
		b.Rounding = gamify.Rounding(*in.Rounding)
	}
	if in.Multiplier != nil {
		m, err := amountOf("multiplier", *in.Multiplier)
		if err != nil {
			return err
		}
		b.Multiplier = m
	}
	var from, to gamify.Date
	if err := parseDay("start", in.Start, &from); err != nil {
		return err
	}
	if err := parseDay("end", in.End, &to); err != nil {
		return err
	}
	if b.Scope == gamify.BoostUser {
		if in.Start != nil {
			b.Start = time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, time.UTC)
		}
		if in.End != nil {
			b.End = time.Date(to.Year, to.Month, to.Day+1, 0, 0, 0, 0, time.UTC)
		}
		return nil
	}
	if in.Start != nil {
		b.From = from
	}
	if in.End != nil {
		b.To = to
	}
	return nil
}

// newKey names a boost or trigger created without a key, as Trophy's ids
// do: prefix, "_" and 16 random hex digits.
func newKey(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// systemBoost checks the boost belongs to the system in the path.
func systemBoost(c *call, key string) (gamify.Boost, error) {
	b, err := c.eng.Points().Boosts().Get(c.ctx(), key)
	if err == nil && b.System != c.r.PathValue("systemId") {
		return gamify.Boost{}, fmt.Errorf("boost %s of system %s: %w", b.Key, c.r.PathValue("systemId"), gamify.ErrNotFound)
	}
	return b, err
}

type adminBoostOut struct {
	boostOut
	UserAttributes []kv       `json:"userAttributes"`
	Created        *time.Time `json:"created"`
	Updated        *time.Time `json:"updated"`
}

var boostsOps = ops[gamify.Boost]{
	list: func(c *call, o gamify.ListOptions) ([]gamify.Boost, error) {
		sys := c.r.PathValue("systemId")
		if _, err := c.eng.Points().Get(c.ctx(), sys); err != nil {
			return nil, err
		}
		return c.eng.Points().Boosts().ListFor(c.ctx(), gamify.BoostFilter{System: sys}, o)
	},
	get: func(c *call, k string) (gamify.Boost, error) {
		return systemBoost(c, k)
	},
	create: func(c *call, ds []gamify.Boost) ([]gamify.Boost, []gamify.Issue, error) {
		return c.eng.Points().Boosts().BulkCreate(c.ctx(), ds)
	},
	delete: func(c *call, ks []string) ([]gamify.Issue, error) {
		get := func(c *call, k string) error { _, err := systemBoost(c, k); return err }
		return scopedDelete(c, ks, get, func(own []string) ([]gamify.Issue, error) { return c.eng.Points().Boosts().BulkDelete(c.ctx(), own) })
	},
	patch: func(c *call, k string, e func(*gamify.Boost)) (gamify.Boost, error) {
		return c.eng.Points().Boosts().Patch(c.ctx(), k, e)
	},
	status: func(c *call, k, s string) (gamify.Boost, error) {
		b := c.eng.Points().Boosts()
		return editStatus(b.Activate, b.Deactivate, nil)(c, k, s)
	},
}

var boostsResource = resource[gamify.Boost]{boostsOps, codec[gamify.Boost]{
	decode: func(c *call, raw json.RawMessage) (gamify.Boost, error) {
		var in boostIn
		if err := strictItem(raw, &in); err != nil {
			return gamify.Boost{}, err
		}
		b := gamify.Boost{Key: in.Key, System: c.r.PathValue("systemId"), Scope: gamify.BoostGlobal, User: in.UserID}
		if b.Key == "" {
			b.Key = newKey("boost")
		}
		switch {
		case in.UserID != "" && len(in.UserAttributes) > 0:
			return b, invalid("userId", "a boost targets a user or user attributes, not both")
		case in.UserID != "":
			b.Scope = gamify.BoostUser
		case len(in.UserAttributes) > 0:
			f, err := filters("userAttributes", in.UserAttributes)
			if err != nil {
				return b, err
			}
			b.Scope, b.UserFilters = gamify.BoostCohort, f
		}
		switch gamify.Status(in.Status) {
		case "", gamify.StatusActive:
		case gamify.StatusInactive:
			b.Status = gamify.StatusInactive
		default:
			return b, invalid("status", fmt.Sprintf("a boost is created active or inactive, not %q", in.Status))
		}
		return b, in.apply(&b)
	},
	edit: func(c *call, raw json.RawMessage) (string, func(*gamify.Boost), string, error) {
		var in boostIn
		if err := strictItem(raw, &in); err != nil {
			return in.ID, nil, "", err
		}
		cur, err := systemBoost(c, in.ID)
		if err != nil {
			return in.ID, nil, "", err
		}
		if err := fixed("boost", "userId", in.UserID, cur.User); err != nil {
			return in.ID, nil, "", err
		}
		var f map[string]string
		if in.UserAttributes != nil {
			if cur.Scope != gamify.BoostCohort {
				return in.ID, nil, "", invalid("userAttributes", "only a boost created with userAttributes has them (a boost's scope is fixed)")
			}
			if f, err = filters("userAttributes", in.UserAttributes); err != nil {
				return in.ID, nil, "", err
			}
		}
		if err := in.apply(&cur); err != nil {
			return in.ID, nil, "", err
		}
		return in.ID, func(b *gamify.Boost) {
			_ = in.apply(b)
			if f != nil {
				b.UserFilters = f
			}
		}, in.Status, nil
	},
	out: func(b gamify.Boost) any {
		return adminBoostOut{boostOut: boostJSON(b), UserAttributes: pairs(b.UserFilters), Created: instant(b.Created), Updated: instant(b.Updated)}
	},
}}
