package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/httpapi"
)

// TestEveryAdminResource runs the five verbs of every definition resource
// of both admin APIs: create, list, get, patch, delete (archive), each
// refused to an application key.
func TestEveryAdminResource(t *testing.T) {
	trophy := []struct{ path, create, patch string }{
		{"/admin/v1/attributes", `[{"key":"r1","name":"R1","type":"user"}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/achievements", `[{"key":"r1","name":"R1","trigger":"metric","metricId":"words","metricValue":100}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/metrics", `[{"key":"r1","name":"R1"}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/tenants", `[{"customerId":"r1","name":"R1"}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/leaderboards", `[{"key":"r1","name":"R1","rankBy":"metric","metricId":"words"}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/points/systems", `[{"key":"r1","name":"R1"}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/points/systems/xp/boosts", `[{"key":"r1","name":"R1","start":"2026-03-10","multiplier":2}]`, `[{"id":"r1","name":"Renamed"}]`},
		{"/admin/v1/points/systems/xp/triggers", `[{"key":"r1","type":"metric","metricId":"words","metricThreshold":1,"points":1}]`, `[{"id":"r1","points":3}]`},
		{"/admin/v1/points/systems/xp/levels", `[{"key":"r1","name":"R1","points":500}]`, `[{"id":"r1","name":"Renamed"}]`},
	}
	bricqs := []struct{ path, create, patch string }{
		{admin + "/badges", `{"code":"r1","name":"R1"}`, `{"name":"Renamed"}`},
		{admin + "/tiers", `{"code":"r1","name":"R1","level":9,"criteria_config":{"min_points":900}}`, `{"name":"Renamed"}`},
		{admin + "/streaks", `{"code":"r1","name":"R1","metrics":[{"metric":"words","min":1}]}`, `{"name":"Renamed"}`},
		{admin + "/leaderboards", `{"code":"r1","name":"R1","rank_by":"metric","metric":"words"}`, `{"name":"Renamed"}`},
		{admin + "/rewards", `{"code":"r1","name":"R1","reward_type":"digital"}`, `{"name":"Renamed"}`},
	}
	e := newEnv(t, httpapi.Options{})
	type item = map[string]any
	idOf := func(it item) string { s, _ := it["id"].(string); return s }
	for _, r := range trophy {
		t.Run(strings.TrimPrefix(r.path, "/admin/v1/"), func(t *testing.T) {
			r.create, r.patch = strings.ReplaceAll(r.create, "r1", "t1"), strings.ReplaceAll(r.patch, "r1", "t1")
			var c struct {
				Created []item `json:"created"`
				Issues  []item `json:"issues"`
			}
			resp := e.do("POST", r.path, adminKey, r.create)
			resp.requireStatus(t, http.StatusCreated)
			require.NoError(t, json.Unmarshal(resp.body, &c))
			require.Empty(t, c.Issues)
			require.Equal(t, "t1", idOf(c.Created[0]))

			var list []item
			resp = e.do("GET", r.path+"?limit=100", adminKey, nil)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &list))
			require.Equal(t, "t1", idOf(list[len(list)-1]))

			var one item
			resp = e.do("GET", r.path+"/t1", adminKey, nil)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &one))
			require.Equal(t, c.Created[0], one)

			var u struct {
				Updated []item `json:"updated"`
				Issues  []item `json:"issues"`
			}
			resp = e.do("PATCH", r.path, adminKey, r.patch)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &u))
			require.Empty(t, u.Issues)
			require.NotEqual(t, c.Created[0], u.Updated[0])

			var d struct {
				Deleted []string `json:"deleted"`
				Issues  []item   `json:"issues"`
			}
			resp = e.do("DELETE", r.path+"?ids=t1", adminKey, nil)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &d))
			require.Equal(t, []string{"t1"}, d.Deleted)
			resp = e.do("GET", r.path+"/t1", adminKey, nil)
			require.NoError(t, json.Unmarshal(resp.body, &one))
			require.Equal(t, "archived", one["status"])

			for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
				e.do(m, r.path, appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
			}
			e.do("GET", r.path+"/t1", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
		})
	}
	for _, r := range bricqs {
		t.Run(strings.TrimPrefix(r.path, admin+"/"), func(t *testing.T) {
			r.create = strings.ReplaceAll(r.create, "r1", "b1")
			var c, one item
			resp := e.do("POST", r.path, adminKey, r.create)
			resp.requireStatus(t, http.StatusCreated)
			require.NoError(t, json.Unmarshal(resp.body, &c))
			require.Equal(t, "b1", idOf(c))
			require.Equal(t, true, c["is_active"])

			var page struct {
				Items []item `json:"items"`
				Total int    `json:"total"`
			}
			resp = e.do("GET", r.path+"?page_size=100", adminKey, nil)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &page))
			require.Equal(t, len(page.Items), page.Total)
			require.Equal(t, c, page.Items[len(page.Items)-1])

			resp = e.do("GET", r.path+"/b1", adminKey, nil)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &one))
			require.Equal(t, c, one)

			resp = e.do("PATCH", r.path+"/b1", adminKey, r.patch)
			resp.requireStatus(t, http.StatusOK)
			require.NoError(t, json.Unmarshal(resp.body, &one))
			require.Equal(t, "Renamed", one["name"])

			resp = e.do("DELETE", r.path+"/b1", adminKey, nil)
			resp.requireStatus(t, http.StatusOK)
			resp = e.do("GET", r.path+"/b1", adminKey, nil)
			require.NoError(t, json.Unmarshal(resp.body, &one))
			require.Equal(t, false, one["is_active"])
			require.Equal(t, "archived", one["status"])

			e.do("GET", r.path, appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
			e.do("POST", r.path, appKey, r.create).requireError(t, http.StatusForbidden, "forbidden", "")
			for _, m := range []string{"GET", "PATCH", "DELETE"} {
				e.do(m, r.path+"/b1", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
			}
		})
	}
}
