package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// ErrTrimmed is returned by Follow when the stream no longer holds the
// position asked for: it was purged below a snapshot newer than the
// replica's file. Open answers it by bootstrapping from that snapshot.
var ErrTrimmed = errors.New("jetstream: the stream was trimmed past the position asked for")

// Config is where a Log finds its stream and how it uses it. Zero fields
// take the defaults named; a field out of range (or a name the servers
// would refuse) fails New and Open with a *gamify.ValidationError naming
// it, before anything connects.
type Config struct {
	// Conn is the connection to use; the Log does not close it. When nil,
	// the Log connects to URLs (reconnecting forever, buffering nothing
	// while it reconnects) and closes that connection on Close. A Conn of
	// the caller's should set nats.ReconnectBufSize(-1) too: otherwise a
	// Propose that failed while reconnecting may still be published once
	// the connection is back (safe with an idempotency key, but late).
	Conn *nats.Conn
	// URLs are the servers to connect to, required without Conn; an empty
	// one is refused (the client would take it for its default URL).
	URLs []string
	// Name identifies this replica as the lease holder. Default: a random
	// unique name.
	Name string
	// Stream is the stream holding the command log; Subject the subject its
	// records are published on. Defaults: "GAMIFY" and Stream + ".log".
	// A stream name has no '.', '*', '>', '/', '\\' or white space; the
	// subject is dot-separated non-empty tokens without wildcards.
	Stream  string
	Subject string
	// Replicas is the copies of the stream, the lease bucket and the
	// snapshot bucket the servers keep. Default: 3; from 1 to 5.
	Replicas int
	// ProposeTimeout bounds a Propose's retries; past it the write fails
	// with an error wrapping gamify.ErrUnavailable. Default: 5 s; not
	// negative.
	ProposeTimeout time.Duration
	// LeaseBucket is the KV bucket of the scheduler's lease; LeaseTTL how
	// long a lease lasts unrenewed (it is renewed every third of it), so
	// how long jobs wait when its holder dies. Defaults: Stream + "_LEASE"
	// and 6 s; a bucket name is letters, digits, '-' and '_', and LeaseTTL
	// at least 100 ms.
	LeaseBucket string
	LeaseTTL    time.Duration
	// SnapshotBucket is the Object Store bucket of snapshots. Default:
	// Stream + "_SNAPSHOTS" (a bucket name, as LeaseBucket).
	SnapshotBucket string
	// SnapshotInterval is how often the lease holder uploads a snapshot
	// (Replica only); negative disables them, and so trimming (but for
	// Replica.Snapshot called explicitly).
	// Default: 5 min.
	SnapshotInterval time.Duration
	// SnapshotsKept is the newest snapshots kept; the stream is purged up
	// to the oldest one's position. Default: 2; at least 1.
	SnapshotsKept int
	// FollowerGrace is how long the stream keeps what a follower that
	// stopped pulling may still ask for: a replica cut off for less than
	// this catches up from the stream when it is back; past it a purge may
	// pass it, and it stops applying until reopened (Open then bootstraps
	// it from a snapshot). A replica gone for good holds back the purge as
	// long. Default: 10 min; at least 1 s.
	FollowerGrace time.Duration
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "GAMIFY"
	}
	if c.Subject == "" {
		c.Subject = c.Stream + ".log"
	}
	if c.Replicas == 0 {
		c.Replicas = 3
	}
	if c.ProposeTimeout == 0 {
		c.ProposeTimeout = 5 * time.Second
	}
	if c.LeaseBucket == "" {
		c.LeaseBucket = c.Stream + "_LEASE"
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 6 * time.Second
	}
	if c.SnapshotBucket == "" {
		c.SnapshotBucket = c.Stream + "_SNAPSHOTS"
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = 5 * time.Minute
	}
	if c.SnapshotsKept == 0 {
		c.SnapshotsKept = 2
	}
	if c.FollowerGrace == 0 {
		c.FollowerGrace = 10 * time.Minute
	}
	if c.Name == "" {
		c.Name = nuid.Next()
	}
}

