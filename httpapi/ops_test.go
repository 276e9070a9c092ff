package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

func TestOpsStats(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.track("ana", 3).requireStatus(t, http.StatusCreated)
	e.track("bo", 4).requireStatus(t, http.StatusCreated)

	e.do("GET", "/admin/v1/stats", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("GET", "/admin/v1/stats", "", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
	r := e.do("GET", "/admin/v1/stats", adminKey, nil)
	r.requireStatus(t, http.StatusOK)
	var st gamify.Stats
	require.NoError(t, json.Unmarshal(r.body, &st))
	require.Equal(t, e.eng.Stats().Events, st.Events)
	require.GreaterOrEqual(t, st.Events, uint64(2))

	// A tenant's stats are its own engine's: no events there.
	r = e.do("GET", "/tenants/acme/admin/v1/stats", adminKey, nil)
	r.requireStatus(t, http.StatusOK)
	st = gamify.Stats{}
	require.NoError(t, json.Unmarshal(r.body, &st))
	require.Zero(t, st.Events)
}

func TestOpsBackupIsAConsistentOpenableFile(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	for i, u := range []string{"ana", "bo", "chen"} {
		e.track(u, i+1).requireStatus(t, http.StatusCreated)
	}
	e.do("GET", "/admin/v1/backup", appKey, nil).requireError(t, http.StatusForbidden, "forbidden", "")

	req, err := http.NewRequest("GET", e.srv.URL+"/admin/v1/backup", nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", adminKey)
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	path := filepath.Join(t.TempDir(), "copy.db")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "complete", resp.Trailer.Get("Gamify-Backup"))

	ctx := context.Background()
	cp, err := gamify.Open(path, &gamify.Options{Clock: e.clock})
	require.NoError(t, err)
	defer cp.Close()
	require.NoError(t, cp.Check(ctx))
	for i, u := range []string{"ana", "bo", "chen"} {
		m, err := cp.Users().Metric(ctx, u, "words")
		require.NoError(t, err)
		require.Equal(t, gamify.AmountFromInt(int64(i+1)), m.Total, u)
	}
}
