package gamify

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"
)

// The outbox encoder writes entries byte for byte as the header followed by
// json.Marshal of the note (the stored format), one after another in one
// reused buffer, HTML characters escaped.
func TestNoteEncoderMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 3, 8, 1, 30, 0, 0, time.UTC)
	notes := []Notification{
		PointsChanged{User: "u<1>&", System: "coins", Added: AmountFromInt(3), Total: AmountFromInt(12),
			Level: &LevelChange{From: "bronze", To: "silver"}, At: at},
		UserCreated{User: "a", At: at}, // shorter than the one before: nothing of it may remain
		UserCreated{User: "\u2028é\"", At: at.Add(time.Nanosecond)},
	}
	var enc noteEncoder
	for i, n := range notes {
		got, err := enc.encode(n, at.Add(time.Duration(i)))
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		user, name := n.UserID(), typeName(n)
		want := binary.BigEndian.AppendUint64([]byte{outboxFormat}, uint64(at.Add(time.Duration(i)).UnixNano()))
		want = binary.AppendUvarint(want, uint64(len(user)))
		want = append(want, user...)
		want = binary.AppendUvarint(want, uint64(len(name)))
		want = append(want, name...)
		want = append(want, body...)
		if !bytes.Equal(got, want) {
			t.Errorf("encode(%#v) = %q, want %q", n, got, want)
		}
		e, err := decodeOutbox(binary.BigEndian.AppendUint64(nil, uint64(i+1)), got)
		if err != nil {
			t.Fatalf("decodeOutbox(encode(%#v)): %v", n, err)
		}
		if e.Type != name || e.Notification.UserID() != user || !e.At.Equal(at.Add(time.Duration(i))) {
			t.Errorf("decodeOutbox(encode(%#v)) = %+v", n, e)
		}
	}
}

func typeName(n Notification) string {
	switch n.(type) {
	case PointsChanged:
		return "PointsChanged"
	case UserCreated:
		return "UserCreated"
	}
	return ""
}
