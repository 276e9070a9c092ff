package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
)

// LedgerEntry is one committed change of a user's numbers, as
// Engine.LedgerEntries reads it.
type LedgerEntry struct {
	Seq  uint64    // the global ledger sequence, strictly increasing
	At   time.Time // the event's time, for events and the awards they paid; else the call's
	User string    // the user's id
	// Kind is "metric" (a metric event), "award" (points added) or "spend"
	// (points taken, by Points().Spend or a claim's cost).
	Kind   string
	Key    string // the metric's or the points system's key
	Amount Amount // the event's value, the points added or the points spent
	// Trigger is the trigger that paid an award; "" for a manual award
	// (Points().Award), whose Reason it then carries.
	Trigger        string `json:",omitempty"`
	Reason         string `json:",omitempty"`
	IdempotencyKey string `json:",omitempty"`
}

// LedgerEntries returns up to limit (1–10000; 0 means 1000) committed
// ledger entries with a sequence after after, in sequence order: a full scan
// is pages of it, each next page after the last Seq returned. Entries of
// erased users are gone. Event attributes are not in the ledger, so entries
// carry none.
func (e *Engine) LedgerEntries(ctx context.Context, after uint64, limit int) ([]LedgerEntry, error) {
	limit = cmp.Or(limit, 1000)
	if limit < 1 || limit > 10000 {
		return nil, gamifytype.Invalid("limit", limit, "must be from 1 to 10000 (0 for 1000)")
	}
	if err := e.live(); err != nil {
		return nil, err
	}
	if after == math.MaxUint64 {
		return []LedgerEntry{}, nil // nothing is after it (after+1 would wrap to the first entry)
	}
	cat := e.cat.Load()
	out := make([]LedgerEntry, 0, min(limit, 1024))
	err := e.db.View(func(tx *store.Tx) error {
		return tx.ScanFrom(store.Ledger, ledger.Key(after+1), func(k, v []byte) error {
			if len(out) == limit {
				return store.ErrStop
			}
			en, err := ledger.Unmarshal(k, v)
			if err != nil {
				return err
			}
			le := LedgerEntry{Seq: en.Seq, At: time.Unix(0, en.At).UTC(), User: string(tx.Get(store.UserIDs, uidKey(en.User))),
				Amount: en.Delta, IdempotencyKey: en.IdemKey}
			switch en.Kind {
			case ledger.MetricDelta:
				m := cat.metricByRef[en.Ref]
				if m == nil {
					return fmt.Errorf("ledger entry %d: metric ref %d: %w", en.Seq, en.Ref, ErrCorrupt)
				}
				le.Kind, le.Key = "metric", m.Key
			case ledgerAward, ledgerSpend:
				s := cat.points.systemByRef[en.Ref]
				if s == nil {
					return fmt.Errorf("ledger entry %d: points system ref %d: %w", en.Seq, en.Ref, ErrCorrupt)
				}
				le.Kind, le.Key = "spend", s.Key
				if en.Kind == ledgerAward {
					le.Kind = "award"
					var r awardRecord
					if err := r.unmarshal(tx.Get(store.Awards, binary.BigEndian.AppendUint64(nil, en.Seq))); err != nil {
						return fmt.Errorf("award %d: %w", en.Seq, err)
					}
					le.Trigger, le.Reason = r.Award.Trigger, r.Award.Reason
				}
			default:
				return fmt.Errorf("ledger entry %d: kind %d: %w", en.Seq, en.Kind, ErrCorrupt)
			}
			out = append(out, le)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, ctx.Err()
}
