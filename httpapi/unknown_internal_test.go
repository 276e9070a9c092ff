package httpapi

import (
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
