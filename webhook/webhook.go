package webhook

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// Defaults for Config.
const (
	TimeoutDefault        = 10 * time.Second
	InitialBackoffDefault = time.Second
	MaxBackoffDefault     = time.Minute
	MaxRetryTimeDefault   = time.Hour
	BatchSizeDefault      = 100
	SourceDefault         = "gamify"
)

// consumerPrefix starts the name of each endpoint's outbox consumer.
const consumerPrefix = "webhook/"

// Header names.
const (
	HeaderDelivery  = "Gamify-Delivery"
	HeaderTimestamp = "Gamify-Timestamp"
	HeaderAttempt   = "Gamify-Attempt"
	HeaderSignature = "Gamify-Signature"
)

// ErrSignature is returned by Verify for a missing, malformed or wrong
// signature or timestamp.
var ErrSignature = errors.New("webhook: bad signature")

// Endpoint is one receiver.
type Endpoint struct {
	// Name names the endpoint's outbox consumer ("webhook/" + Name) and its
	// dead-letter file; keep it when the URL changes, or deliveries start
	// again from the oldest retained entry. At most 192 bytes of UTF-8.
	Name string
	// URL receives the POSTs.
	URL string
	// Secret is the HMAC-SHA256 key of the signature.
	Secret []byte
}

// Config configures Start. Zero fields take their defaults.
type Config struct {
	Endpoints []Endpoint
	// Client sends the requests. Default: an http.Client with a Timeout of
	// TimeoutDefault (10 s), its own transport (whose idle connections Close
	// closes) and no redirects followed; a timed-out attempt,
	// like any answer but 2xx (3xx included), is retried.
	Client *http.Client
	// InitialBackoff is the wait before the first retry; each further
	// retry doubles it, up to MaxBackoff. Each wait is drawn uniformly from
	// its upper half (jitter). InitialBackoff must not exceed MaxBackoff.
	// Defaults: 1 s and 1 min.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxRetryTime bounds how long one entry is retried, from its first
	// attempt: once the next attempt would start later than that, the entry
	// is dead-lettered instead. Default: 1 h.
	MaxRetryTime time.Duration
	// DeadLetterDir holds one file per endpoint, Name + ".deadletter.jsonl".
	// Required.
	DeadLetterDir string
	// BatchSize is how many entries are fetched, and then acknowledged, at
	// a time, at most 10000. Default: 100.
	BatchSize int
	// Source prefixes delivery ids; give each engine (tenants included) its
	// own, as their sequences overlap. Default: "gamify".
	Source string
	// Logger receives failed attempts, dead letters and the error that
	// stops an endpoint's goroutine. Default: discard.
	Logger *slog.Logger
}

// Payload is the JSON body of a delivery.
type Payload struct {
	ID           string          `json:"id"`
	Seq          uint64          `json:"seq"`
	At           time.Time       `json:"at"`
	Type         string          `json:"type"`
	User         string          `json:"user,omitempty"`
	Notification json.RawMessage `json:"notification"`
}