func (c *Config) validate() error {
	if c.Conn == nil {
		for i, u := range c.URLs {
			if strings.TrimSpace(u) == "" {
				// nats.Connect would take "" for its default URL.
				return gamifytype.Invalid(fmt.Sprintf("Config.URLs[%d]", i), u, "is empty")
			}
		}
	}
	switch {
	case c.Conn == nil && len(c.URLs) == 0:
		return gamifytype.Invalid("Config.URLs", "", "is required without Config.Conn")
	case !validStreamName(c.Stream):
		return gamifytype.Invalid("Config.Stream", c.Stream, "must be a stream name: no '.', '*', '>', '/', '\\' or white space")
	case !validSubject(c.Subject):
		return gamifytype.Invalid("Config.Subject", c.Subject, "must be a subject without wildcards: dot-separated non-empty tokens, no '*', '>' or white space")
	case !validBucketName(c.LeaseBucket):
		return gamifytype.Invalid("Config.LeaseBucket", c.LeaseBucket, "must be a bucket name: letters, digits, '-' and '_' only")
	case !validBucketName(c.SnapshotBucket):
		return gamifytype.Invalid("Config.SnapshotBucket", c.SnapshotBucket, "must be a bucket name: letters, digits, '-' and '_' only")
	case c.Replicas < 1 || c.Replicas > 5:
		return gamifytype.Invalid("Config.Replicas", c.Replicas, "must be between 1 and 5")
	case c.ProposeTimeout < 0:
		return gamifytype.Invalid("Config.ProposeTimeout", c.ProposeTimeout, "must not be negative")
	case c.LeaseTTL < 100*time.Millisecond:
		return gamifytype.Invalid("Config.LeaseTTL", c.LeaseTTL, "must be at least 100ms")
	case c.SnapshotsKept < 1:
		return gamifytype.Invalid("Config.SnapshotsKept", c.SnapshotsKept, "must be at least 1")
	case c.FollowerGrace < time.Second:
		return gamifytype.Invalid("Config.FollowerGrace", c.FollowerGrace, "must be at least 1s")
	}
	return nil
}

// validStreamName is the servers' rule for a stream's name.
func validStreamName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ">*. /\\\t\r\n")
}

// validSubject reports whether s is a subject a record can be published
// on: non-empty tokens, no wildcard, no white space.
func validSubject(s string) bool {
	if strings.ContainsAny(s, "*> \t\r\n") {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}

// validBucketName is the rule for a KV or Object Store bucket's name.
func validBucketName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Log is a gamify.ReplicatedLog over one JetStream stream: a position is a
// stream sequence, a record one message whose Nats-Msg-Id header is the
// id it was proposed under. It also holds the scheduler's lease (Leader).
type Log struct {
	cfg    Config
	nc     *nats.Conn
	ownsNC bool
	js     natsjs.JetStream
	kv     natsjs.KeyValue
	head   atomic.Uint64

	lease     lease
	closeOnce sync.Once
}

var _ gamify.ReplicatedLog = (*Log)(nil)

// New connects (unless cfg.Conn is set), creates the stream and the lease
// bucket if they do not exist (else sets their configuration to cfg's, as
// Open does: every replica should use the same Config), and starts
// competing for the lease. Close
// releases both. A Config field out of range is a *gamify.ValidationError
// naming it.
func New(ctx context.Context, cfg Config) (*Log, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, nc: cfg.Conn}
	if l.nc == nil {
		nc, err := nats.Connect(strings.Join(cfg.URLs, ","), nats.Name("gamify "+cfg.Name),
			nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
			// Unbuffered while reconnecting: a Propose that failed must not
			// be published later by a flushed buffer.
			nats.ReconnectBufSize(-1))
		if err != nil {
			return nil, fmt.Errorf("jetstream: connect: %w", err)
		}
		l.nc, l.ownsNC = nc, true
	}
	if err := l.setup(ctx); err != nil {
		if l.ownsNC {
			l.nc.Close()
		}
		return nil, err
	}
	l.lease.start(l)
	return l, nil
}

