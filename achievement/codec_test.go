package achievement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCodecRoundTrip(t *testing.T) {
	empty, err := State{}.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, []byte{stateVersion, 0, 0}, empty)

	s := State{}.complete("b", t0, false).complete("a", at(3), true).withSum("z", amt(-4)).withSum("f", micros(12))
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, s, got)
	c, ok := got.Completed("a")
	require.True(t, ok)
	require.True(t, c.Backdated)
	require.True(t, c.At.Equal(at(3)))
	require.Equal(t, amt(-4), got.Sum("z"))
}

func TestCodecCorrupt(t *testing.T) {
	valid, err := State{}.complete("a", t0, false).withSum("f", micros(5)).MarshalBinary()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown version", []byte{2, 0, 0}},
		{"truncated", valid[:len(valid)-1]},
		{"trailing", append(append([]byte{}, valid...), 0)},
		{"huge count", []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}},
		{"bad key", []byte{1, 1, 1, ' ', 0, 0, 0}},
		{"empty key", []byte{1, 1, 0, 0, 0, 0, 0}},
		{"keys out of order", []byte{1, 2, 1, 'b', 0, 0, 1, 'a', 0, 0, 0}},
		{"duplicate key", []byte{1, 2, 1, 'a', 0, 0, 1, 'a', 0, 0, 0}},
		{"bad flags", []byte{1, 1, 1, 'a', 0, 2, 0}},
		{"zero sum", []byte{1, 0, 1, 1, 'a', 0}},
		{"sum of completed", []byte{1, 1, 1, 'a', 0, 0, 1, 1, 'a', 2}},
		{"key longer than input", []byte{1, 1, 9, 'a', 0, 0}},
		{"non-minimal count", []byte{1, 0x80, 0, 0}},
		{"non-minimal time", []byte{1, 1, 1, 'a', 0x80, 0, 0, 0}},
	} {
		s := State{}.complete("keep", t0, false)
		err := s.UnmarshalBinary(tc.in)
		require.ErrorIs(t, err, ErrCorrupt, "UnmarshalBinary(%s %v) = %v, want ErrCorrupt", tc.name, tc.in, err)
		_, ok := s.Completed("keep")
		require.True(t, ok, "%s: state changed on error", tc.name)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range []State{{}, State{}.complete("a", t0, true).withSum("b", micros(3)), State{}.withSum("x", micros(-1))} {
		b, err := s.MarshalBinary()
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{1, 2, 1, 'a', 0, 0, 1, 'b', 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		var s State
		if err := s.UnmarshalBinary(in); err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		// Accepted input is canonical: it re-encodes to the same bytes.
		out, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, in, out)
		// And a decoded state is safe to evaluate.
		c := catalog(t, manualDef("a"), compositeDef("c", "a"))
		_, _, err = Complete(c, s, "a", nil, t0)
		require.NoError(t, err)
	})
}
