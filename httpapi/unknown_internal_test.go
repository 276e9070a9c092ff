package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUnknownPath checks the walk names an unknown field by its JSON path
// through arrays, maps, pointers and embedded structs, matches names as
// encoding/json does (case-insensitively) and leaves alone what a type
// decodes itself.
func TestUnknownPath(t *testing.T) {
	type leaf struct {
		Min numberIn `json:"min"`
	}
	type inner struct {
		Metric string          `json:"metric"`
		Leaf   *leaf           `json:"leaf"`
		Tags   map[string]leaf `json:"tags"`
	}
	type body struct {
		eventIn
		Items []inner `json:"items"`
		Any   any     `json:"any"`
	}
	for raw, want := range map[string]string{
		`{"foo":1}`: "foo",
		`{"items":[{"metric":"a"},{"METRIC":"b","leaf":{"min":{"x":1},"max":2}}]}`: "items[1].leaf.max",
		`{"items":[{"tags":{"k":{"min":1,"y":2}}}]}`:                               "items[0].tags.k.y",
		`{"user":{"id":"a","nick":"b"}}`:                                           "user.nick",
		`{"any":{"x":1},"items":[],"value":1,"zz":0}`:                              "zz",
	} {
		got, found := unknownPath([]byte(raw), &body{})
		require.True(t, found, raw)
		require.Equal(t, want, got, raw)
	}
	_, found := unknownPath([]byte(`{"items":[{"metric":"a"}],"any":{"x":[1]}}`), &body{})
	require.False(t, found)
}

// TestTypePath checks a type error is named with its array indexes, for
// scalars and for composites of the wrong kind, in items and at the top.
func TestTypePath(t *testing.T) {
	type leaf struct {
		Min  int    `json:"min"`
		Name string `json:"name"`
	}
	type body struct {
		Metrics []leaf          `json:"metrics"`
		Tags    map[string]leaf `json:"tags"`
		Count   int             `json:"count"`
	}
	for raw, want := range map[string]string{
		`{"metrics":[{"min":1},{"min":"x"}]}`:                 "metrics[1].min",
		`  {"metrics":[{"min":1,"name":{"a":[1]}}]}`:          "metrics[0].name",
		`{"tags":{"k":{"min":[1,2]}},"metrics":[]}`:           "tags.min", // through a map, encoding/json's own path
		`{"metrics":[{"min":1}],"count":"many"}`:              "count",
		`{"metrics":[[1]]}`:                                   "metrics[0]",
		`{"metrics":[{},{},{"name":1,"min":2},{"min":true}]}`: "metrics[2].name",
	} {
		var v body
		var ute *json.UnmarshalTypeError
		require.ErrorAs(t, json.NewDecoder(strings.NewReader(raw)).Decode(&v), &ute, raw) // as the handlers decode
		require.Equal(t, want, typePath([]byte(raw), ute), raw)
	}
}