func (l *Log) setup(ctx context.Context) error {
	js, err := natsjs.New(l.nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	l.js = js
	// The de-duplication window outlasts every retry of a Propose.
	dup := max(2*time.Minute, 2*l.cfg.ProposeTimeout)
	st, err := retrySetup(ctx, func(ctx context.Context) (natsjs.Stream, error) {
		return js.CreateOrUpdateStream(ctx, natsjs.StreamConfig{
			Name:       l.cfg.Stream,
			Subjects:   []string{l.cfg.Subject},
			Storage:    natsjs.FileStorage,
			Retention:  natsjs.LimitsPolicy,
			Replicas:   l.cfg.Replicas,
			Duplicates: dup,
		})
	})
	if err != nil {
		return fmt.Errorf("jetstream: stream %s: %w", l.cfg.Stream, err)
	}
	l.noteHead(st.CachedInfo().State.LastSeq)
	l.kv, err = retrySetup(ctx, func(ctx context.Context) (natsjs.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{
			Bucket:   l.cfg.LeaseBucket,
			TTL:      l.cfg.LeaseTTL,
			Replicas: l.cfg.Replicas,
			Storage:  natsjs.FileStorage,
		})
	})
	if err != nil {
		return fmt.Errorf("jetstream: lease bucket %s: %w", l.cfg.LeaseBucket, err)
	}
	return nil
}

