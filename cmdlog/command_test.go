package cmdlog

import (
	"errors"
	"testing"
	"time"
)

func TestCommandEnvelopeRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 8, 12, 30, 0, 123, time.FixedZone("x", 3600))
	b := AppendCommand(nil, "def.patch", at)
	b = append(b, `{"a":1}`...)
	op, got, args, err := ParseCommand(b)
	if err != nil || op != "def.patch" || !got.Equal(at) || got.Location() != time.UTC || string(args) != `{"a":1}` {
		t.Fatalf("ParseCommand = %q %v %q %v", op, got, args, err)
	}
}

func TestCommandEnvelopeRefusesDamage(t *testing.T) {
	good := AppendCommand(nil, "track", time.Unix(0, 5))
	for name, rec := range map[string][]byte{
		"empty":        nil,
		"format":       append([]byte{2}, good[1:]...),
		"no name":      {CommandFormat, 0, 0},
		"long name":    {CommandFormat, 0xff, 0x7f},
		"cut name":     good[:4],
		"missing time": good[:len(good)-1],
	} {
		if _, _, _, err := ParseCommand(rec); !errors.Is(err, ErrCommand) {
			t.Errorf("%s: err = %v, want ErrCommand", name, err)
		}
	}
}

func TestPolicyDue(t *testing.T) {
	p := Policy{Interval: time.Second, Size: 100}
	t0 := time.Unix(100, 0)
	for _, c := range []struct {
		now    time.Time
		staged int64
		want   bool
	}{
		{t0.Add(500 * time.Millisecond), 10, false},
		{t0.Add(time.Second), 10, true},
		{t0.Add(10 * time.Millisecond), 100, true},
		{t0.Add(time.Hour), 0, false}, // nothing to fold
	} {
		if got := p.Due(t0, c.now, c.staged); got != c.want {
			t.Errorf("Due(%v, %d) = %v, want %v", c.now.Sub(t0), c.staged, got, c.want)
		}
	}
}
