package gamify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestOpenCorruptFileFailsCleanly damages a database file in several ways:
// Open must return an error (or open a consistent store), never panic.
func TestOpenCorruptFileFailsCleanly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	eng, err := gamify.Open(good, nil)
	require.NoError(t, err)
	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	for i := range 200 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: string(rune('a' + i%26)), Value: 1})
		require.NoError(t, err)
	}
	require.NoError(t, eng.Close())
	orig, err := os.ReadFile(good)
	require.NoError(t, err)

	damage := map[string]func([]byte) []byte{
		"empty":        func([]byte) []byte { return nil },
		"truncated":    func(b []byte) []byte { return b[:len(b)/3] },
		"zeroed metas": func(b []byte) []byte { c := append([]byte(nil), b...); clear(c[:8192]); return c },
		"garbage": func(b []byte) []byte {
			c := append([]byte(nil), b...)
			copy(c, "this is not a bolt file at all")
			return c
		},
		"not a db": func([]byte) []byte { return []byte("hello") },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".db")
			require.NoError(t, os.WriteFile(path, f(orig), 0o600))
			var eng *gamify.Engine
			require.NotPanics(t, func() { eng, err = gamify.Open(path, nil) })
			if name == "truncated" || name == "not a db" {
				require.ErrorContains(t, err, "corrupt")
			}
			if err == nil { // bbolt recovered the file (e.g. from the other meta page): it must be consistent
				require.NoError(t, eng.Check(ctx))
				require.NoError(t, eng.Close())
			}
		})
	}
}