// DeadLetter is an entry given up on.
type DeadLetter struct {
	Endpoint  string    `json:"endpoint"`
	ID        string    `json:"id"`
	Seq       uint64    `json:"seq"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	At        time.Time `json:"at"`   // when it was given up
	Body      []byte    `json:"body"` // the Payload as sent (base64 in the file)
}

// Sender delivers the outbox until Close.
type Sender struct {
	cancel    context.CancelFunc
	closeIdle func()
	wg        sync.WaitGroup
	mu        sync.Mutex // guards err
	err       error
}

// Start validates cfg, registers each endpoint's consumer and starts one
// delivery goroutine per endpoint; if a registration fails, the consumers
// this Start registered are removed again. ctx bounds only the registration:
// delivery goes on until Close (or the engine closing). Close the Sender
// before the engine.
func Start(ctx context.Context, eng *gamify.Engine, cfg Config) (*Sender, error) {
	closeIdle := func() {}
	if cfg.Client == nil {
		// Its own transport, whose idle connections (and their goroutines)
		// Close ends.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		closeIdle = tr.CloseIdleConnections
		// A followed 301-303 turns the POST into a bodiless GET, whose 2xx
		// would ack an entry never delivered: a 3xx is a failed attempt.
		cfg.Client = &http.Client{Transport: tr, Timeout: TimeoutDefault, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	cfg.InitialBackoff = cmp.Or(cfg.InitialBackoff, InitialBackoffDefault)
	cfg.MaxBackoff = cmp.Or(cfg.MaxBackoff, MaxBackoffDefault)
	cfg.MaxRetryTime = cmp.Or(cfg.MaxRetryTime, MaxRetryTimeDefault)
	cfg.BatchSize = cmp.Or(cfg.BatchSize, BatchSizeDefault)
	cfg.Source = cmp.Or(cfg.Source, SourceDefault)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DeadLetterDir, 0o700); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	ws, err := register(ctx, eng, &cfg)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Sender{cancel: cancel, closeIdle: closeIdle}
	for _, w := range ws {
		s.wg.Go(func() {
			if err := w.run(runCtx); err != nil {
				// Else the endpoint stalls unnoticed until Close.
				cfg.Logger.Error("webhook: endpoint stopped", "endpoint", w.ep.Name, "err", err)
				s.mu.Lock()
				s.err = errors.Join(s.err, err)
				s.mu.Unlock()
			}
		})
	}
	return s, nil
}

// beforeRegister runs before each endpoint's consumer is registered: a
// test's seam for a registration failing part-way.
var beforeRegister = func(i int) error { return nil }

// register registers each endpoint's consumer. If one fails, it removes
// the consumers it registered itself (not those of an earlier Start, which
// hold a delivery position), so that a failed Start holds no entries back.
func register(ctx context.Context, eng *gamify.Engine, cfg *Config) ([]*worker, error) {
	infos, err := eng.Outbox().Consumers(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	existed := map[string]bool{}
	for _, c := range infos {
		existed[c.Name] = true
	}
	var ws []*worker
	for i, ep := range cfg.Endpoints {
		err := beforeRegister(i)
		var c *gamify.Consumer
		if err == nil {
			c, err = eng.Outbox().Consumer(ctx, consumerPrefix+ep.Name)
		}
		if err != nil {
			// A registration whose ctx ended while it committed may
			// still have landed: the failing endpoint's is removed too.
			undo := context.WithoutCancel(ctx)
			for _, e := range cfg.Endpoints[:i+1] {
				if name := consumerPrefix + e.Name; !existed[name] {
					if derr := eng.Outbox().DeleteConsumer(undo, name); derr != nil && !errors.Is(derr, gamify.ErrNotFound) {
						err = errors.Join(err, fmt.Errorf("remove consumer %s: %w", name, derr))
					}
				}
			}
			return nil, fmt.Errorf("webhook: endpoint %s: %w", ep.Name, err)
		}
		ws = append(ws, &worker{cfg: cfg, ep: ep, c: c})
	}
	return ws, nil
}

// Close stops delivering and waits for the goroutines; an attempt in
// progress is cancelled and its entry stays unacknowledged, so it is sent
// again by the next Start; the entries delivered before it are
// acknowledged. It returns the errors that stopped a goroutine (other than
// the engine closing).
func (s *Sender) Close() error {
	s.cancel()
	s.wg.Wait()
	s.closeIdle()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (c *Config) validate() error {
	var errs []error
	bad := func(field string, v any, reason string) {
		errs = append(errs, gamifytype.Invalid("webhook.Config."+field, v, reason))
	}
	if len(c.Endpoints) == 0 {
		bad("Endpoints", 0, "must list at least one endpoint")
	}
	seen := map[string]bool{}
	for i, ep := range c.Endpoints {
		f := fmt.Sprintf("Endpoints[%d].", i)
		switch {
		case ep.Name == "":
			bad(f+"Name", ep.Name, "must not be empty")
		case seen[ep.Name]:
			bad(f+"Name", ep.Name, "is used twice")
		case filepath.Base(ep.Name) != ep.Name:
			bad(f+"Name", ep.Name, "must not contain a path separator")
		// Checked here, not by Consumer, so that no earlier endpoint's
		// consumer is registered (and holds entries back) before the error.
		case len(consumerPrefix+ep.Name) > gamify.MaxConsumerName:
			bad(f+"Name", ep.Name, fmt.Sprintf("must be at most %d bytes", gamify.MaxConsumerName-len(consumerPrefix)))
		case !utf8.ValidString(ep.Name):
			bad(f+"Name", ep.Name, "must be valid UTF-8")
		}
		seen[ep.Name] = true
		if req, err := http.NewRequest(http.MethodPost, ep.URL, nil); err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
			bad(f+"URL", ep.URL, "must be an http or https URL with a host")
		}
		if len(ep.Secret) == 0 {
			bad(f+"Secret", "", "must not be empty")
		}
	}
	if c.DeadLetterDir == "" {
		bad("DeadLetterDir", "", "must be set")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"InitialBackoff", c.InitialBackoff}, {"MaxBackoff", c.MaxBackoff}, {"MaxRetryTime", c.MaxRetryTime}} {
		if d.v < 0 {
			bad(d.name, d.v, "must not be negative")
		}
	}
	// Else the first waits would exceed the cap the doc promises.
	if c.InitialBackoff > c.MaxBackoff {
		bad("InitialBackoff", c.InitialBackoff, fmt.Sprintf("must not exceed MaxBackoff (%v)", c.MaxBackoff))
	}
	if c.BatchSize < 0 || c.BatchSize > 10000 {
		bad("BatchSize", c.BatchSize, "must be from 0 (the default) to 10000, the most an outbox read takes")
	}
	return errors.Join(errs...)
}

type worker struct {
	cfg *Config
	ep  Endpoint
	c   *gamify.Consumer
}

// run fetches, delivers and acknowledges until ctx ends or the engine closes.
func (w *worker) run(ctx context.Context) error {
	// Acks outlive Close's cancellation: what was delivered is recorded,
	// so that fewer entries are sent twice after a restart.
	ackCtx := context.WithoutCancel(ctx)
	for {
		es, err := w.c.Fetch(ctx, w.cfg.BatchSize)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, gamify.ErrClosed) {
				return nil
			}
			return fmt.Errorf("webhook: endpoint %s: %w", w.ep.Name, err)
		}
		for i, e := range es {
			if err := w.deliver(ctx, e, func() error {
				// Acknowledge what is done before waiting out a retry.
				if i == 0 {
					return nil
				}
				return w.c.Ack(ackCtx, es[i-1].Seq)
			}); err != nil {
				if errors.Is(err, gamify.ErrClosed) {
					return nil
				}
				if ctx.Err() != nil {
					// Closed mid-batch: record what was delivered before e.
					if i > 0 {
						if err := w.c.Ack(ackCtx, es[i-1].Seq); err != nil && !errors.Is(err, gamify.ErrClosed) {
							return fmt.Errorf("webhook: endpoint %s: %w", w.ep.Name, err)
						}
					}
					return nil
				}
				return fmt.Errorf("webhook: endpoint %s: %w", w.ep.Name, err)
			}
		}
		if err := w.c.Ack(ackCtx, es[len(es)-1].Seq); err != nil {
			if errors.Is(err, gamify.ErrClosed) {
				return nil
			}
			return fmt.Errorf("webhook: endpoint %s: %w", w.ep.Name, err)
		}
	}
}

// deliver sends e until it succeeds or is dead-lettered; beforeRetry runs
// once, before the first wait.
func (w *worker) deliver(ctx context.Context, e gamify.OutboxEntry, beforeRetry func() error) error {
	body, id, err := w.cfg.payload(e)
	if err != nil {
		return err
	}
	first := time.Now()
	backoff := w.cfg.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := w.attempt(ctx, id, attempt, body)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(backoff*2, w.cfg.MaxBackoff)
		w.cfg.Logger.Warn("webhook: delivery failed", "endpoint", w.ep.Name, "id", id, "attempt", attempt, "err", err)
		if time.Since(first)+wait > w.cfg.MaxRetryTime {
			return w.deadLetter(DeadLetter{Endpoint: w.ep.Name, ID: id, Seq: e.Seq, Attempts: attempt, LastError: err.Error(), At: time.Now().UTC(), Body: body})
		}
		if attempt == 1 {
			if err := beforeRetry(); err != nil {
				return err
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func (c *Config) payload(e gamify.OutboxEntry) (body []byte, id string, err error) {
	n, err := json.Marshal(e.Notification)
	if err != nil {
		return nil, "", fmt.Errorf("webhook: encode entry %d: %w", e.Seq, err)
	}
	id = c.Source + "-" + strconv.FormatUint(e.Seq, 10)
	body, err = json.Marshal(Payload{ID: id, Seq: e.Seq, At: e.At, Type: e.Type,
		User: e.Notification.UserID(), Notification: n})
	return body, id, err
}

func (w *worker) attempt(ctx context.Context, id string, attempt int, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.ep.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	req.Header.Set(HeaderSignature, Sign(w.ep.Secret, ts, body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// deadLetter appends d to the endpoint's file and syncs it, before the
// entry is acknowledged.
func (w *worker) deadLetter(d DeadLetter) error {
	w.cfg.Logger.Error("webhook: delivery given up; dead-lettered", "endpoint", d.Endpoint, "id", d.ID, "attempts", d.Attempts, "err", d.LastError)
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(DeadLetterPath(w.cfg.DeadLetterDir, w.ep.Name), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("webhook: dead letter: %w", err)
	}
	// A torn line left by a crash (its entry was never acknowledged) is cut
	// off first: appended to, it would swallow this line too.
	st, err := f.Stat()
	if err == nil {
		err = cutTornTail(f)
	}
	if err == nil {
		_, err = f.Write(append(line, '\n'))
	}
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil && st.Size() == 0 {
		// A new file is durable only once its directory entry is.
		err = syncDir(w.cfg.DeadLetterDir)
	}
	if err != nil {
		return fmt.Errorf("webhook: dead letter: %w", err)
	}
	return nil
}

// syncDir syncs directory dir; a variable for the tests.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// cutTornTail truncates f after its last newline.
func cutTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	buf := make([]byte, 64<<10)
	for off := end; off > 0; {
		n := min(int64(len(buf)), off)
		off -= n
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if keep := off + int64(i) + 1; keep < end {
				return f.Truncate(keep)
			}
			return nil
		}
	}
	if end > 0 {
		return f.Truncate(0)
	}
	return nil
}

// DeadLetterPath is the dead-letter file of endpoint name in dir: one JSON
// DeadLetter per line, appended and synced (a new file's directory too)
// before the entry is acknowledged.
func DeadLetterPath(dir, name string) string { return filepath.Join(dir, name+".deadletter.jsonl") }

// ReadDeadLetters reads the dead letters of endpoint name in dir, oldest
// first; none if the file does not exist. A torn last line (unterminated:
// a crash while appending; its entry was not acknowledged and is sent
// again) is skipped; any other unreadable line is an error.
func ReadDeadLetters(dir, name string) ([]DeadLetter, error) {
	f, err := os.Open(DeadLetterPath(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []DeadLetter
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// Only an unterminated last line can be torn; any other bad
			// line is damage, not to be read as fewer dead letters.
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var d DeadLetter
		if err := json.Unmarshal(line, &d); err != nil {
			return out, fmt.Errorf("webhook: dead letters %s line %d: %w", name, n, err)
		}
		out = append(out, d)
	}
}

// Sign returns the Gamify-Signature value of body signed at timestamp ts
// (the Gamify-Timestamp value): "sha256=" and the hex HMAC-SHA256 of
// ts + "." + body.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received request's signature headers against body:
// ErrSignature unless Gamify-Signature is Sign(secret, Gamify-Timestamp,
// body) and the timestamp is within tolerance of now (0: not checked).
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrSignature, ts)
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
			return fmt.Errorf("%w: timestamp %s is %v away", ErrSignature, ts, d)
		}
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return ErrSignature
	}
	return nil
}
