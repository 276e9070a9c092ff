package gamify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

var t0 = time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)

type testEngine struct {
	*gamify.Engine
	path  string
	clock *gamify.ManualClock
	opts  gamify.Options
}

// openTest opens an engine on a temporary file with a manual clock at t0 and
// checks the engine's invariants before closing it at the end of the test.
func openTest(t testing.TB, opts *gamify.Options) *testEngine {
	t.Helper()
	var o gamify.Options
	if opts != nil {
		o = *opts
	}
	clock := gamify.NewManualClock(t0)
	if o.Clock == nil {
		o.Clock = clock
	}
	path := filepath.Join(t.TempDir(), "test.db")
	eng, err := gamify.Open(path, &o)
	require.NoError(t, err)
	te := &testEngine{Engine: eng, path: path, clock: clock, opts: o}
	t.Cleanup(func() { te.closeChecked(t) })
	return te
}

func (te *testEngine) closeChecked(t testing.TB) {
	if err := te.Engine.Check(context.Background()); err != nil && err != gamify.ErrClosed {
		t.Errorf("Check: %v", err)
	}
	_ = te.Engine.Close()
}

// reopen closes the engine and opens the same file again.
func (te *testEngine) reopen(t testing.TB) {
	t.Helper()
	require.NoError(t, te.Engine.Close())
	eng, err := gamify.Open(te.path, &te.opts)
	require.NoError(t, err)
	te.Engine = eng
}

func mustMetric(t testing.TB, eng *gamify.Engine, key string) {
	t.Helper()
	_, err := eng.Metrics().Create(context.Background(), gamify.Metric{Key: key, Name: key})
	require.NoError(t, err)
}

// mustUserAttributes declares user attributes, each named as its key.
func mustUserAttributes(t testing.TB, eng *gamify.Engine, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, err := eng.Attributes().Create(context.Background(), gamify.Attribute{Key: k, Name: k, Type: gamify.UserAttribute})
		require.NoError(t, err)
	}
}

// floatAmount converts a test's float to an Amount, failing loudly on a value
// no Amount holds.
func floatAmount(v float64) gamify.Amount {
	a, err := gamify.AmountFromFloat(v)
	if err != nil {
		panic(err)
	}
	return a
}

// requireField asserts that err is a ValidationError naming field.
func requireField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve, field)
	require.Equal(t, field, ve.Field)
}
