package gamify

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"github.com/gamifykit/gamify/gamifytype"
)

// Idempotency keys. A key is remembered per scope (idemKey): (user, metric)
// for events, (user, points system) for manual awards and spends, (user,
// reward) for claims. With it the engine stores a fingerprint of the payload
// the key was first used with. A reuse in the same scope with the same
// payload replays; with a different payload it is ErrConflict and changes
// nothing (Stripe's rule): a key names one request, so a different request
// under the same key is a client mistake — a key generator that repeats, a
// retry that rebuilt its request — which a silent replay would hide.
//
// The fingerprint starts with the operation ("Award", "Spend"), so in the
// scope awards and spends share, a Spend reusing an Award's key is a
// conflict, never a replay of the award nor a fresh spend: a key means one
// operation.

// checkIdemKey refuses an idempotency key that is too long or not UTF-8. A
// key is part of a stored key, so an unbounded one could exceed the store's
// key size and fail the whole batch the command rides in.
func checkIdemKey(field, key string) error {
	if len(key) <= gamifytype.MaxIDLen && utf8.ValidString(key) {
		return nil // without building the field name: Track's hot path
	}
	return gamifytype.CheckText(field+".IdempotencyKey", key, gamifytype.MaxIDLen)
}

// idemVal is an idempotency record: in a command (txn.idem), in a batch not
// yet known committed (writer.pendingIdem), or decoded from the store.
type idemVal struct {
	seq     uint64 // ledger sequence of the original operation (the claim's, for claims)
	at      int64  // when it was applied, Unix ns, for Options.IdempotencyWindow
	fp      uint64 // payload fingerprint; 0 for a record stored without one
	eventAt int64  // an event's time, Unix ns, if timed
	timed   bool   // eventAt is set (events)
	gen     uint64 // batch generation, while pending
}

// matches reports whether a reuse of the key with payload fingerprint fp is
// a replay. A record without a fingerprint matches any payload.
func (r idemVal) matches(fp uint64) bool { return r.fp == 0 || r.fp == fp }

// matchesEvent is matches for an event, whose time is compared apart from
// the fingerprint: an event without Time means "now", and a retry's now is
// later than the original's, so a retry may leave Time out, or give the
// time the event was recorded at (the original's Time, or its "now").
func (r idemVal) matchesEvent(fp uint64, ev *validEvent) bool {
	if !r.matches(fp) {
		return false
	}
	return !r.timed || ev.Time.IsZero() || ev.at.UnixNano() == r.eventAt
}

// A payload fingerprint is an unambiguous encoding of the payload
// (length-prefixed strings, varints, starting with the operation) hashed
// with SHA-256, of which 8 bytes are kept: 64 bits make an accidental match
// of two different payloads (which would replay, the behaviour before
// fingerprints) negligible, at 8 bytes a record. The encoding is built in a
// stack buffer: fingerprints are computed for every keyed event.

func fpStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// fpSum is never 0, which stands for "no fingerprint".
func fpSum(b []byte) uint64 {
	h := sha256.Sum256(b)
	return max(binary.BigEndian.Uint64(h[:]), 1)
}

// eventFingerprint covers what the event says happened, but its time
// (kept in the record, see matchesEvent): its value (Value and Amount
// alike, as the parsed amount) and its attributes. Not the profile:
// Event.Profile describes the user, not the event, and a retry may carry a
// fresher one; a replay applies none (Users().Upsert does).
func eventFingerprint(ev *validEvent) uint64 {
	var buf [128]byte
	b := fpStr(buf[:0], "event")
	b = binary.AppendVarint(b, ev.value.Micros())
	if len(ev.Attributes) > 0 { // last, so they need no count
		var keyBuf [8]string
		keys := keyBuf[:0]
		for k := range ev.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = fpStr(fpStr(b, k), ev.Attributes[k])
		}
	}
	return fpSum(b)
}

// pointsFingerprint covers a manual award or spend: the operation, the
// amount and the reason.
func pointsFingerprint(op string, amount Amount, reason string) uint64 {
	var buf [128]byte
	b := fpStr(buf[:0], op)
	b = binary.AppendVarint(b, amount.Micros())
	return fpSum(fpStr(b, reason))
}

// claimFingerprint: a claim's only payload, the reward, is part of its
// scope, so the fingerprint names the operation only.
var claimFingerprint = fpSum(fpStr(nil, "claim"))

// idemRecord returns the record of key: one this command made (an earlier
// event of a batch), else the writer's. A record older than
// Options.IdempotencyWindow is not found: the key counts as new from then
// on, whether or not the pruning job has removed it yet.
func (t *txn) idemRecord(key string) (idemVal, bool, error) {
	rec, found, err := t.importedRecord(key)
	if win := t.w.opts.IdempotencyWindow; found && win > 0 && t.now.Add(-win).UnixNano() > rec.at {
		return idemVal{}, false, err
	}
	return rec, found, err
}

// importedRecord is idemRecord without the window, for an import's key: it
// names the record imported, which importing again must never store twice
// (until the pruning job removes the key).
func (t *txn) importedRecord(key string) (idemVal, bool, error) {
	if p, ok := t.idem[key]; ok {
		return p, true, nil
	}
	return t.w.idemRecord(key)
}

// recordIdem remembers key for the operation at ledger sequence seq.
func (t *txn) recordIdem(key string, seq, fp uint64) {
	t.putIdem(key, idemVal{seq: seq, at: t.now.UnixNano(), fp: fp})
}

// recordEventIdem remembers key for the event at ledger sequence seq.
func (t *txn) recordEventIdem(key string, seq, fp uint64, ev *validEvent) {
	t.putIdem(key, idemVal{seq: seq, at: t.now.UnixNano(), fp: fp, eventAt: ev.at.UnixNano(), timed: true})
}

func (t *txn) putIdem(key string, r idemVal) {
	if t.idem == nil {
		t.idem = make(map[string]idemVal)
	}
	t.idem[key] = r
}

// idemConflict is the error of a key reused with a different payload.
func idemConflict(field, key, what string) error {
	return &IdempotencyError{Field: field, Key: gamifytype.Quote(key), What: what}
}