// retrySetup retries a setup call while the cluster elects its leaders,
// until ctx ends (30 s at most).
func retrySetup[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := f(actx)
		acancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// transient reports whether an error may go away on its own: no leader
// yet, a timeout, a reconnection.
func transient(err error) bool {
	var apiErr *natsjs.APIError
	if errors.As(err, &apiErr) {
		// 503-style answers: no quorum or no leader for now; no peers to
		// place a stream on while servers (re)join.
		return apiErr.Code == 503 || apiErr.Code == 408 || apiErr.Code == 500 ||
			apiErr.ErrorCode == jsClusterNoPeers
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, natsjs.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrReconnectBufExceeded) ||
		errors.Is(err, natsjs.ErrJetStreamNotEnabled)
}

// jsClusterNoPeers is the server's error code for "no suitable peers for
// placement".
const jsClusterNoPeers = 10005

// Config is the configuration in use, defaults filled in.
func (l *Log) Config() Config { return l.cfg }

// Conn is the Log's connection.
func (l *Log) Conn() *nats.Conn { return l.nc }

// JetStream is the Log's JetStream context.
func (l *Log) JetStream() natsjs.JetStream { return l.js }

func (l *Log) noteHead(pos uint64) {
	for {
		h := l.head.Load()
		if pos <= h || l.head.CompareAndSwap(h, pos) {
			return
		}
	}
}

// Head is the highest stream sequence this Log has seen: in a PubAck, a
// delivered message or its count of pending ones, or the stream's state.
func (l *Log) Head() uint64 { return l.head.Load() }

// Propose publishes rec with the Nats-Msg-Id header id, expecting the
// stream, and returns its sequence. A timeout or a missing stream leader is
// retried with the same id (the stream's de-duplication window outlasts the
// retries, so the record lands once; a duplicate answers the first
// sequence) until ProposeTimeout, then the error wraps
// gamify.ErrUnavailable. A closed connection fails at once, likewise, and
// so does a ctx that ends first (the error wraps ctx's too). Any other
// error (not wrapping ErrUnavailable) is returned at once.
func (l *Log) Propose(ctx context.Context, id string, rec []byte) (uint64, error) {
	if id == "" {
		return 0, fmt.Errorf("jetstream: Propose: empty id")
	}
	deadline := time.Now().Add(l.cfg.ProposeTimeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	wait := 25 * time.Millisecond
	for {
		if l.nc.IsClosed() {
			return 0, fmt.Errorf("%w: jetstream: connection closed", gamify.ErrUnavailable)
		}
		// One attempt gets at most a second, so a lost ack is retried
		// while the deadline allows.
		actx, acancel := context.WithTimeout(ctx, time.Second)
		ack, err := l.js.Publish(actx, l.cfg.Subject, rec,
			natsjs.WithMsgID(id), natsjs.WithExpectStream(l.cfg.Stream), natsjs.WithRetryAttempts(0))
		acancel()
		if err == nil {
			l.noteHead(ack.Sequence)
			return ack.Sequence, nil
		}
		if ctx.Err() != nil || !transient(err) {
			if transient(err) || errors.Is(err, context.Canceled) {
				return 0, fmt.Errorf("%w: jetstream: propose %s: %w", gamify.ErrUnavailable, id, err)
			}
			return 0, fmt.Errorf("jetstream: propose %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: jetstream: propose %s: %w", gamify.ErrUnavailable, id, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// Follow calls fn with every message from sequence from on, in order, on
// an ordered consumer that resumes after the last message delivered when
// the connection or a server comes back. It returns ErrTrimmed at once if
// the stream's first sequence is past from, an error if from is past the
// stream's end (a file of another stream), an error if a sequence is ever
// skipped, and fn's error; any other error (a server or the stream itself
// missing for a while) is retried, backing off to 2 s, until ctx ends.
func (l *Log) Follow(ctx context.Context, from uint64, fn func(pos uint64, id string, rec []byte) error) error {
	next := max(from, 1)
	wait := 100 * time.Millisecond
	var prev string // the consumer of the last attempt, kept until the next exists
	for {
		err := l.follow(ctx, &next, &prev, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// deleteConsumer deletes the named consumer if the connection is up;
// one left behind goes after Config.FollowerGrace unpulled.
func (l *Log) deleteConsumer(name string) {
	if name == "" || !l.nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = l.js.DeleteConsumer(ctx, l.cfg.Stream, name)
	cancel()
}

// followBatch is how many messages a follower pulls ahead of applying.
const followBatch = 64

// fatalError ends Follow; any other error of follow is retried.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }

// follow delivers from *next until an error; *next advances past every
// record fn took.
func (l *Log) follow(ctx context.Context, next *uint64, prev *string, fn func(pos uint64, id string, rec []byte) error) error {
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	st, err := l.js.Stream(ictx, l.cfg.Stream)
	cancel()
	if err != nil {
		return err
	}
	if err := l.checkHolds(st.CachedInfo().State, *next); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	cons, err := st.OrderedConsumer(cctx, natsjs.OrderedConsumerConfig{
		DeliverPolicy: natsjs.DeliverByStartSequencePolicy,
		OptStartSeq:   *next,
		// A consumer holds back the snapshots' purge (snapshot.go): one
		// left by a replica cut off or dead goes after this long unpulled.
		InactiveThreshold: l.cfg.FollowerGrace,
	})
	cancel()
	if err != nil {
		return err
	}
	// A consumer holds back the purge at what it delivered: the one of a
	// failed attempt goes only once this one exists, so the purge never
	// sees this follower without one; a clean exit (ctx ended) deletes
	// its own.
	l.deleteConsumer(*prev)
	*prev = cons.CachedInfo().Name
	defer func() {
		if ctx.Err() != nil {
			l.deleteConsumer(*prev)
			*prev = ""
		}
	}()
	// A consumer on a server that went away shows as missing heartbeats:
	// 1 s ones notice it in about 2 s (the default, 5 s, stalled a
	// follower, and its replica's writes, for 10 s).
	it, err := cons.Messages(natsjs.PullExpiry(5*time.Second), natsjs.PullHeartbeat(time.Second),
		natsjs.PullMaxMessages(followBatch))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		seq := md.Sequence.Stream
		l.noteHead(seq + md.NumPending)
		if seq < *next {
			continue
		}
		if seq > *next {
			// Purged meanwhile, or a hole: either way not the log in order.
			ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
			info, ierr := st.Info(ictx)
			cancel()
			if ierr == nil {
				if err := l.checkHolds(info.State, *next); err != nil {
					return err
				}
			}
			return &fatalError{fmt.Errorf("jetstream: stream %s delivered sequence %d where %d was due", l.cfg.Stream, seq, *next)}
		}
		if err := fn(seq, msg.Headers().Get(natsjs.MsgIDHeader), msg.Data()); err != nil {
			return &fatalError{err}
		}
		*next = seq + 1
	}
}

// checkHolds fails Follow if the stream cannot deliver next: trimmed below
// it, or ending before it (a file of another stream).
func (l *Log) checkHolds(s natsjs.StreamState, next uint64) error {
	l.noteHead(s.LastSeq)
	if s.FirstSeq > next {
		return &fatalError{fmt.Errorf("%w: stream %s starts at %d, position %d asked for", ErrTrimmed, l.cfg.Stream, s.FirstSeq, next)}
	}
	if next > s.LastSeq+1 {
		return &fatalError{fmt.Errorf("jetstream: stream %s ends at %d, position %d asked for: the file belongs to another stream", l.cfg.Stream, s.LastSeq, next)}
	}
	return nil
}

// Close gives up the lease (deleting it, so another replica takes it at
// its next attempt, within a third of LeaseTTL, without waiting for the
// TTL) and closes the connection if the Log opened it.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		l.lease.stop()
		if l.ownsNC {
			l.nc.Close()
		}
	})
	return nil
}
