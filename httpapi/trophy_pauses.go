package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gamifykit/gamify"
)

// Streak pauses in Trophy's admin shape, on the default streak (see
// defaultStreak). A pause's id is "userId:n": the engine numbers pauses per
// user.

type pauseIn struct {
	UserID string `json:"userId"`
	Start  string `json:"start"`
	End    string `json:"end"`
}

type adminPauseOut struct {
	ID     string `json:"id"`
	UserID string `json:"userId"`
	Start  string `json:"start"`
	End    string `json:"end"`
	Status string `json:"status"`
}

func pauseID(user string, id uint32) string { return user + ":" + strconv.FormatUint(uint64(id), 10) }

// parsePauseID splits "userId:n" at its last colon (user ids may hold one).
func parsePauseID(s string) (string, uint32, error) {
	i := strings.LastIndex(s, ":")
	if i <= 0 {
		return "", 0, invalid("ids", fmt.Sprintf("a pause id is userId:n, not %q", s))
	}
	n, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil {
		return "", 0, invalid("ids", fmt.Sprintf("a pause id is userId:n, not %q", s))
	}
	return s[:i], uint32(n), nil
}

func (h *handler) createPauses(c *call) (int, any, error) {
	var in struct {
		Pauses []pauseIn `json:"pauses"`
	}
	if err := c.decodeStrict(&in); err != nil {
		return 0, nil, err
	}
	if len(in.Pauses) == 0 || len(in.Pauses) > gamify.BulkLimit {
		return 0, nil, invalid("pauses", "pauses must hold 1 to 100 items")
	}
	def, err := c.defaultStreak()
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Created []adminPauseOut `json:"created"`
		Issues  []issueOut      `json:"issues"`
	}{[]adminPauseOut{}, []issueOut{}}
	for i, p := range in.Pauses {
		var from, to gamify.Date
		err := parseDay("start", &p.Start, &from)
		if err == nil {
			err = parseDay("end", &p.End, &to)
		}
		var sp gamify.StreakPause
		if err == nil {
			sp, err = c.eng.Streaks().AddPause(c.ctx(), def.Key, p.UserID, from, to)
		}
		if err != nil {
			if ae, _ := classify(err); ae.status >= 500 {
				return 0, nil, err
			}
			is := itemIssue(i, err)
			is.UserID = p.UserID
			out.Issues = append(out.Issues, is)
			continue
		}
		out.Created = append(out.Created, adminPauseOut{ID: pauseID(p.UserID, sp.ID), UserID: p.UserID,
			Start: sp.From.String(), End: sp.To.String(), Status: string(gamify.StatusActive)})
	}
	if len(out.Created) > 0 {
		return http.StatusCreated, out, nil
	}
	return http.StatusOK, out, nil
}

func (h *handler) deletePauses(c *call) (int, any, error) {
	ids := c.queryList("ids")
	if len(ids) == 0 || len(ids) > gamify.BulkLimit {
		return 0, nil, invalid("ids", "ids must list 1 to 100 ids")
	}
	def, err := c.defaultStreak()
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Deleted []string   `json:"deleted"`
		Issues  []issueOut `json:"issues"`
	}{[]string{}, []issueOut{}}
	for i, id := range ids {
		user, n, err := parsePauseID(id)
		if err == nil {
			err = c.eng.Streaks().RemovePause(c.ctx(), def.Key, user, n)
		}
		if err != nil {
			if ae, _ := classify(err); ae.status >= 500 {
				return 0, nil, err
			}
			is := itemIssue(i, err)
			is.ID = id
			out.Issues = append(out.Issues, is)
			continue
		}
		out.Deleted = append(out.Deleted, id)
	}
	return http.StatusOK, out, nil
}
