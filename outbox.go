package gamify

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// The outbox. The committer stages every notification of a batch in the
// store.Outbox keyspace with the batch's other writes, numbered by a global
// sequence kept in Meta, so a notification exists exactly when its cause
// does: both reach the file in the same checkpoint, and a replay of the
// command log restores both. The live Subscribe callback is handed the same slice once the
// commit succeeds. Consumers are named positions (store.Consumers) moved by
// Ack; reading is a snapshot scan from a position, so a consumer that
// restarts resumes after its last acknowledgement and sees everything after
// it at least once, in commit order. Trimming runs in the same staged update
// as each commit, from the oldest entry, so it costs one seek when there
// is nothing to trim.

// OutboxEntry is one recorded notification.
type OutboxEntry struct {
	// Seq is the entry's position: consecutive from 1 in commit order
	// across the whole database (a gap is an entry trimmed or erased).
	Seq uint64
	// At is the time of the command that caused the notification (UTC).
	At time.Time
	// Type is the notification's type name ("UserCreated", "PointsChanged"…).
	Type string
	// Notification is the notification, of the same concrete type that
	// Subscribe delivers.
	Notification Notification
}

type outboxEntryJSON struct {
	Seq          uint64
	At           time.Time
	Type         string
	Notification json.RawMessage
}

// MarshalJSON encodes e with its notification's type name in Type (taken
// from Notification):
// {"Seq":1,"At":"…","Type":"UserCreated","Notification":{…}}.
func (e OutboxEntry) MarshalJSON() ([]byte, error) {
	if e.Notification == nil {
		return nil, gamifytype.Invalid("OutboxEntry.Notification", nil, "must be set")
	}
	n, err := json.Marshal(e.Notification)
	if err != nil {
		return nil, err
	}
	return json.Marshal(outboxEntryJSON{e.Seq, e.At, reflect.TypeOf(e.Notification).Name(), n})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (e *OutboxEntry) UnmarshalJSON(b []byte) error {
	var j outboxEntryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	t, ok := noteTypes[j.Type]
	if !ok {
		return gamifytype.Invalid("OutboxEntry.Type", j.Type, "is not a notification type")
	}
	p := reflect.New(t)
	if err := json.Unmarshal(j.Notification, p.Interface()); err != nil {
		return err
	}
	*e = OutboxEntry{Seq: j.Seq, At: j.At, Type: j.Type, Notification: p.Elem().Interface().(Notification)}
	return nil
}

// OutboxInfo describes the outbox.
type OutboxInfo struct {
	// First is the oldest retained entry's Seq (0 when the outbox is empty).
	First uint64
	// Last is the newest Seq ever committed (0 before the first); it never
	// goes back, even when trimming or an erase emptied the outbox.
	Last uint64
}

// ConsumerInfo describes a durable consumer.
type ConsumerInfo struct {
	Name string
	// Acked is the Seq up to which (inclusive) the consumer acknowledged.
	Acked uint64
	// Pending is how many sequence numbers follow Acked (Last - Acked).
	Pending uint64
	// Created is when the consumer was first registered.
	Created time.Time
}

// OutboxAPI reads the outbox and manages its consumers. Get it from
// Engine.Outbox.
type OutboxAPI struct{ e *Engine }

// Outbox returns the API of the durable outbox (see OutboxAPI).
func (e *Engine) Outbox() OutboxAPI { return OutboxAPI{e} }

// Defaults of the outbox retention options.
const (
	OutboxRetainDefault    = 100_000
	OutboxMaxAgeDefault    = 7 * 24 * time.Hour
	OutboxHardLimitDefault = 1_000_000
)

// MaxConsumerName is the longest consumer name, in bytes.
const MaxConsumerName = 200

// Info returns the first and last sequence numbers.
func (o OutboxAPI) Info(ctx context.Context) (OutboxInfo, error) {
	var info OutboxInfo
	err := o.e.view(ctx, func(tx *store.Tx) error {
		info.Last = outboxLast(tx)
		return tx.Scan(store.Outbox, nil, func(k, _ []byte) error {
			info.First = binary.BigEndian.Uint64(k)
			return store.ErrStop
		})
	})
	return info, err
}

// outboxLimit is a read's limit: 0 means 100, and at most 10000 are read at
// once (a page of an outbox that may hold a million entries).
func outboxLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return 100, nil
	case limit < 0 || limit > 10000:
		return 0, gamifytype.Invalid("limit", limit, "must be from 1 to 10000 (0: 100)")
	}
	return limit, nil
}

