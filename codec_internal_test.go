package gamify

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gamifykit/gamify/cmdlog"
)

// Every command the test suite applies is checked to survive the command
// log: it encodes, decodes to an equal command and encodes again to the same
// bytes. Failures are collected and reported by TestMain (CodecFailures).

var codecCheck struct {
	sync.Mutex
	failures []string
	unlogged map[string]int  // command types that cannot be logged yet
	seen     map[string]bool // ops applied at least once
}

func init() { commandCheck = checkCommandCodec }

func checkCommandCodec(c command, now time.Time) {
	if _, ok := c.(flushCmd); ok {
		return // changes nothing: never logged
	}
	fail := func(format string, args ...any) {
		codecCheck.Lock()
		defer codecCheck.Unlock()
		if len(codecCheck.failures) < 50 {
			codecCheck.failures = append(codecCheck.failures, fmt.Sprintf(format, args...))
		}
	}
	if _, ok := c.(loggable); !ok {
		codecCheck.Lock()
		if codecCheck.unlogged == nil {
			codecCheck.unlogged = map[string]int{}
		}
		codecCheck.unlogged[fmt.Sprintf("%T", c)]++
		codecCheck.Unlock()
		return
	}
	codecCheck.Lock()
	if codecCheck.seen == nil {
		codecCheck.seen = map[string]bool{}
	}
	codecCheck.seen[c.(loggable).opName()] = true
	codecCheck.Unlock()
	b1, err := encodeCommand(nil, c, now)
	if err != nil {
		fail("%T: encode: %v", c, err)
		return
	}
	d, at, err := decodeCommand(b1)
	if err != nil {
		fail("%T: decode: %v", c, err)
		return
	}
	if !at.Equal(now) {
		fail("%T: time %v decoded as %v", c, now, at)
	}
	b2, err := encodeCommand(nil, d, at)
	if err != nil || !bytes.Equal(b1, b2) {
		fail("%T: re-encoded differently (%v):\n%q\n%q", c, err, b1, b2)
		return
	}
	if !sameCommand(c, d) {
		fail("%T: decoded to a different command:\n%#v\n%#v", c, c, d)
	}
}

// sameCommand compares a command with its decoded copy: what apply reads
// must be equal.
func sameCommand(a, b command) bool {
	if ta, ok := a.(*trackCmd); ok {
		tb, ok := b.(*trackCmd)
		if !ok || len(ta.events) != len(tb.events) || ta.seed != tb.seed {
			return false
		}
		for i := range ta.events {
			x, y := ta.events[i], tb.events[i]
			if x.Metric != y.Metric || x.User != y.User || x.IdempotencyKey != y.IdempotencyKey || x.value != y.value ||
				!x.at.Equal(y.at) || x.Time.IsZero() != y.Time.IsZero() || len(x.Attributes) != len(y.Attributes) ||
				!reflect.DeepEqual(x.Profile, y.Profile) {
				return false
			}
			for k, v := range x.Attributes {
				if y.Attributes[k] != v {
					return false
				}
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// CodecFailures reports the commands that did not survive the round trip,
// the command types that cannot be logged, and the ops no test applied
// (when any test applied one: a run of a few tests leaves most unapplied).
func CodecFailures() (failures, unlogged, unapplied []string) {
	codecCheck.Lock()
	defer codecCheck.Unlock()
	for k, n := range codecCheck.unlogged {
		unlogged = append(unlogged, fmt.Sprintf("%s (%d)", k, n))
	}
	for name := range opsByName {
		if !codecCheck.seen[name] {
			unapplied = append(unapplied, "op never applied by a test: "+name)
		}
	}
	slices.Sort(unapplied)
	slices.Sort(unlogged)
	return slices.Clone(codecCheck.failures), unlogged, unapplied
}

// FuzzDecodeCommand feeds arbitrary bytes to the command record decoder (the
// replay reads records a crash or a disk may have damaged; the log's
// checksums catch most of that, not a record a newer or buggy build wrote):
// it never panics, and what it accepts encodes to a record that decodes to
// the same command.
func FuzzDecodeCommand(f *testing.F) {
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	for _, c := range []command{
		&trackCmd{seed: 7, events: []validEvent{{Event: Event{Metric: "xp", User: "ana", IdempotencyKey: "k",
			Attributes: map[string]string{"mode": "ranked"}, Profile: &UserInput{Name: "Ana"}}, value: AmountFromInt(3), at: at}}},
		deleteCmd("ana"),
		createAttributeOp.cmd(Attribute{Key: "mode", Name: "Mode", Type: EventAttribute}),
		archiveAttributeOp.cmd("mode"),
	} {
		b, err := encodeCommand(nil, c, at)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{cmdlog.CommandFormat})
	f.Add([]byte{cmdlog.CommandFormat, 5, 't', 'r', 'a', 'c', 'k', 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, rec []byte) {
		c, now, err := decodeCommand(rec)
		if err != nil {
			return
		}
		b, err := encodeCommand(nil, c, now)
		if err != nil {
			return // e.g. JSON that decodes to a value that does not encode
		}
		c2, now2, err := decodeCommand(b)
		if err != nil {
			t.Fatalf("a re-encoded record does not decode: %v\n%q", err, b)
		}
		if !now2.Equal(now) || !sameCommand(c, c2) {
			t.Fatalf("a re-encoded record decodes differently:\n%#v\n%#v", c, c2)
		}
	})
}
