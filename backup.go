package gamify

import (
	"context"
	"fmt"
	"io"

	"github.com/gamifykit/gamify/gamifytype"
)

// Backup writes a consistent snapshot of the engine's database file to w
// while writes go on, and returns once it is written. The snapshot is a
// complete database file: restore it by writing it to a path and opening
// that with Open.
//
// It holds every event acknowledged before Backup was called: in Buffered
// mode Backup first flushes (as Flush does), so the events acknowledged but
// not yet committed are in the snapshot; if a commit of such events had
// failed it returns that error (as Flush would) and writes nothing. Events
// acknowledged after the call may or may not be in it. The snapshot is read
// in one read transaction: commits go on meanwhile, but a commit that must
// grow the file's memory map waits until the snapshot is written, and pages
// freed meanwhile are reused only afterwards, so the file may grow during
// a long backup.
//
// ctx ends the backup between writes to w with ctx.Err(); what was written
// is then not a usable database. A tenant's data is in its own file:
// back it up with the tenant's engine (Engine.Tenant(key).Backup).
func (e *Engine) Backup(ctx context.Context, w io.Writer) error {
	if w == nil {
		return gamifytype.Invalid("w", nil, "must be a writer, not nil")
	}
	if err := e.live(); err != nil {
		return err
	}
	if err := e.Flush(ctx); err != nil {
		return fmt.Errorf("gamify: backup: %w", err)
	}
	if _, err := e.db.Backup(ctxWriter{ctx, w}); err != nil {
		if e.live() != nil {
			return ErrClosed
		}
		return fmt.Errorf("gamify: %w", err)
	}
	return nil
}

// ctxWriter stops a copy once its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
