package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

// A server with an admin key and an application key: the admin key
// defines a metric, the application key tracks an event for a user.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "httpapi-example")
	defer os.RemoveAll(dir)
	eng, err := gamify.Open(filepath.Join(dir, "game.db"), nil)
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	h, err := httpapi.New(eng, httpapi.Options{Keys: []httpapi.Key{
		{Secret: "admin-secret", Name: "ops", Scopes: []string{httpapi.ScopeAdmin}},
		{Secret: "app-secret", Name: "game"},
	}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(key, path, body string) {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode)
	}
	post("admin-secret", "/admin/v1/metrics", `[{"key":"words","name":"Words"}]`)
	post("app-secret", "/v1/metrics/words/event", `{"user":{"id":"ana"},"value":12}`)
	post("app-secret", "/admin/v1/metrics", `[{"key":"xp","name":"XP"}]`) // not an admin key

	_, err = httpapi.New(eng, httpapi.Options{Keys: []httpapi.Key{{Secret: os.Getenv("UNSET_EXAMPLE_KEY"), Name: "game"}}})
	fmt.Println(err)
	// Output:
	// /admin/v1/metrics 201
	// /v1/metrics/words/event 201
	// /admin/v1/metrics 403
	// gamify: invalid httpapi.Options.Keys[0].Secret: is empty (key "game")
}