// Read returns up to limit entries with Seq greater than after, oldest
// first, as committed; it does not wait. A limit of 0 means 100; one below
// 0 or above 10000 is a ValidationError.
func (o OutboxAPI) Read(ctx context.Context, after uint64, limit int) ([]OutboxEntry, error) {
	limit, err := outboxLimit(limit)
	if err != nil {
		return nil, err
	}
	var out []OutboxEntry
	err = o.e.view(ctx, func(tx *store.Tx) error {
		var err error
		out, err = readOutbox(tx, after, limit)
		return err
	})
	return out, err
}

func readOutbox(tx *store.Tx, after uint64, limit int) ([]OutboxEntry, error) {
	if after == math.MaxUint64 {
		return nil, nil
	}
	var out []OutboxEntry
	err := tx.ScanFrom(store.Outbox, outboxKey(after+1), func(k, v []byte) error {
		en, err := decodeOutbox(k, v)
		if err != nil {
			return err
		}
		out = append(out, en)
		if len(out) == limit {
			return store.ErrStop
		}
		return nil
	})
	return out, err
}

// Consumer returns the durable consumer called name, registering it if it
// does not exist yet. A new consumer starts before the oldest retained
// entry; Ack the Last of Info to start at the end instead. While it exists,
// the entries it has not acknowledged are kept (up to
// Options.OutboxHardLimit). The same *Consumer is returned for a name until
// DeleteConsumer.
func (o OutboxAPI) Consumer(ctx context.Context, name string) (*Consumer, error) {
	if err := validConsumerName(name); err != nil {
		return nil, err
	}
	e := o.e
	e.box.mu.Lock()
	c, ok := e.box.consumers[name]
	e.box.mu.Unlock()
	if ok {
		return c, nil
	}
	v, err := e.exec(ctx, e.now(), addConsumerOp.cmd(name))
	if err != nil {
		return nil, fmt.Errorf("gamify: outbox consumer %s: %w", name, err)
	}
	rec := v.(consumerRec)
	e.box.mu.Lock()
	defer e.box.mu.Unlock()
	if c, ok := e.box.consumers[name]; ok {
		return c, nil // registered meanwhile by another caller
	}
	c = &Consumer{e: e, name: name, acked: rec.acked, next: rec.acked}
	e.box.consumers[name] = c
	return c, nil
}

// DeleteConsumer removes the consumer called name, so it no longer holds
// entries back; ErrNotFound if there is none. A *Consumer of it fails
// afterwards with ErrNotFound.
func (o OutboxAPI) DeleteConsumer(ctx context.Context, name string) error {
	if err := validConsumerName(name); err != nil {
		return err
	}
	e := o.e
	_, err := e.exec(ctx, e.now(), deleteConsumerOp.cmd(name))
	if err != nil {
		return fmt.Errorf("gamify: delete outbox consumer %s: %w", name, err)
	}
	e.box.mu.Lock()
	if c, ok := e.box.consumers[name]; ok {
		c.mu.Lock()
		c.deleted = true
		c.mu.Unlock()
		delete(e.box.consumers, name)
	}
	e.box.mu.Unlock()
	return nil
}

// Consumers lists the durable consumers by name.
func (o OutboxAPI) Consumers(ctx context.Context) ([]ConsumerInfo, error) {
	var out []ConsumerInfo
	err := o.e.view(ctx, func(tx *store.Tx) error {
		last := outboxLast(tx)
		return tx.Scan(store.Consumers, nil, func(k, v []byte) error {
			rec, err := unmarshalConsumer(v)
			if err != nil {
				return fmt.Errorf("outbox consumer %q: %w", k, err)
			}
			out = append(out, ConsumerInfo{Name: string(k), Acked: rec.acked, Pending: last - min(rec.acked, last), Created: rec.created})
			return nil
		})
	})
	return out, err
}

// Consumer is a named, durable reader of the outbox, in the manner of a
// JetStream durable pull consumer with cumulative acknowledgement: Fetch
// hands out entries in order and Ack(seq) records that everything up to
// seq is done. After a restart (or Redeliver) delivery resumes after the
// last acknowledged entry, so every entry is delivered at least once; a
// consumer should therefore de-duplicate by Seq. It is safe for concurrent
// use; one goroutine usually fetches and acks.
type Consumer struct {
	e    *Engine
	name string

	mu      sync.Mutex // guards acked, next, deleted; held across an Ack's commit
	acked   uint64     // acknowledged and committed
	next    uint64     // delivered up to here (>= acked)
	deleted bool
}

