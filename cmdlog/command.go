package cmdlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// A command record, the payload the engine logs for each command: a format
// byte (CommandFormat), the op's name (uvarint length, bytes), the time the
// command applies at (varint Unix nanoseconds) and the op's arguments, whose
// encoding is the op's own. The log itself treats records as opaque; this
// is the envelope every engine command shares.

// CommandFormat is the first byte of a command record.
const CommandFormat = 1

// MaxOpName bounds an op's name in a command record.
const MaxOpName = 255

// ErrCommand reports a record that is not a well-formed command envelope.
var ErrCommand = errors.New("cmdlog: malformed command record")

// AppendCommand appends the envelope of a command named op applied at at,
// and returns the buffer to append the op's arguments to.
func AppendCommand(b []byte, op string, at time.Time) []byte {
	b = append(b, CommandFormat)
	b = binary.AppendUvarint(b, uint64(len(op)))
	b = append(b, op...)
	return binary.AppendVarint(b, at.UnixNano())
}

// ParseCommand splits a command record into the op's name, the command's
// time (in UTC) and the op's arguments (a subslice of rec).
func ParseCommand(rec []byte) (op string, at time.Time, args []byte, err error) {
	if len(rec) == 0 || rec[0] != CommandFormat {
		return "", time.Time{}, nil, fmt.Errorf("%w: unknown format", ErrCommand)
	}
	rest := rec[1:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || n == 0 || n > MaxOpName || n > uint64(len(rest)-w) {
		return "", time.Time{}, nil, fmt.Errorf("%w: op name", ErrCommand)
	}
	op, rest = string(rest[w:w+int(n)]), rest[w+int(n):]
	nanos, w := binary.Varint(rest)
	if w <= 0 {
		return "", time.Time{}, nil, fmt.Errorf("%w: time", ErrCommand)
	}
	return op, time.Unix(0, nanos).UTC(), rest[w:], nil
}

// Policy says when the log's content is folded into the checkpoint: after
// Interval since the last checkpoint, or once Size bytes are staged,
// whichever comes first. It is what bounds the replay after a crash.
type Policy struct {
	Interval time.Duration
	Size     int64
}

// Due reports whether a checkpoint is due, since the last one at last, at
// now, with staged bytes waiting.
func (p Policy) Due(last, now time.Time, staged int64) bool {
	return staged > 0 && (staged >= p.Size || !now.Before(last.Add(p.Interval)))
}
