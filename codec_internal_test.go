package gamify

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"
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
