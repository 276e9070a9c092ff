package gamify

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify/store"
)

// The last line of defence behind the input limits: a command whose records
// the store would refuse (a key beyond bbolt's MaxKeySize, a definition that
// does not encode) fails alone, at the end of its own apply, and never the
// group commit of the other callers' commands in its batch.
func TestUnstorableRecordFailsOnlyItsCommand(t *testing.T) {
	ctx := context.Background()
	clock := NewManualClock(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))
	e, err := Open(filepath.Join(t.TempDir(), "t.db"), &Options{Clock: clock, Durability: Buffered, MaxFlushDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"}); err != nil {
		t.Fatal(err)
	}
	track := func(user string) {
		t.Helper()
		if _, err := e.Track(ctx, Event{Metric: "xp", User: user, Value: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.exec(ctx, e.now(), badRecordOp.cmd("")); err != nil {
		t.Fatalf("a command that writes nothing unusual failed: %v", err)
	}
	for name := range badRecords {
		track("before-" + name) // buffered: in the open batch with the bad command
		_, err := e.exec(ctx, e.now(), badRecordOp.cmd(name))
		if err == nil {
			t.Fatalf("%s: command accepted", name)
		}
		if name != "unencodable" && !errors.Is(err, errTooLarge) {
			t.Fatalf("%s: err = %v, want errTooLarge", name, err)
		}
		track("after-" + name)
	}
	if err := e.Flush(ctx); err != nil {
		t.Fatalf("Flush = %v: the batch failed with the bad command", err)
	}
	for name := range badRecords {
		for _, u := range []string{"before-" + name, "after-" + name} {
			m, err := e.Users().Metric(ctx, u, "xp")
			if err != nil || m.Total.String() != "1" {
				t.Fatalf("%s: metric of %s = %v, %v; want 1", name, u, m.Total, err)
			}
		}
	}
	if err := e.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// badRecords are the unstorable records badRecordOp writes, by name.
var badRecords = map[string]func(t *txn){
	"long key": func(t *txn) {
		t.writes = append(t.writes, write{store.Meta, bytes.Repeat([]byte{'k'}, store.MaxKeySize+1), []byte{1}})
	},
	"long idempotency record": func(t *txn) {
		t.recordIdem(string(bytes.Repeat([]byte{'k'}, store.MaxKeySize+1)), 1, 1)
	},
	"unencodable": func(t *txn) {
		t.putJSON(store.Meta, []byte("x"), struct{ At time.Time }{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	},
}

// badRecordOp writes the bad record named by its argument ("": none).
var badRecordOp = newOp("test.bad_record", func(t *txn, name string) (any, error) {
	if f := badRecords[name]; f != nil {
		f(t)
	}
	return nil, nil
})