// Name returns the consumer's name.
func (c *Consumer) Name() string { return c.name }

// Acked returns the Seq up to which the consumer has acknowledged.
func (c *Consumer) Acked() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

// Fetch waits until there is an entry after the last one it delivered and
// returns up to limit of them (100 when limit is 0; below 0 or above 10000
// is a ValidationError), oldest first. It returns ctx's error if ctx ends
// first, ErrClosed if the engine closes.
func (c *Consumer) Fetch(ctx context.Context, limit int) ([]OutboxEntry, error) {
	limit, err := outboxLimit(limit)
	if err != nil {
		return nil, err
	}
	box := &c.e.box
	for {
		wake := box.waiter() // before the read, so that no commit is missed
		c.mu.Lock()
		after, deleted := c.next, c.deleted
		c.mu.Unlock()
		if deleted {
			return nil, fmt.Errorf("gamify: outbox consumer %s: %w", c.name, ErrNotFound)
		}
		out, err := c.e.Outbox().Read(ctx, after, limit)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			c.mu.Lock()
			if c.next == after {
				c.next = out[len(out)-1].Seq
			}
			c.mu.Unlock()
			return out, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.e.committerExited:
			return nil, ErrClosed
		}
	}
}

// Ack records, durably, that every entry up to and including seq is
// processed; it returns once committed. Acknowledging at or below the
// current position changes nothing. seq must not be past Info's Last.
func (c *Consumer) Ack(ctx context.Context, seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deleted {
		return fmt.Errorf("gamify: outbox consumer %s: %w", c.name, ErrNotFound)
	}
	if seq <= c.acked {
		return nil
	}
	e := c.e
	_, err := e.exec(ctx, e.now(), ackOp.cmd(ackArgs{Consumer: c.name, Seq: seq}))
	if err != nil {
		return fmt.Errorf("gamify: ack outbox consumer %s: %w", c.name, err)
	}
	c.acked = seq
	c.next = max(c.next, seq)
	return nil
}

// Redeliver makes the next Fetch start again after the last acknowledged
// entry, as a restart would.
func (c *Consumer) Redeliver() {
	c.mu.Lock()
	c.next = c.acked
	c.mu.Unlock()
}

func validConsumerName(name string) error {
	switch {
	case name == "":
		return gamifytype.Invalid("name", name, "must not be empty")
	case len(name) > MaxConsumerName:
		return gamifytype.Invalid("name", name, fmt.Sprintf("must be at most %d bytes", MaxConsumerName))
	case !utf8.ValidString(name):
		return gamifytype.Invalid("name", name, "must be valid UTF-8")
	}
	return nil
}

// view runs fn on a read snapshot unless the engine is closed.
func (e *Engine) view(ctx context.Context, fn func(*store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.closeMu.RLock()
	defer e.closeMu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	if err := e.db.View(fn); err != nil {
		return fmt.Errorf("gamify: outbox: %w", err)
	}
	return nil
}

// outbox is the engine's outbox state beside the store.
type outbox struct {
	mu        sync.Mutex // guards last, wake, consumers
	last      uint64     // last committed Seq
	wake      chan struct{}
	consumers map[string]*Consumer
}

// waiter returns a channel closed at the next commit of entries.
func (b *outbox) waiter() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wake == nil {
		b.wake = make(chan struct{})
	}
	return b.wake
}

// committed publishes the new last Seq and wakes waiting consumers.
func (b *outbox) committed(last uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if last == b.last {
		return
	}
	b.last = last
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
}

var outboxSeqKey = []byte("outbox/seq")

