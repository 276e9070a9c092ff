package gamify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// writer owns the working state. Its mutex is the single-writer lock: a
// command is applied by the goroutine that holds it (see writer.go).
type writer struct {
	opts Options
	log  *slog.Logger
	db   *store.DB
	eng  *Engine

	commits chan *batch // to the committer; capacity 1, one batch in flight

	// mu guards every field below: the working state, the open batch and the
	// commit handshake. It is held while a command is applied.
	mu         sync.Mutex
	sealable   sync.Cond // signalled when the committer becomes idle
	timerArmed bool      // a MaxFlushDelay timer will seal the open batch
	closing    bool
	inFlight   bool
	// landing is the batch in flight once committed, until a holder of mu
	// records it (land): the committer does not wait for mu.
	landing atomic.Pointer[batch]
	open    batch
	spare   batch  // the batch committed last, for seal to reuse (batch.recycled)
	gen     uint64 // generation of the open batch
	lostErr error  // a failed commit of buffered events, for the next Flush
	// diverged is set when a batch of a replicated engine failed to land:
	// the shared log moved past commands this replica could not stage, so
	// it applies nothing more until reopened (replication.go).
	diverged error

	users       map[string]*userRec   // working user state by user id
	spares      []*userRec            // records replaced by commits, for cloneInto
	dirtyUsers  map[string]struct{}   // touched since the last seal
	days        map[dayKey]pendingVal // day aggregates: uncommitted, or cached clean copies
	pendingIdem map[string]idemVal    // idempotency records by idemKey
	idemSeen    idemFilter            // every idempotency key stored or pending, and some more
	dirtyDaily  map[dayKey]struct{}
	cat         *catalog          // working definitions
	scratch     txn               // reused by begin
	streakQueue schedule.Queue    // streak/user → when streak.Advance has work
	timeQueue   schedule.Queue    // system/user → next time-trigger fire
	remindQueue schedule.Queue    // user → when a reminder may next be due (reminders.go)
	counters    map[string]uint64 // Meta counters as of the working state
	// claimedCodes and pendingClaims hold claims of batches not yet known
	// to be committed (value: the batch generation; the claim count).
	claimedCodes  map[string]uint64
	pendingClaims map[string][]pendingClaim // user|reward → its claims not yet known committed
	seq           uint64                    // last ledger sequence used
	lastUID       uint64                    // last internal user id assigned
	countersAt    [2]uint64
	markReplica   bool                   // the next flush marks the file as a replica's (replicaKey)
	consumers     map[string]consumerRec // outbox consumers as of the working state

	// parkedStreaks are the due ids of inactive streaks popped from
	// streakQueue, by streak ref, for Activate to queue again.
	parkedStreaks map[uint32][]string

	rec       []byte         // the log record of the command being applied
	seeds     *rand.ChaCha8  // draws the seeds of track commands (trackCmd.seed)
	outboxSeq uint64         // the last outbox number given to a note
	pointsBuf points.Buffers // the effects of points transitions (applyPoints)
	profiles  profileDecoder

	stats writerStats
}

// pendingVal is a day aggregate written by a batch that is not yet known
// to be committed. Reads consult it before the store.
type pendingVal struct {
	amount Amount
	gen    uint64
}

// userRec is the working copy of one user: the profile and the numbers.
// Commands never mutate a userRec in place: they clone it (txn.user), so a
// failing command leaves the working state untouched. A clone shares with
// its source what commands never write in place: the profile's attribute
// map and device tokens (profile.merge replaces them; records loaded from
// the store share attribute maps and preferences too, profileDecoder) and each points
// system's Recent, which is only appended to, so that no version ever sees
// an element written after it (an append writes past every length that
// shares the array).
type userRec struct {
	gen          uint64 // batch generation of the last change
	isNew        bool   // not yet in the store
	profileDirty bool
	p            profile
	s            userState
}

func (u *userRec) clone() *userRec {
	c := *u
	c.s.Metrics = slices.Clone(u.s.Metrics)
	c.s.Streaks = slices.Clone(u.s.Streaks) // streak.State values are never modified in place
	c.s.Boards = slices.Clone(u.s.Boards)
	c.s.Ranks = slices.Clone(u.s.Ranks)
	c.s.Days = slices.Clone(u.s.Days)
	c.s.Years = slices.Clone(u.s.Years)
	c.s.Points = slices.Clone(u.s.Points) // points.State values are never modified in place
	c.s.Chals = slices.Clone(u.s.Chals)   // progress slices are never modified in place
	return &c
}

// cloneInto is clone reusing the slices of c, a record no longer referenced
// (the version a commit replaced): one command per event would otherwise
// allocate every section of the record again. c may be nil.
func (u *userRec) cloneInto(c *userRec) *userRec {
	if c == nil {
		return u.clone()
	}
	cs := c.s
	*c = *u
	c.s.Metrics = append(cs.Metrics[:0], u.s.Metrics...)
	c.s.Streaks = append(cs.Streaks[:0], u.s.Streaks...) // streak.State values are never modified in place
	c.s.Boards = append(cs.Boards[:0], u.s.Boards...)
	c.s.Ranks = append(cs.Ranks[:0], u.s.Ranks...)
	c.s.Days = append(cs.Days[:0], u.s.Days...)
	c.s.Years = append(cs.Years[:0], u.s.Years...)
	c.s.Points = append(cs.Points[:0], u.s.Points...) // points.State values are never modified in place
	c.s.Chals = append(cs.Chals[:0], u.s.Chals...)
	return c
}

// Spare records for cloneInto, bounded.
const maxSpareUsers = 64

// pinned says the committer may still be encoding u: it is a version of the
// batch in flight (batch.states), so it cannot be reused as a spare. w.mu is
// held.
func (w *writer) pinned(u *userRec) bool { return w.inFlight && u.gen == w.gen-1 }

func (w *writer) takeSpare() *userRec {
	n := len(w.spares)
	if n == 0 {
		return nil
	}
	u := w.spares[n-1]
	w.spares = w.spares[:n-1]
	return u
}

func cloneMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return nil
	}
	c := make(M, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// profile is the stored form of a user's identity, JSON-encoded: it changes
// rarely, so readability beats compactness.
type profile struct {
	ID                string            `json:"id"`
	UID               uint64            `json:"uid"`
	Name              string            `json:"name,omitempty"`
	Email             string            `json:"email,omitempty"`
	TZ                string            `json:"tz,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	DeviceTokens      []string          `json:"deviceTokens,omitempty"`
	SubscribeToEmails bool              `json:"subscribeToEmails"`
	Created           time.Time         `json:"created"`
	Updated           time.Time         `json:"updated"`
	Active            bool              `json:"active"`
	Preferences       Preferences       `json:"preferences"`
	Control           bool              `json:"control,omitempty"`
	Remind            remindRec         `json:"remind,omitzero"` // reminders.go
	// SetAt is when each profile field ("name", "attributes.plan", ...)
	// last changed, in Unix ns of the time the value belongs to (an event's
	// time for its Profile): a late event's older value does not undo it.
	SetAt map[string]int64 `json:"setAt,omitempty"`
}

// userState is a user's numbers, binary-encoded on the hot path: one record
// per touched user per batch.
type userState struct {
	Events     uint64
	FirstEvent int64 // Unix ns of the earliest event time, 0 if none
	LastEvent  int64
	Metrics    []metricTotal // sorted by Ref
	Streaks    []userStreak  // sorted by Ref
	Boards     []userBoard   // sorted by (Ref, Run)
	Ranks      []rankDay     // sorted by (Ref, Day)
	// Days holds, per metric, the change of the latest local day seen, not
	// yet written to the Daily keyspace: events of the same day then rewrite
	// only this record, and the day is spilled once when a later one starts.
	Days   []dayAgg // sorted by Ref
	Ach    achievement.State
	Points []userPoints    // sorted by Ref
	Years  []yearAgg       // sorted by (Kind, Ref, Year); see yearreview.go
	Chals  []userChallenge // sorted by Ref; see challenge_state.go
	Paid   []milestonePaid // sorted by (Streak, Start, Length); see milestones.go
	// TrigPaid is what streak triggers paid runs, sorted by (Streak, Start,
	// Trigger); see streak_trigger_paid.go.
	TrigPaid []triggerPaid
	// Seen is when events last sent profile fields unchanged, sorted by
	// Field; see profile.merge.
	Seen []profileSeen
}

// profileSeen is the latest time (Unix ns, the event's) an event's Profile
// sent a field ("name", "attributes.plan") with the value it already had:
// a late event's older value must not undo it, as if it had changed then.
type profileSeen struct {
	Field string
	At    int64
}

func compareSeen(a profileSeen, field string) int { return strings.Compare(a.Field, field) }

// seenAt returns when field was last sent unchanged, 0 if never.
func seenAt(ss []profileSeen, field string) int64 {
	if i, ok := slices.BinarySearchFunc(ss, field, compareSeen); ok {
		return ss[i].At
	}
	return 0
}

// putSeen returns ss with field seen at at (the latest of the times given,
// or at exactly if force: a call made now), written in place: the caller
// owns ss (the slice of the committed version of the user is copied first).
func putSeen(ss []profileSeen, field string, at int64, force bool) []profileSeen {
	i, ok := slices.BinarySearchFunc(ss, field, compareSeen)
	if ok {
		if force {
			ss[i].At = at
		} else {
			ss[i].At = max(ss[i].At, at)
		}
		return ss
	}
	return slices.Insert(ss, i, profileSeen{field, at})
}

// appendTrailing writes the sections after the year aggregates, which
// later versions added: participations, milestone records, streak trigger
// records, profile fields seen. They are written up to the last that is not
// empty, each empty one before it as a count of 0, so that a record without
// them keeps the bytes it had before they existed; a 0 with nothing after
// it is not canonical and does not decode.
func (s *userState) appendTrailing(b []byte) []byte {
	last := 0
	switch {
	case len(s.Seen) > 0:
		last = 4
	case len(s.TrigPaid) > 0:
		last = 3
	case len(s.Paid) > 0:
		last = 2
	case len(s.Chals) > 0:
		last = 1
	}
	if last >= 1 {
		if len(s.Chals) > 0 {
			b = appendChallenges(b, s.Chals)
		} else {
			b = append(b, 0)
		}
	}
	if last >= 2 {
		b = appendPaid(b, s.Paid)
	}
	if last >= 3 {
		b = appendTriggerPaid(b, s.TrigPaid)
	}
	if last >= 4 {
		b = binary.AppendUvarint(b, uint64(len(s.Seen)))
		for _, x := range s.Seen {
			b = binary.AppendUvarint(b, uint64(len(x.Field)))
			b = append(b, x.Field...)
			b = binary.AppendVarint(b, x.At)
		}
	}
	return b
}

func decodeSeen(r *decoder) ([]profileSeen, error) {
	n := r.uvarint()
	if n == 0 || n > uint64(len(r.b)) {
		return nil, errCorruptState
	}
	ss := make([]profileSeen, n)
	for i := range ss {
		l := r.uvarint()
		if r.err || l > uint64(len(r.b)) {
			return nil, errCorruptState
		}
		ss[i] = profileSeen{Field: string(r.b[:l])}
		r.b = r.b[l:]
		ss[i].At = r.varint()
		if i > 0 && ss[i-1].Field >= ss[i].Field {
			return nil, errCorruptState // out of order or repeated
		}
	}
	return ss, nil
}

// dayAgg is the unspilled change of one metric on one local day.
type dayAgg struct {
	Ref    uint32
	Day    int32
	Change Amount
}

type metricTotal struct {
	Ref    uint32
	Total  Amount
	Events uint64
}

func (s *userState) metric(ref uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Metrics, ref, func(m metricTotal, r uint32) int { return cmp.Compare(m.Ref, r) })
}

const stateVersion = 1

var errCorruptState = errors.New("gamify: corrupt user state record")

func (s *userState) marshal(b []byte) []byte {
	if b == nil {
		b = make([]byte, 0, 32+len(s.Metrics)*24)
	}
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, s.Events)
	b = binary.AppendVarint(b, s.FirstEvent)
	b = binary.AppendVarint(b, s.LastEvent)
	b = binary.AppendUvarint(b, uint64(len(s.Metrics)))
	for _, m := range s.Metrics {
		b = binary.AppendUvarint(b, uint64(m.Ref))
		b = binary.AppendVarint(b, m.Total.Micros())
		b = binary.AppendUvarint(b, m.Events)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Streaks)))
	for _, x := range s.Streaks {
		b = binary.AppendUvarint(b, uint64(x.Ref))
		b = binary.AppendVarint(b, x.Due)
		lenAt := len(b)
		b = append(b, 0, 0, 0, 0)
		b, _ = x.St.AppendBinary(b) // encoding a State cannot fail
		binary.BigEndian.PutUint32(b[lenAt:], uint32(len(b)-lenAt-4))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Boards)))
	for _, x := range s.Boards {
		b = binary.AppendUvarint(b, uint64(x.Ref))
		b = binary.AppendVarint(b, x.Run)
		b = binary.AppendVarint(b, x.Score)
		b = binary.AppendVarint(b, x.Sub)
		b = binary.AppendUvarint(b, x.Reached)
		b = binary.AppendUvarint(b, uint64(len(x.Group)))
		b = append(b, x.Group...)
		var flags byte
		if x.In {
			flags |= 1
		}
		if x.Scored {
			flags |= 2
		}
		b = append(b, flags)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Ranks)))
	for _, r := range s.Ranks {
		b = binary.AppendUvarint(b, uint64(r.Ref))
		b = binary.AppendVarint(b, int64(r.Day))
		b = binary.AppendUvarint(b, uint64(r.Last))
		b = binary.AppendUvarint(b, uint64(r.Best))
		b = binary.AppendVarint(b, r.Score)
		b = binary.AppendUvarint(b, uint64(r.PrevRank))
		b = binary.AppendVarint(b, r.PrevScore)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Days)))
	for _, d := range s.Days {
		b = binary.AppendUvarint(b, uint64(d.Ref))
		b = binary.AppendVarint(b, int64(d.Day))
		b = binary.AppendVarint(b, d.Change.Micros())
	}
	lenAt := len(b)
	b = append(b, 0, 0, 0, 0)
	b, _ = s.Ach.AppendBinary(b) // encoding a State cannot fail
	binary.BigEndian.PutUint32(b[lenAt:], uint32(len(b)-lenAt-4))
	b = binary.AppendUvarint(b, uint64(len(s.Points)))
	for _, p := range s.Points {
		b = binary.AppendUvarint(b, uint64(p.Ref))
		lenAt := len(b)
		b = append(b, 0, 0, 0, 0)
		b, _ = p.St.AppendBinary(b)
		binary.BigEndian.PutUint32(b[lenAt:], uint32(len(b)-lenAt-4))
		b = binary.AppendUvarint(b, uint64(len(p.Recent)))
		for _, seq := range p.Recent {
			b = binary.AppendUvarint(b, seq)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s.Years)))
	for _, y := range s.Years {
		b = append(b, byte(y.Kind))
		b = binary.AppendUvarint(b, uint64(y.Ref))
		b = binary.AppendVarint(b, int64(y.Year))
		b = binary.AppendVarint(b, y.Value)
	}
	return s.appendTrailing(b)
}

func (s *userState) unmarshal(b []byte) error { return s.decode(b, false) }

// decode reads a state record; v2 reads one of schema version 2, whose rank
// days end at Best (see migrateV2).
func (s *userState) decode(b []byte, v2 bool) error {
	if len(b) < 1 || b[0] != stateVersion {
		return errCorruptState
	}
	r := decoder{b: b[1:]}
	s.Events = r.uvarint()
	s.FirstEvent = r.varint()
	s.LastEvent = r.varint()
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Metrics = make([]metricTotal, n)
	for i := range s.Metrics {
		s.Metrics[i] = metricTotal{Ref: uint32(r.uvarint()), Total: AmountFromMicros(r.varint()), Events: r.uvarint()}
	}
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Streaks = make([]userStreak, n)
	for i := range s.Streaks {
		x := &s.Streaks[i]
		x.Ref, x.Due = uint32(r.uvarint()), r.varint()
		if r.err || len(r.b) < 4 {
			return errCorruptState
		}
		l := binary.BigEndian.Uint32(r.b)
		if uint64(l) > uint64(len(r.b)-4) {
			return errCorruptState
		}
		if err := x.St.UnmarshalBinary(r.b[4 : 4+l]); err != nil {
			return fmt.Errorf("%w: streak %d: %v", errCorruptState, x.Ref, err)
		}
		r.b = r.b[4+l:]
	}
	if len(s.Streaks) == 0 {
		s.Streaks = nil
	}
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Boards = makeCap(s.Boards, n)
	for range n {
		x := userBoard{Ref: uint32(r.uvarint()), Run: r.varint(), Score: r.varint(), Sub: r.varint(), Reached: r.uvarint()}
		l := r.uvarint()
		if r.err || l >= uint64(len(r.b)) {
			return errCorruptState
		}
		x.Group = string(r.b[:l])
		flags := r.b[l]
		r.b = r.b[l+1:]
		x.In, x.Scored = flags&1 != 0, flags&2 != 0
		s.Boards = append(s.Boards, x)
	}
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Ranks = makeCap(s.Ranks, n)
	for range n {
		d := rankDay{Ref: uint32(r.uvarint()), Day: int32(r.varint()), Last: int32(r.uvarint()), Best: int32(r.uvarint())}
		if !v2 {
			d.Score, d.PrevRank, d.PrevScore = r.varint(), int32(r.uvarint()), r.varint()
		}
		s.Ranks = append(s.Ranks, d)
	}
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Days = makeCap(s.Days, n)
	for range n {
		s.Days = append(s.Days, dayAgg{Ref: uint32(r.uvarint()), Day: int32(r.varint()), Change: AmountFromMicros(r.varint())})
	}
	if r.err || len(r.b) < 4 {
		return errCorruptState
	}
	l := binary.BigEndian.Uint32(r.b)
	if uint64(l) > uint64(len(r.b)-4) {
		return errCorruptState
	}
	if err := s.Ach.UnmarshalBinary(r.b[4 : 4+l]); err != nil {
		return fmt.Errorf("%w: achievements: %v", errCorruptState, err)
	}
	r.b = r.b[4+l:]
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Points = makeCap(s.Points, n)
	for range n {
		p := userPoints{Ref: uint32(r.uvarint())}
		if r.err || len(r.b) < 4 {
			return errCorruptState
		}
		l := binary.BigEndian.Uint32(r.b)
		if uint64(l) > uint64(len(r.b)-4) {
			return errCorruptState
		}
		if err := p.St.UnmarshalBinary(r.b[4 : 4+l]); err != nil {
			return fmt.Errorf("%w: points: %v", errCorruptState, err)
		}
		r.b = r.b[4+l:]
		m := r.uvarint()
		if m > recentAwards {
			return errCorruptState
		}
		p.Recent = makeCap(p.Recent, m)
		for range m {
			p.Recent = append(p.Recent, r.uvarint())
		}
		s.Points = append(s.Points, p)
	}
	n = r.uvarint()
	if n > uint64(len(r.b)) {
		return errCorruptState
	}
	s.Years = makeCap(s.Years, n)
	for range n {
		if r.err || len(r.b) == 0 || r.b[0] > byte(yearRank) {
			return errCorruptState
		}
		y := yearAgg{Kind: yearKind(r.b[0])}
		r.b = r.b[1:]
		y.Ref, y.Year, y.Value = uint32(r.uvarint()), int32(r.varint()), r.varint()
		if k := len(s.Years); k > 0 && compareYearAgg(s.Years[k-1], y) >= 0 {
			return errCorruptState // out of order or repeated
		}
		s.Years = append(s.Years, y)
	}
	if !r.err && len(r.b) > 0 { // a section written only when there are participations (or paid milestones)
		if r.b[0] == 0 {
			r.b = r.b[1:] // none: paid milestones follow
			if len(r.b) == 0 {
				return errCorruptState
			}
		} else {
			cs, err := decodeChallenges(&r)
			if err != nil {
				return err
			}
			s.Chals = cs
		}
	}
	if !r.err && len(r.b) > 0 {
		ps, err := decodePaid(&r)
		if err != nil {
			return err
		}
		s.Paid = ps
	}
	if !r.err && len(r.b) > 0 {
		ps, err := decodeTriggerPaid(&r)
		if err != nil {
			return err
		}
		s.TrigPaid = ps
	}
	if !r.err && len(r.b) > 0 {
		ss, err := decodeSeen(&r)
		if err != nil {
			return err
		}
		s.Seen = ss
	}
	if r.err || len(r.b) != 0 {
		return errCorruptState
	}
	return nil
}

// makeCap returns s (nil when n is 0, as appending nothing leaves it) with
// room for n elements: a decoded section is sized once, not grown. The
// callers bound n by the bytes left in the record.
func makeCap[S ~[]E, E any](s S, n uint64) S {
	if n == 0 {
		return s
	}
	return slices.Grow(s, int(n))
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Keys of the per-user keyspaces.

func uidKey(uid uint64) []byte { return binary.BigEndian.AppendUint64(nil, uid) }

// dayKey is the Daily key: uid | metric ref | local day (days since
// 1970-01-01), big-endian with the day's sign bit flipped so keys sort by day.
type dayKey [16]byte

func dailyKey(uid uint64, ref uint32, day int32) dayKey {
	var k dayKey
	binary.BigEndian.PutUint64(k[:], uid)
	binary.BigEndian.PutUint32(k[8:], ref)
	binary.BigEndian.PutUint32(k[12:], uint32(day)^0x80000000)
	return k
}

func parseDailyKey(k []byte) (uid uint64, ref uint32, day int32, ok bool) {
	if len(k) != 16 {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint64(k), binary.BigEndian.Uint32(k[8:]), int32(binary.BigEndian.Uint32(k[12:]) ^ 0x80000000), true
}

// idemKey is uid | scope ref | the caller's key. The scope ref is the
// metric's ref for events, the points system's ref | 1<<31 for manual awards
// and spends (one scope for both), the reward's ref | 1<<30 for claims.
func idemKey(uid uint64, ref uint32, key string) string {
	k := make([]byte, 12, 12+len(key))
	binary.BigEndian.PutUint64(k, uid)
	binary.BigEndian.PutUint32(k[8:], ref)
	return string(append(k, key...))
}

// encodeIdem is the stored idempotency record: the ledger sequence of the
// original operation, when it was applied, its payload fingerprint (8
// bytes, big-endian) and, for an event, the event's time.
func encodeIdem(r idemVal) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 38), r.seq)
	b = binary.AppendVarint(b, r.at)
	b = binary.BigEndian.AppendUint64(b, r.fp)
	if r.timed {
		b = binary.AppendVarint(b, r.eventAt)
	}
	return b
}

// decodeIdem reads a record of encodeIdem. A record without a fingerprint
// (written before fingerprints were stored) reads as fp 0, which matches
// any payload: it replays, as it did when it was written.
func decodeIdem(b []byte) (idemVal, error) {
	corrupt := errors.New("gamify: corrupt idempotency record")
	d := decoder{b: b}
	var r idemVal
	r.seq, r.at = d.uvarint(), d.varint()
	switch {
	case d.err:
		return idemVal{}, corrupt
	case len(d.b) == 0:
		return r, nil
	case len(d.b) < 8:
		return idemVal{}, corrupt
	}
	r.fp, d.b = binary.BigEndian.Uint64(d.b), d.b[8:]
	if len(d.b) > 0 {
		r.eventAt, r.timed = d.varint(), true
		if d.err || len(d.b) > 0 {
			return idemVal{}, corrupt
		}
	}
	return r, nil
}

// localDay returns the days since 1970-01-01 of t's calendar date in loc.
func localDay(t time.Time, loc *time.Location) int32 {
	if loc == time.UTC { // the default zone, without the calendar: days of 86400 s
		days := t.Unix() / 86400
		if t.Unix()%86400 < 0 {
			days-- // floored: a time before 1970 is in the day before the quotient's
		}
		return int32(days)
	}
	y, m, d := t.In(loc).Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dayDate is the inverse of localDay: the date as midnight UTC.
func dayDate(day int32) time.Time { return time.Unix(int64(day)*86400, 0).UTC() }

var (
	seqKey        = []byte("seq")
	uidCounterKey = []byte("uid")
)

// loadUser returns the working record of id, reading the store on a miss;
// nil if the user does not exist.
func (w *writer) loadUser(id string) (*userRec, error) {
	if u, ok := w.users[id]; ok {
		w.stats.userHits++
		return u, nil
	}
	w.stats.userMisses++
	var u *userRec
	err := w.db.View(func(tx *store.Tx) error {
		pv := tx.Get(store.Users, []byte(id))
		if pv == nil {
			return nil
		}
		u = &userRec{}
		if err := w.profiles.decode(pv, &u.p); err != nil {
			return fmt.Errorf("gamify: corrupt profile of %q: %w", id, err)
		}
		if sv := tx.Get(store.State, uidKey(u.p.UID)); sv != nil {
			if err := u.s.unmarshal(sv); err != nil {
				return fmt.Errorf("user %q: %w", gamifytype.Quote(id), err)
			}
		}
		return nil
	})
	if err != nil || u == nil {
		return nil, err
	}
	w.users[id] = u
	return u, nil
}

// dailyValue returns the working value of a day aggregate: from memory
// (uncommitted, or cached since its last read) or else from the store.
func (w *writer) dailyValue(key dayKey) (Amount, error) {
	if p, ok := w.days[key]; ok {
		return p.amount, nil
	}
	var v Amount
	err := w.db.View(func(tx *store.Tx) error {
		b := tx.Get(store.Daily, key[:])
		if b == nil {
			return nil
		}
		x, n := binary.Varint(b)
		if n <= 0 {
			return errors.New("gamify: corrupt day aggregate")
		}
		v = AmountFromMicros(x)
		return nil
	})
	return v, err
}

// idemRecord returns the record of the operation an idempotency key was
// first used for, from the uncommitted batches or the store. (txn.idemRecord
// also sees the command's own records.)
func (w *writer) idemRecord(key string) (rec idemVal, found bool, err error) {
	if p, ok := w.pendingIdem[key]; ok {
		return p, true, nil
	}
	if !w.idemSeen.mayHave(w, key) {
		return idemVal{}, false, nil
	}
	err = w.db.View(func(tx *store.Tx) error {
		b := tx.Get(store.Idempotency, []byte(key))
		if b == nil {
			return nil
		}
		found = true
		rec, err = decodeIdem(b)
		return err
	})
	return rec, found, err
}

// flushWrites encodes everything dirty since the last seal but the users'
// state records: it returns the versions to encode, which the committer
// encodes out of the writer's lock (batch.states, writer.pinned).
func (w *writer) flushWrites(ws []write, states []*userRec) ([]write, []*userRec) {
	for id := range w.dirtyUsers {
		u := w.users[id]
		if u.profileDirty {
			pv, err := json.Marshal(&u.p)
			if err != nil {
				panic(err) // a profile always encodes
			}
			ws = append(ws, write{store.Users, []byte(id), pv})
			if u.isNew {
				ws = append(ws, write{store.UserIDs, uidKey(u.p.UID), []byte(id)})
			}
			u.profileDirty, u.isNew = false, false
		}
		states = append(states, u)
	}
	clear(w.dirtyUsers)
	for k := range w.dirtyDaily {
		ws = append(ws, write{store.Daily, bytes.Clone(k[:]), binary.AppendVarint(make([]byte, 0, 10), w.days[k].amount.Micros())})
	}
	clear(w.dirtyDaily)
	if w.countersAt != [2]uint64{w.seq, w.lastUID} {
		ws = append(ws,
			write{store.Meta, seqKey, binary.BigEndian.AppendUint64(nil, w.seq)},
			write{store.Meta, uidCounterKey, binary.BigEndian.AppendUint64(nil, w.lastUID)})
		w.countersAt = [2]uint64{w.seq, w.lastUID}
	}
	if w.markReplica {
		ws = append(ws, write{store.Meta, replicaKey, []byte{1}})
		w.markReplica = false
	}
	return ws, states
}

// Bounds of the writer's caches of clean (committed) records.
const (
	dayCacheMax = 1 << 18
)

// forgetCommitted drops pending values that batch gen made durable and trims
// the user cache.
func (w *writer) forgetCommitted(gen uint64) {
	// Day aggregates stay cached (most events hit today's) up to a bound.
	if len(w.days) > dayCacheMax {
		for k, p := range w.days {
			if p.gen <= gen {
				delete(w.days, k)
			}
			if len(w.days) <= dayCacheMax*3/4 {
				break
			}
		}
	}
	for k, p := range w.pendingIdem {
		if p.gen <= gen {
			delete(w.pendingIdem, k)
		}
	}
	for k, g := range w.claimedCodes {
		if g <= gen {
			delete(w.claimedCodes, k)
		}
	}
	for k, pcs := range w.pendingClaims {
		pcs = slices.DeleteFunc(pcs, func(p pendingClaim) bool { return p.gen <= gen })
		if len(pcs) == 0 {
			delete(w.pendingClaims, k)
		} else {
			w.pendingClaims[k] = pcs
		}
	}
	if limit := w.opts.UserCache; len(w.users) > limit {
		for id, u := range w.users {
			if u.gen <= gen {
				delete(w.users, id)
			}
			if len(w.users) <= limit*3/4 {
				break
			}
		}
	}
}

// reload drops the working state and reads counters and definitions back
// from the store, after a failed commit or at Open.
func (w *writer) reload() error {
	w.eng.years.reset() // in-memory views of the store are rebuilt when next asked for
	w.eng.parts.reset()
	w.users = make(map[string]*userRec)
	w.dirtyUsers = make(map[string]struct{})
	w.days = make(map[dayKey]pendingVal)
	w.counters = map[string]uint64{}
	w.claimedCodes, w.pendingClaims = map[string]uint64{}, map[string][]pendingClaim{}
	w.pendingIdem = make(map[string]idemVal)
	w.dirtyDaily = make(map[dayKey]struct{})
	return w.db.View(func(tx *store.Tx) error {
		w.seq, w.lastUID = 0, 0
		if b := tx.Get(store.Meta, seqKey); len(b) == 8 {
			w.seq = binary.BigEndian.Uint64(b)
		}
		if b := tx.Get(store.Meta, uidCounterKey); len(b) == 8 {
			w.lastUID = binary.BigEndian.Uint64(b)
		}
		w.countersAt = [2]uint64{w.seq, w.lastUID}
		w.outboxSeq = outboxLast(tx)
		w.eng.box.committed(w.outboxSeq)
		var err error
		if w.consumers, err = loadConsumers(tx); err != nil {
			return err
		}
		cat, err := loadCatalog(tx, w.opts.DefaultTimezone)
		if err != nil {
			return err
		}
		w.cat = cat
		w.eng.cat.Store(cat)
		if err := w.idemSeen.reset(tx, &w.opts); err != nil {
			return err
		}
		if err := w.rebuildStreakQueue(tx); err != nil {
			return err
		}
		if err := w.rebuildBoards(tx); err != nil {
			return err
		}
		return w.rebuildLeagues(tx)
	})
}

// txn collects one command's changes so that a failing command leaves no
// trace: nothing reaches the writer's state until commit.
type txn struct {
	w       *writer
	now     time.Time
	users   map[string]*userRec
	entries []ledger.Entry
	daily   map[dayKey]Amount
	idem    map[string]idemVal
	writes  []write
	publish []func()
	notes   []Notification
	cat     *catalog // replaced definitions, if the command changed any

	streakDue   []streakDueItem          // users whose streak due time changed
	timeDue     []streakDueItem          // users whose next time-trigger fire changed
	remindUsers []string                 // users whose next reminder may have moved earlier
	remindDue   []streakDueItem          // users a reminder command processed, with their next reminder
	achCount    map[string]int64         // completions per achievement, for the counters
	achResults  *[]AchievementCompletion // where streak-made completions are reported
	pointsRes   *[]PointsChange          // where points changes of the current event are reported
	milestones  *[]MilestoneReached      // where streak milestones of the current event are reported
	boardsRes   *[]LeaderboardChange     // where board changes of the current event are reported
	eventAt     time.Time                // the time of the event being applied (zero outside one): what boards attribute its changes to
	newUsers    int64                    // users created (+) and deleted (-)
	backdates   []string                 // achievements to backdate once committed
	undo        []indexUndo              // leaderboard index changes, undone if the command fails
	leagueUndo  []func()                 // league memory changes, undone if the command fails
	claimedCode []string                 // codes allocated or generated by this command
	claimsAdded []addedClaim             // claims made by this command
	codeSeed    string                   // the seed of the codes the command generates (rewards.go)
	codesMade   int                      // codes generated from codeSeed so far
	seedNum     uint64                   // a track command's seed, for codeSeed when a code is needed
	yearMoves   []yearMove               // changes of yearly numbers, for the year distributions
	netStreaks  bool                     // a call of several events: streak notes are netted at its end
	raiseFrom   []noteFrom               // netStreaks: the length before each raise note
	seq         uint64
	lastUID     uint64
	encodeErr   error       // a record that could not be encoded: the command fails
	room        *resultRoom // storage for the result lists of a one-event command (event.go)
	pointsLent  bool        // w.pointsBuf is lent to a points transition (applyPoints)
	// creating is the profile of the call about to create its user
	// (createWith): merged into the new user before the user_creation
	// triggers, which may gate on its attributes.
	creating *UserInput
}

// attributedAt is the time the changes being applied belong to on
// leaderboards: the event's time inside an event (its awards and streak
// change included), else the command's time.
func (t *txn) attributedAt() time.Time {
	if !t.eventAt.IsZero() {
		return t.eventAt
	}
	return t.now
}

// begin starts a txn. The writer reuses one txn (commands never nest) so
// that its maps and slices are not reallocated for every event.
func (w *writer) begin(now time.Time) *txn {
	t := &w.scratch
	t.users, t.daily, t.idem = reuse(t.users), reuse(t.daily), reuse(t.idem)
	achCount := t.achCount
	*t = txn{
		w: w, now: now, seq: w.seq, lastUID: w.lastUID,
		users: t.users, daily: t.daily, idem: t.idem,
		entries: t.entries[:0], writes: t.writes[:0], publish: t.publish[:0], notes: t.notes[:0],
		streakDue: t.streakDue[:0], timeDue: t.timeDue[:0], remindUsers: t.remindUsers[:0], remindDue: t.remindDue[:0], undo: t.undo[:0], achCount: achCount, claimedCode: t.claimedCode[:0], claimsAdded: t.claimsAdded[:0], yearMoves: t.yearMoves[:0], backdates: t.backdates[:0],
		raiseFrom: t.raiseFrom[:0],
	}
	clear(t.achCount)
	if t.achCount == nil {
		t.achCount = map[string]int64{}
	}
	return t
}

// reuse empties a scratch map for the next command, or drops it once a
// command (a batch, a job chunk) has grown it: ranging over a map costs its
// capacity, not its length, and commit ranges over these for every command.
func reuse[K comparable, V any](m map[K]V) map[K]V {
	if len(m) > 32 {
		return nil // made again, small, by the first command that needs it
	}
	clear(m)
	return m
}

// user returns a private copy of user id for modification; create makes a
// new user if none exists (else nil is returned for unknown users).
func (t *txn) user(id string, create bool) (*userRec, error) {
	if u, ok := t.users[id]; ok {
		return u, nil
	}
	base, err := t.w.loadUser(id)
	if err != nil {
		return nil, err
	}
	var u *userRec
	switch {
	case base != nil:
		u = base.cloneInto(t.w.takeSpare())
	case !create:
		return nil, nil
	default:
		t.lastUID++
		u = &userRec{isNew: true, profileDirty: true, p: profile{
			ID: id, UID: t.lastUID, SubscribeToEmails: true, Created: t.now.UTC(), Updated: t.now.UTC(), Active: true,
			Control: inControlGroup(id, t.w.opts.ControlRatio),
		}}
		u.p.Preferences = newUserPreferences
		if in := t.creating; in != nil {
			u.p.merge(in, t.attributedAt(), t.eventAt.IsZero(), t.now, &u.s.Seen) // checked by the caller; its merge after this one changes nothing
		}
		t.newUsers++
		t.notes = append(t.notes, UserCreated{User: id, At: t.now})
		if t.users == nil {
			t.users = make(map[string]*userRec)
		}
		t.users[id] = u
		if err := t.applyPoints(u, func(r points.Rules, s points.State) (points.State, points.Effects, error) {
			return points.OnUserCreated(r, s, t.pointsUser(u), t.now)
		}); err != nil {
			return nil, err
		}
		t.queueNewUserTime(u)
	}
	if t.users == nil {
		t.users = make(map[string]*userRec)
	}
	t.users[id] = u
	return u, nil
}

// createWith is user(id, true) for a call that carries a profile: a new
// user has in merged before the user_creation triggers run.
func (t *txn) createWith(id string, in *UserInput) (*userRec, error) {
	t.creating = in
	defer func() { t.creating = nil }()
	return t.user(id, true)
}

// nextSeq allocates a ledger sequence number.
func (t *txn) nextSeq() uint64 {
	t.seq++
	return t.seq
}

func (t *txn) addDaily(uid uint64, ref uint32, day int32, delta Amount) error {
	k := dailyKey(uid, ref, day)
	v, ok := t.daily[k]
	if !ok {
		var err error
		if v, err = t.w.dailyValue(k); err != nil {
			return err
		}
	}
	if t.daily == nil {
		t.daily = make(map[dayKey]Amount)
	}
	sum, ok := v.AddChecked(delta)
	if !ok {
		return errChangeOverflow
	}
	t.daily[k] = sum
	return nil
}

// errChangeOverflow reports a day's or a year's change out of range (a
// total can stay in range while its changes swing further).
var errChangeOverflow = errors.New("would overflow the change of a day or year")

// addDay adds delta to the user's change of metric ref on local day day:
// in the state record for the latest day, in the Daily keyspace for earlier
// ones (a late event, or the latest day being spilled when a new one starts).
func (t *txn) addDay(u *userRec, ref uint32, day int32, delta Amount) error {
	if err := t.addYear(u, ref, day, delta); err != nil {
		return err
	}
	ds := u.s.Days
	i, ok := slices.BinarySearchFunc(ds, ref, func(d dayAgg, r uint32) int { return cmp.Compare(d.Ref, r) })
	switch {
	case !ok:
		u.s.Days = slices.Insert(ds, i, dayAgg{Ref: ref, Day: day, Change: delta})
	case ds[i].Day == day:
		sum, ok := ds[i].Change.AddChecked(delta)
		if !ok {
			return errChangeOverflow
		}
		ds[i].Change = sum
	case ds[i].Day > day:
		return t.addDaily(u.p.UID, ref, day, delta)
	default:
		if err := t.addDaily(u.p.UID, ref, ds[i].Day, ds[i].Change); err != nil {
			return err
		}
		ds[i] = dayAgg{Ref: ref, Day: day, Change: delta}
	}
	return nil
}

// addCounter adds delta to a counter of the Meta keyspace. Part of commit:
// the writer's copy changes at once.
func (t *txn) addCounter(k []byte, delta int64) {
	w := t.w
	v, ok := w.counters[string(k)]
	if !ok {
		_ = w.db.View(func(tx *store.Tx) error { v = readCounter(tx, k); return nil })
	}
	v = uint64(int64(v) + delta)
	w.counters[string(k)] = v
	t.writes = append(t.writes, write{store.Meta, k, binary.BigEndian.AppendUint64(nil, v)})
}

// putJSON adds the JSON encoding of v under key to the command's writes. A
// value that does not encode fails the command at commit, not the batch.
func (t *txn) putJSON(ks store.Keyspace, key []byte, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.encodeErr = errors.Join(t.encodeErr, fmt.Errorf("gamify: encode %s/%s: %w", ks, gamifytype.Quote(string(key)), err))
		return
	}
	t.writes = append(t.writes, write{ks, key, b})
}

// storable reports what of the command the store would refuse. Inputs are
// bounded at the boundary (limits.go); this is the last line of defence, so
// that a path the boundary missed fails one command instead of a batch.
func (t *txn) storable() error {
	if t.encodeErr != nil {
		return t.encodeErr
	}
	for _, u := range t.users {
		if u.profileDirty && (!gamifytype.EncodableTime(u.p.Created) || !gamifytype.EncodableTime(u.p.Updated)) {
			return fmt.Errorf("gamify: profile of user %s: %w", gamifytype.Quote(u.p.ID), errUnencodableTime)
		}
	}
	for k := range t.idem {
		if len(k) > store.MaxKeySize {
			return fmt.Errorf("gamify: idempotency record of %d bytes: %w", len(k), errTooLarge)
		}
	}
	for _, wr := range t.writes {
		if len(wr.key) == 0 || len(wr.key) > store.MaxKeySize || len(wr.val) > store.MaxValueSize {
			return fmt.Errorf("gamify: %s record (key %d bytes, value %d bytes): %w", wr.ks, len(wr.key), len(wr.val), errTooLarge)
		}
	}
	return nil
}

var (
	errUnencodableTime = errors.New("a time outside the years 1 to 9999 cannot be stored")
	errTooLarge        = errors.New("beyond the store's key or value size")
)

// commit merges the txn into the writer's working state and open batch, or
// rolls the command back if one of its records cannot be stored (a
// definition or profile that does not encode, a key bbolt refuses): the
// failure is the command's alone, never its batch's.
func (t *txn) commit() error {
	if t.w.opts.beforeTxnCommit != nil {
		t.w.opts.beforeTxnCommit()
	}
	if err := t.storable(); err != nil {
		t.rollback()
		return err
	}
	w, b := t.w, &t.w.open
	for id, u := range t.users {
		u.gen = w.gen
		if old := w.users[id]; old != nil && old != u && len(w.spares) < maxSpareUsers && !w.pinned(old) {
			w.spares = append(w.spares, old) // replaced: nothing else refers to it
		}
		w.users[id] = u
		w.dirtyUsers[id] = struct{}{}
	}
	for i := range t.entries {
		e := &t.entries[i]
		kv := binary.BigEndian.AppendUint64(b.arena.alloc(48+len(e.Cause)+len(e.IdemKey)), e.Seq) // key and value in one slice
		b.writes = append(b.writes, write{store.Ledger, kv[:8:8], e.Marshal(kv[8:])})
	}
	for k, v := range t.daily {
		w.days[k] = pendingVal{amount: v, gen: w.gen}
		w.dirtyDaily[k] = struct{}{}
	}
	for k, p := range t.idem {
		p.gen = w.gen
		w.pendingIdem[k] = p
		w.idemSeen.add(w, k)
		b.writes = append(b.writes, write{store.Idempotency, []byte(k), encodeIdem(p)})
	}
	if t.newUsers != 0 {
		t.addCounter(usersCounterKey, t.newUsers)
	}
	for k, n := range t.achCount {
		t.addCounter(achCountKey(k), n)
	}
	b.writes = append(b.writes, t.writes...)
	b.publish = append(b.publish, t.publish...)
	t.dropUnsent()
	b.notes = append(b.notes, t.notes...)
	for range t.notes {
		w.outboxSeq++
		b.noteMeta = append(b.noteMeta, noteMeta{seq: w.outboxSeq, at: t.now})
	}
	if t.cat != nil {
		w.cat = t.cat
		cat := t.cat
		b.publish = append(b.publish, func() { w.eng.cat.Store(cat) })
	}
	for _, d := range t.streakDue {
		w.streakQueue.Push(d.id, d.due) // a zero due removes it
	}
	for _, d := range t.timeDue {
		w.timeQueue.Push(d.id, d.due)
	}
	if w.remindOn() {
		t.queueReminders()
	}
	for _, k := range t.claimedCode {
		w.claimedCodes[k] = w.gen
	}
	for _, c := range t.claimsAdded {
		w.pendingClaims[c.prefix] = append(w.pendingClaims[c.prefix], pendingClaim{seq: c.seq, gen: w.gen})
	}
	b.yearMoves = append(b.yearMoves, t.yearMoves...) // applied once committed
	if len(t.backdates) > 0 {
		keys := slices.Clone(t.backdates)
		e := w.eng
		b.publish = append(b.publish, func() { e.sched.addBackdates(keys) })
	}
	w.seq, w.lastUID = t.seq, t.lastUID
	return nil
}

// rebuildStreakQueue fills the streak due-queue from the due times stored
// with each user's streak states.
func (w *writer) rebuildStreakQueue(tx *store.Tx) error {
	w.streakQueue = schedule.Queue{}
	if w.cat.lastStreakRef == 0 {
		return nil
	}
	return tx.Scan(store.State, nil, func(k, v []byte) error {
		var id []byte
		_, err := scanStreaks(v, func(x userStreak, _ []byte) (bool, error) {
			if x.Due != 0 {
				if id == nil {
					id = tx.Get(store.UserIDs, k)
				}
				w.streakQueue.Push(streakDueID(x.Ref, string(id)), time.Unix(0, x.Due))
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("uid %x: %w", k, err)
		}
		return nil
	})
}

// scanBoards calls fn for each leaderboard entry of an encoded userState
// without decoding the rest: Open rebuilds indexes from a million of these.
// group aliases b.
func scanBoards(b []byte, fn func(ub userBoard, group []byte)) error {
	if len(b) < 1 || b[0] != stateVersion {
		return errCorruptState
	}
	r := decoder{b: b[1:]}
	r.uvarint()
	r.varint()
	r.varint()
	for n := r.uvarint(); n > 0 && !r.err; n-- {
		r.uvarint()
		r.varint()
		r.uvarint()
	}
	for n := r.uvarint(); n > 0 && !r.err; n-- {
		r.uvarint()
		r.varint()
		if len(r.b) < 4 {
			return errCorruptState
		}
		l := binary.BigEndian.Uint32(r.b)
		if uint64(l) > uint64(len(r.b)-4) {
			return errCorruptState
		}
		r.b = r.b[4+l:]
	}
	for n := r.uvarint(); n > 0 && !r.err; n-- {
		ub := userBoard{Ref: uint32(r.uvarint()), Run: r.varint(), Score: r.varint(), Sub: r.varint(), Reached: r.uvarint()}
		l := r.uvarint()
		if r.err || l >= uint64(len(r.b)) {
			return errCorruptState
		}
		group := r.b[:l]
		flags := r.b[l]
		r.b = r.b[l+1:]
		ub.In, ub.Scored = flags&1 != 0, flags&2 != 0
		fn(ub, group)
	}
	if r.err {
		return errCorruptState
	}
	return nil
}

// scanUsers calls fn with every stored user's profile and state, in user id
// order. It reads the whole Users keyspace: for rebuilds and reports only.
func scanUsers(tx *store.Tx, fn func(p *profile, s *userState) error) error {
	return tx.Scan(store.Users, nil, func(k, v []byte) error {
		var p profile
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("gamify: corrupt profile of %q: %w", k, err)
		}
		var st userState
		if sv := tx.Get(store.State, uidKey(p.UID)); sv != nil {
			if err := st.unmarshal(sv); err != nil {
				return fmt.Errorf("user %q: %w", k, err)
			}
		}
		return fn(&p, &st)
	})
}
