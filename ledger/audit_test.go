package ledger

import (
	"encoding/binary"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// A stored Ref past 32 bits is corrupt: it is not silently cut to another
// metric's id.
func TestUnmarshalRefTooLarge(t *testing.T) {
	val := []byte{version, byte(MetricDelta)}
	val = binary.AppendUvarint(val, 7)       // User
	val = binary.AppendVarint(val, 0)        // At
	val = binary.AppendUvarint(val, 1<<32+3) // Ref
	val = binary.AppendVarint(val, 1)        // Delta
	val = append(val, 0, 0)                  // Cause, IdemKey
	_, err := Unmarshal(Key(1), val)
	require.ErrorIs(t, err, ErrCorrupt)
}

// Kinds this package does not name (the engine's point awards and spends)
// round-trip, as the Kind comment says.
func TestUnmarshalOtherKinds(t *testing.T) {
	for _, k := range []Kind{2, 3} {
		e := Entry{Seq: 4, User: 1, Kind: k, Ref: 2, Delta: gamifytype.AmountFromMicros(-7)}
		got, err := Unmarshal(Key(e.Seq), e.Marshal(nil))
		require.NoError(t, err)
		require.Equal(t, e, got)
	}
}