func outboxLast(tx *store.Tx) uint64 {
	if v := tx.Get(store.Meta, outboxSeqKey); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func outboxKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// retention is the outbox's retention settings.
type retention struct {
	retain, hardLimit uint64
	maxAge            time.Duration
}

// appendOutbox writes one batch's notifications and trims the outbox, in
// the batch's transaction; it returns the new last Seq. Trimming removes,
// from the oldest, entries older than maxAge or not among the newest retain
// sequence numbers that every consumer has acknowledged, and entries not
// among the newest hardLimit whatever the consumers. The store trims from
// where the last trim left the outbox, staging nothing per entry.
func appendOutbox(tx *store.Tx, notes []Notification, meta []noteMeta, seq uint64, now time.Time, r retention) (last uint64, trimmedUnacked int, err error) {
	last = outboxLast(tx)
	var enc noteEncoder
	var key [8]byte
	for i, n := range notes {
		buf, err := enc.encode(n, meta[i].at)
		if err != nil {
			return 0, 0, err
		}
		// The store copies what it stages: key and value can be reused.
		binary.BigEndian.PutUint64(key[:], meta[i].seq)
		if err := tx.Put(store.Outbox, key[:], buf); err != nil {
			return 0, 0, err
		}
	}
	// Numbers are given as commands apply (txn.commit): one of a note that
	// a hard delete dropped before its commit stays used.
	if seq > last {
		last = seq
		if err := tx.Put(store.Meta, outboxSeqKey, outboxKey(last)); err != nil {
			return 0, 0, err
		}
	}
	acked := uint64(math.MaxUint64)
	if err := tx.Scan(store.Consumers, nil, func(_, v []byte) error {
		rec, err := unmarshalConsumer(v)
		if err != nil {
			return err
		}
		acked = min(acked, rec.acked)
		return nil
	}); err != nil {
		return 0, 0, err
	}
	hardFloor := last - min(last, r.hardLimit)
	countFloor := last - min(last, r.retain)
	oldest := now.Add(-r.maxAge)
	_, err = tx.Trim(store.Outbox, func(k, v []byte) bool {
		switch seq := binary.BigEndian.Uint64(k); {
		case seq <= hardFloor:
			if seq > acked {
				trimmedUnacked++
			}
			return true
		case seq <= acked && (seq <= countFloor || outboxTime(v).Before(oldest)):
			return true
		}
		return false
	})
	if err != nil {
		return 0, 0, err
	}
	return last, trimmedUnacked, nil
}

// An entry's value: format byte 1, the command's time (Unix ns, 8 bytes), the
// user (uvarint length, bytes; read by erase without decoding the rest),
// the type name (uvarint length, bytes), the notification as JSON.
const outboxFormat = 1

// noteEncoder encodes outbox entries into one reused buffer: the JSON goes
// straight after the header, where json.Marshal would return a copy of its
// own for every note.
type noteEncoder struct {
	buf []byte
	enc *json.Encoder // writes to the noteEncoder (Write); made on first use
}

func (e *noteEncoder) Write(p []byte) (int, error) {
	e.buf = append(e.buf, p...)
	return len(p), nil
}

// encode returns the entry of n committed at at, valid until the next call.
func (e *noteEncoder) encode(n Notification, at time.Time) ([]byte, error) {
	name := noteName(n)
	if name == "" {
		name = reflect.TypeOf(n).Name()
		if _, ok := noteTypes[name]; !ok {
			return nil, fmt.Errorf("gamify: outbox: notification type %T is not registered", n)
		}
	}
	buf := append(e.buf[:0], outboxFormat)
	buf = binary.BigEndian.AppendUint64(buf, uint64(at.UnixNano()))
	user := n.UserID()
	buf = binary.AppendUvarint(buf, uint64(len(user)))
	buf = append(buf, user...)
	buf = binary.AppendUvarint(buf, uint64(len(name)))
	buf = append(buf, name...)
	if b, ok := appendNote(buf, n); ok {
		e.buf = b
		return b, nil
	}
	e.buf = buf
	if e.enc == nil {
		e.enc = json.NewEncoder(e) // escapes HTML as json.Marshal does
	}
	if err := e.enc.Encode(n); err != nil {
		return nil, fmt.Errorf("gamify: outbox: encode %s: %w", name, err)
	}
	return e.buf[:len(e.buf)-1], nil // Encode ends the value with a newline
}

// The notes of a track (and of a new user) are encoded by hand, without
// reflection or a marshaler's allocations: they are most of the outbox. The
// bytes are json.Marshal's (TestNoteEncoderMatchesMarshal, FuzzNoteEncoder);
// every other type, and a time json.Marshal refuses, takes encoding/json.

// noteName is the type name of a note appendNote encodes, "" for the others.
func noteName(n Notification) string {
	switch n.(type) {
	case PointsChanged:
		return "PointsChanged"
	case UserCreated:
		return "UserCreated"
	case AchievementCompleted:
		return "AchievementCompleted"
	case StreakChanged:
		return "StreakChanged"
	case StreakLengthChanged:
		return "StreakLengthChanged"
	}
	return ""
}

// appendNote appends json.Marshal(n) to b; false (b's contents past its
// length undefined) for a type it does not encode or a value that
// encoding/json must judge.
func appendNote(b []byte, n Notification) ([]byte, bool) {
	ok := true
	switch n := n.(type) {
	case PointsChanged:
		b = appendJSONString(append(b, `{"User":`...), n.User)
		b = appendJSONString(append(b, `,"System":`...), n.System)
		b = appendJSONAmount(append(b, `,"Added":`...), n.Added)
		b = appendJSONAmount(append(b, `,"Spent":`...), n.Spent)
		b = appendJSONAmount(append(b, `,"Total":`...), n.Total)
		b = append(b, `,"Level":`...)
		if l := n.Level; l == nil {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(append(b, `{"From":`...), l.From)
			b = appendJSONString(append(b, `,"To":`...), l.To)
			b = strconv.AppendBool(append(b, `,"Promotion":`...), l.Promotion)
			b = append(strconv.AppendBool(append(b, `,"Pinned":`...), l.Pinned), '}')
		}
		b, ok = appendJSONTime(append(b, `,"At":`...), n.At)
	case UserCreated:
		b = appendJSONString(append(b, `{"User":`...), n.User)
		b, ok = appendJSONTime(append(b, `,"At":`...), n.At)
	case AchievementCompleted:
		b = appendJSONString(append(b, `{"User":`...), n.User)
		b = appendJSONString(append(b, `,"Achievement":`...), n.Achievement)
		b = appendJSONString(append(b, `,"Name":`...), n.Name)
		b, ok = appendJSONTime(append(b, `,"At":`...), n.At)
	case StreakChanged:
		b = appendJSONString(append(b, `{"User":`...), n.User)
		b = appendJSONString(append(b, `,"Streak":`...), n.Streak)
		b = appendJSONString(append(b, `,"Kind":`...), string(n.Kind))
		period, _ := n.Period.MarshalText()
		b = appendJSONString(append(b, `,"Period":`...), string(period))
		b = strconv.AppendInt(append(b, `,"Length":`...), int64(n.Length), 10)
		b = strconv.AppendInt(append(b, `,"Freezes":`...), int64(n.Freezes), 10)
		b = strconv.AppendInt(append(b, `,"Amount":`...), int64(n.Amount), 10)
		b, ok = appendJSONTime(append(b, `,"At":`...), n.At)
	case StreakLengthChanged:
		b = appendJSONString(append(b, `{"User":`...), n.User)
		b = appendJSONString(append(b, `,"Streak":`...), n.Streak)
		b = strconv.AppendInt(append(b, `,"From":`...), int64(n.From), 10)
		b = strconv.AppendInt(append(b, `,"To":`...), int64(n.To), 10)
		b, ok = appendJSONTime(append(b, `,"At":`...), n.At)
	default:
		return b, false
	}
	return append(b, '}'), ok
}

// appendJSONAmount appends a as Amount.MarshalJSON writes it.
func appendJSONAmount(b []byte, a Amount) []byte {
	b, _ = a.AppendText(append(b, '"'))
	return append(b, '"')
}

// appendJSONTime appends t as time.Time.MarshalJSON writes it; false where
// MarshalJSON fails (a year outside 0–9999, a zone offset of 24 h or more).
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	n0 := len(b) + 1
	b = t.AppendFormat(append(b, '"'), time.RFC3339Nano)
	if b[n0+len("9999")] != '-' {
		return b, false
	}
	if b[len(b)-1] != 'Z' {
		c, h := b[len(b)-len("Z07:00")], b[len(b)-len("07:00"):]
		if '0' <= c && c <= '9' || (h[0]-'0')*10+h[1]-'0' >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

// appendJSONString appends s quoted as encoding/json writes strings: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

var errOutboxRecord = errors.New("malformed outbox record")

func outboxTime(v []byte) time.Time {
	if len(v) < 9 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC()
}

// outboxUser returns the user an entry is about.
func outboxUser(v []byte) (string, []byte, bool) {
	if len(v) < 9 || v[0] != outboxFormat {
		return "", nil, false
	}
	rest := v[9:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < n {
		return "", nil, false
	}
	return string(rest[w : w+int(n)]), rest[w+int(n):], true
}

func decodeOutbox(k, v []byte) (OutboxEntry, error) {
	seq := binary.BigEndian.Uint64(k)
	_, rest, ok := outboxUser(v)
	var name string
	if ok {
		n, w := binary.Uvarint(rest)
		if ok = w > 0 && uint64(len(rest)-w) >= n; ok {
			name, rest = string(rest[w:w+int(n)]), rest[w+int(n):]
		}
	}
	if !ok {
		return OutboxEntry{}, fmt.Errorf("outbox entry %d: %w", seq, errOutboxRecord)
	}
	t, known := noteTypes[name]
	if !known {
		return OutboxEntry{}, fmt.Errorf("outbox entry %d: unknown notification type %q", seq, name)
	}
	p := reflect.New(t)
	if err := json.Unmarshal(rest, p.Interface()); err != nil {
		return OutboxEntry{}, fmt.Errorf("outbox entry %d (%s): %w", seq, name, err)
	}
	return OutboxEntry{Seq: seq, At: outboxTime(v), Type: name, Notification: p.Elem().Interface().(Notification)}, nil
}

// noteTypes are the notification types the outbox stores, by type name
// (the name is stored, so renaming a type needs a migration).
var noteTypes = map[string]reflect.Type{}

func init() {
	for _, n := range []Notification{
		UserCreated{}, AchievementCompleted{}, LeaderboardStarted{}, LeaderboardFinished{},
		PointsChanged{}, RewardClaimed{}, StreakChanged{}, StreakLengthChanged{}, StreakMilestoneReached{}, StreakMilestoneReversed{},
		BoostStarted{}, BoostFinished{}, LeagueResult{}, StreakReminder{}, Reactivation{}, Recap{},
	} {
		t := reflect.TypeOf(n)
		noteTypes[t.Name()] = t
	}
}

// consumerRec is a stored consumer: acknowledged Seq, creation time.
type consumerRec struct {
	acked   uint64
	created time.Time
}

func (r consumerRec) marshal() []byte {
	b := binary.BigEndian.AppendUint64(nil, r.acked)
	return binary.BigEndian.AppendUint64(b, uint64(r.created.UnixNano()))
}

func unmarshalConsumer(v []byte) (consumerRec, error) {
	if len(v) != 16 {
		return consumerRec{}, fmt.Errorf("consumer record of %d bytes: %w", len(v), errOutboxRecord)
	}
	return consumerRec{acked: binary.BigEndian.Uint64(v), created: time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))).UTC()}, nil
}

