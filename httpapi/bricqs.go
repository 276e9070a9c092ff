package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
)

// Bricqs' admin API, under /api/v1/gamify/admin, in snake_case. Every
// endpoint needs the admin or gamify:admin scope.
func (h *handler) routeBricqs() {
	const p = "/api/v1/gamify/admin"
	h.handle("GET "+p+"/participants", adminKey, h.listParticipants)
	h.handle("GET "+p+"/participants/{id}", adminKey, h.getParticipant)
	h.handle("DELETE "+p+"/participants/{id}", adminKey, h.deleteParticipant)
	h.routeBricqsDefinitions(p)
	h.routeBricqsParticipant()
}

// participantOut is a row of Bricqs' participants list.
type participantOut struct {
	ParticipantID   string      `json:"participant_id"`
	DisplayName     *string     `json:"display_name"`
	TotalPoints     json.Number `json:"total_points"`
	AvailablePoints json.Number `json:"available_points"`
	CurrentTier     string      `json:"current_tier"`
	TotalEvents     uint64      `json:"total_events"`
	FirstSeenAt     *time.Time  `json:"first_seen_at"`
	LastSeenAt      *time.Time  `json:"last_seen_at"`
	IsActive        bool        `json:"is_active"`
	CreatedAt       time.Time   `json:"created_at"`
}

type participantsOut struct {
	Items    []participantOut `json:"items"`
	Total    int              `json:"total"`
	Page     int              `json:"page"`
	PageSize int              `json:"page_size"`
}

func participantJSON(r gamify.UserRow) participantOut {
	return participantOut{ParticipantID: r.ID, DisplayName: strOrNull(r.Name), TotalPoints: num(r.Points),
		AvailablePoints: num(r.Available), CurrentTier: r.Level, TotalEvents: r.Events,
		FirstSeenAt: instant(r.FirstEvent), LastSeenAt: instant(r.LastEvent), IsActive: r.Active, CreatedAt: r.Created.UTC()}
}

var participantSorts = map[string]gamify.UserSort{
	"created_at": gamify.SortCreated, "total_points": gamify.SortTotalPoints, "last_event_at": gamify.SortLastEvent,
	"user_id": gamify.SortID, "display_name": gamify.SortName,
}

// participantQuery reads Bricqs' search, is_active, tier, sort_by,
// sort_order, page and page_size (and system, a gamify extension: the points
// system of total_points and tier; default the one award uses, tierSystem).
func (c *call) participantQuery() (gamify.UserQuery, error) {
	v := c.r.URL.Query()
	sys, err := c.defaultSystem()
	if err != nil {
		return gamify.UserQuery{}, err
	}
	q := gamify.UserQuery{Search: v.Get("search"), Level: v.Get("tier"), System: sys, Sort: gamify.SortCreated, Descending: true}
	if s := v.Get("is_active"); s != "" {
		b, err := c.queryBool("is_active")
		if err != nil {
			return q, err
		}
		q.Active = &b
	}
	if s := v.Get("sort_by"); s != "" {
		sort, ok := participantSorts[s]
		if !ok {
			return q, invalid("sort_by", fmt.Sprintf("sort_by must be one of created_at, total_points, last_event_at, user_id, display_name, not %q", s))
		}
		q.Sort = sort
	}
	switch s := strings.ToLower(v.Get("sort_order")); s {
	case "", "desc":
	case "asc":
		q.Descending = false
	default:
		return q, invalid("sort_order", fmt.Sprintf("sort_order must be asc or desc, not %q", s))
	}
	if q.Page, err = c.queryInt("page", 1, 1, 1<<30); err != nil {
		return q, err
	}
	if q.PageSize, err = c.queryInt("page_size", 50, 1, 100); err != nil {
		return q, err
	}
	return q, nil
}

func (h *handler) listParticipants(c *call) (int, any, error) {
	q, err := c.participantQuery()
	if err != nil {
		return 0, nil, err
	}
	page, err := c.eng.Users().List(c.ctx(), q)
	if err != nil {
		return 0, nil, renameField(err, participantParams)
	}
	out := participantsOut{Items: []participantOut{}, Total: page.Total, Page: page.Page, PageSize: page.PageSize}
	for _, r := range page.Rows {
		out.Items = append(out.Items, participantJSON(r))
	}
	return http.StatusOK, out, nil
}

// getParticipant finds the participant's row through the list's search (the
// public API has no single-row read) and checks the id matches exactly.
func (h *handler) getParticipant(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	u, err := c.eng.Users().Get(c.ctx(), id)
	if err != nil {
		return 0, nil, participantMissing(err, id)
	}
	sys, err := c.defaultSystem()
	if err != nil {
		return 0, nil, err
	}
	q := gamify.UserQuery{Search: id, System: sys, Sort: gamify.SortID, PageSize: 100}
	for q.Page = 1; ; q.Page++ {
		page, err := c.eng.Users().List(c.ctx(), q)
		if err != nil {
			return 0, nil, err
		}
		for _, r := range page.Rows {
			if r.ID == id {
				return http.StatusOK, participantJSON(r), nil
			}
		}
		if q.Page*q.PageSize >= page.Total {
			break
		}
	}
	// Not yet in the list's index (a read-your-writes gap): the profile alone.
	return http.StatusOK, participantJSON(gamify.UserRow{ID: u.ID, Name: u.Name, Active: u.Active, Created: u.Created}), nil
}

func participantMissing(err error, id string) error {
	if ae, _ := classify(err); ae.status == http.StatusNotFound {
		return notFound("Participant not found: " + id)
	}
	return err
}

// participantParams names the query parameters of the engine's UserQuery
// fields, so that a 422 names what the caller sent.
var participantParams = map[string]string{
	"UserQuery.Search": "search", "UserQuery.Active": "is_active", "UserQuery.Level": "tier", "UserQuery.System": "system",
	"UserQuery.Sort": "sort_by", "UserQuery.Page": "page", "UserQuery.PageSize": "page_size",
}

// renameField reports a ValidationError of a mapped field under its
// request name, with the status classify gives it (404 for a key that
// names nothing); other errors pass unchanged.
func renameField(err error, names map[string]string) error {
	var ve *gamify.ValidationError
	if errors.As(err, &ve) {
		if name, ok := names[ve.Field]; ok {
			ae, _ := classify(ve)
			return &apiError{ae.status, ae.code, fmt.Sprintf("%s: %s", name, ve.Reason), name}
		}
	}
	return err
}

type messageOut struct {
	Message string `json:"message"`
}

func (h *handler) deleteParticipant(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	anonymize, err := c.queryBool("anonymize")
	if err != nil {
		return 0, nil, err
	}
	if anonymize {
		if _, err := c.eng.Users().Anonymize(c.ctx(), id); err != nil {
			return 0, nil, participantMissing(err, id)
		}
		return http.StatusOK, messageOut{"Participant anonymized"}, nil
	}
	if err := c.eng.Users().Erase(c.ctx(), id); err != nil {
		return 0, nil, participantMissing(err, id)
	}
	return http.StatusOK, messageOut{"Participant deleted"}, nil
}
