package jetstream_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/internal/natscluster"
	"github.com/gamifykit/gamify/jetstream"
)

// startCluster starts three JetStream servers on loopback ports with their
// own stores, stopped by the test's cleanup.
func startCluster(t *testing.T) *natscluster.Cluster {
	t.Helper()
	c, err := natscluster.Start(t.TempDir(), 3, 30*time.Second)
	require.NoError(t, err)
	t.Cleanup(c.Shutdown)
	return c
}

// testConfig is a Config for tests: short lease, no snapshots unless
// asked for, the cluster's URLs.
func testConfig(c *natscluster.Cluster, name string) jetstream.Config {
	return jetstream.Config{
		URLs:             c.URLs(),
		Name:             name,
		LeaseTTL:         time.Second,
		ProposeTimeout:   3 * time.Second,
		SnapshotInterval: -1,
	}
}

func newLog(t *testing.T, cfg jetstream.Config) *jetstream.Log {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := jetstream.New(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// waitFor polls cond every 10ms until it holds or the bound passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proxy forwards loopback TCP to a server; cut drops every connection and
// refuses new ones until restore, on the same port.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) URL() string { return "nats://" + p.addr }

// conn connects through the proxy alone: servers the cluster announces
// are ignored, so a cut leaves it nowhere to reconnect to.
func (p *proxy) conn() *nats.Conn {
	nc, err := nats.Connect(p.URL(), nats.IgnoreDiscoveredServers(), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.ReconnectBufSize(-1))
	require.NoError(p.t, err)
	p.t.Cleanup(nc.Close)
	return nc
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	var ln net.Listener
	var err error
	// The port was ours a moment ago; retry briefly if the OS holds it.
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(p.t, err)
	p.serve(ln)
}

// collect follows l from from until n records arrived (bounded).
func collect(t *testing.T, l *jetstream.Log, from uint64, n int) []record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []record
	errDone := errors.New("done")
	err := l.Follow(ctx, from, func(pos uint64, id string, rec []byte) error {
		got = append(got, record{pos, id, string(rec)})
		if len(got) == n {
			return errDone
		}
		return nil
	})
	require.ErrorIs(t, err, errDone)
	return got
}

type record struct {
	pos uint64
	id  string
	rec string
}