// loadConsumers reads the stored consumers, for the writer's working state.
func loadConsumers(tx *store.Tx) (map[string]consumerRec, error) {
	out := map[string]consumerRec{}
	err := tx.Scan(store.Consumers, nil, func(k, v []byte) error {
		rec, err := unmarshalConsumer(v)
		if err != nil {
			return fmt.Errorf("outbox consumer %q: %w", k, err)
		}
		out[string(k)] = rec
		return nil
	})
	return out, err
}

// The consumer ops change the writer's consumer records.
var (
	addConsumerOp = newOp("outbox.add_consumer", func(t *txn, name string) (consumerRec, error) {
		if rec, ok := t.w.consumers[name]; ok {
			return rec, nil
		}
		rec := consumerRec{acked: 0, created: t.now.UTC()}
		t.writes = append(t.writes, write{store.Consumers, []byte(name), rec.marshal()})
		t.w.consumers[name] = rec
		return rec, nil
	})
	deleteConsumerOp = newOp("outbox.delete_consumer", func(t *txn, name string) (any, error) {
		if _, ok := t.w.consumers[name]; !ok {
			return nil, ErrNotFound
		}
		t.writes = append(t.writes, write{store.Consumers, []byte(name), nil})
		delete(t.w.consumers, name)
		return nil, nil
	})
	ackOp = newOp("outbox.ack", func(t *txn, a ackArgs) (any, error) {
		rec, ok := t.w.consumers[a.Consumer]
		if !ok {
			return nil, ErrNotFound
		}
		// The store, not box.last: a Fetch may read a commit before the
		// committer has published it.
		var last uint64
		if err := t.w.db.View(func(tx *store.Tx) error { last = outboxLast(tx); return nil }); err != nil {
			return nil, err
		}
		if a.Seq > last {
			return nil, gamifytype.Invalid("seq", a.Seq, fmt.Sprintf("is past the last outbox entry (%d)", last))
		}
		rec.acked = max(rec.acked, a.Seq)
		t.writes = append(t.writes, write{store.Consumers, []byte(a.Consumer), rec.marshal()})
		t.w.consumers[a.Consumer] = rec
		return nil, nil
	})
)

type ackArgs struct {
	Consumer string
	Seq      uint64
}
