package gamify

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/cmdlog"
	"github.com/gamifykit/gamify/gamifytype"
)

// Logged commands. Every mutation that reaches the writer is a command that
// encodes: a named op, the time it applies at and its arguments. The command
// log holds these records, and applying them again in order on the same
// state gives the same outcome — the log is the source of truth, the store
// its checkpoint, and a replica is the same log applied elsewhere.
//
// So an op's run may depend only on its arguments, the command's time and
// the engine's state: no clock reads (the command carries its now), no
// randomness (drawn before the command, into its arguments), no effect of
// map order on what is stored.

// loggable is a command the command log can hold.
type loggable interface {
	command
	opName() string
	// appendArgs appends the encoded arguments to b.
	appendArgs(b []byte) ([]byte, error)
}

// opDef is one named op: how its arguments decode and how it runs.
type opDef struct {
	name   string
	decode func(b []byte) (command, error)
}

// opsByName holds every op; a name is part of the log format and never
// changes meaning.
var opsByName = map[string]*opDef{}

func registerOp(d *opDef) *opDef {
	if _, dup := opsByName[d.name]; dup {
		panic("gamify: op " + d.name + " defined twice")
	}
	opsByName[d.name] = d
	return d
}

// op is an op whose arguments are a JSON-encodable A: admin changes, claims,
// awards, job runs. Every field of A that run reads must round-trip through
// JSON (exported, no funcs or interfaces); TestOpsRoundTrip checks every op
// the test suite runs.
type op[A any] struct {
	def *opDef
	run func(t *txn, a A) (any, error)
}

// newOp defines an op named name.
func newOp[A, R any](name string, run func(t *txn, a A) (R, error)) *op[A] {
	o := &op[A]{run: func(t *txn, a A) (any, error) { return run(t, a) }}
	o.def = registerOp(&opDef{name: name, decode: func(b []byte) (command, error) {
		var a A
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, err
		}
		return &opCmd[A]{op: o, args: a}, nil
	}})
	return o
}

// cmd is the command that runs o with args.
func (o *op[A]) cmd(args A) command { return &opCmd[A]{op: o, args: args} }

type opCmd[A any] struct {
	op   *op[A]
	args A
}

func (c *opCmd[A]) opName() string { return c.op.def.name }

func (c *opCmd[A]) appendArgs(b []byte) ([]byte, error) {
	j, err := json.Marshal(c.args)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

func (c *opCmd[A]) apply(w *writer, now time.Time) (any, error) {
	t := w.begin(now)
	v, err := c.op.run(t, c.args)
	if err != nil {
		t.rollback()
		return nil, err
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	return v, nil
}

// A command's record is cmdlog's command envelope (the op's name and the
// command's time) followed by the op's arguments.

var errCommandRecord = errors.New("gamify: malformed command record")

// encodeCommand appends the record of c applied at now to b.
func encodeCommand(b []byte, c command, now time.Time) ([]byte, error) {
	l, ok := c.(loggable)
	if !ok {
		return nil, fmt.Errorf("gamify: command %T cannot be logged", c)
	}
	return l.appendArgs(cmdlog.AppendCommand(b, l.opName(), now))
}

// decodeCommand reads a record written by encodeCommand.
func decodeCommand(rec []byte) (command, time.Time, error) {
	name, at, args, err := cmdlog.ParseCommand(rec)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", errCommandRecord, err)
	}
	def, ok := opsByName[name]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: unknown op %s", errCommandRecord, gamifytype.Quote(name))
	}
	c, err := def.decode(args)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: op %s: %v", errCommandRecord, name, err)
	}
	return c, at, nil
}

// The track op is the hot path: its events are encoded in binary.

var trackOp = registerOp(&opDef{name: "track", decode: decodeTrack})

func (c *trackCmd) opName() string { return trackOp.name }

// Event flags in a track record.
const (
	evTimed   = 1 << iota // the caller gave Time (idempotency compares it)
	evProfile             // a profile upsert follows, as JSON
)

func (c *trackCmd) appendArgs(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, c.seed)
	b = binary.AppendUvarint(b, uint64(len(c.events)))
	for i := range c.events {
		ev := &c.events[i]
		var flags byte
		if !ev.Time.IsZero() {
			flags |= evTimed
		}
		if ev.Profile != nil {
			flags |= evProfile
		}
		b = append(b, flags)
		b = appendString(b, ev.Metric)
		b = appendString(b, ev.User)
		b = appendString(b, ev.IdempotencyKey)
		b = binary.AppendVarint(b, ev.value.Micros())
		b = binary.AppendVarint(b, ev.at.UnixNano())
		keys := make([]string, 0, len(ev.Attributes))
		for k := range ev.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = binary.AppendUvarint(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendString(appendString(b, k), ev.Attributes[k])
		}
		if ev.Profile != nil {
			j, err := json.Marshal(ev.Profile)
			if err != nil {
				return nil, err
			}
			b = appendString(b, string(j))
		}
	}
	return b, nil
}

func decodeTrack(b []byte) (command, error) {
	d := decoder{b: b}
	seed := d.uvarint()
	n := d.uvarint()
	if d.err || n > uint64(len(b)) {
		return nil, errCommandRecord
	}
	c := &trackCmd{events: make([]validEvent, 0, n), seed: seed}
	for range n {
		var ev validEvent
		flags := d.byte()
		ev.Metric, ev.User, ev.IdempotencyKey = d.str(), d.str(), d.str()
		ev.value = AmountFromMicros(d.varint())
		ev.Amount = ev.value
		ev.at = time.Unix(0, d.varint()).UTC()
		if flags&evTimed != 0 {
			ev.Time = ev.at
		}
		if na := d.uvarint(); na > 0 && !d.err {
			if na > uint64(len(b)) {
				return nil, errCommandRecord
			}
			ev.Attributes = make(map[string]string, na)
			for range na {
				k := d.str()
				ev.Attributes[k] = d.str()
			}
		}
		if flags&evProfile != 0 {
			ev.Profile = new(UserInput)
			if err := json.Unmarshal([]byte(d.str()), ev.Profile); err != nil && !d.err {
				return nil, err
			}
		}
		if d.err {
			return nil, errCommandRecord
		}
		c.events = append(c.events, ev)
	}
	if d.err {
		return nil, errCommandRecord
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the events", errCommandRecord, len(d.b))
	}
	return c, nil
}

// The erase op hard-deletes a user.

var eraseOp = registerOp(&opDef{name: "user.erase", decode: func(b []byte) (command, error) {
	return deleteCmd(b), nil
}})

func (c deleteCmd) opName() string { return eraseOp.name }

func (c deleteCmd) appendArgs(b []byte) ([]byte, error) { return append(b, c...), nil }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}
