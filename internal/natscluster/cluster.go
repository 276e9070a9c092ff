// Package natscluster runs a NATS cluster with JetStream inside the
// process, on loopback ports, for the tests, the example and the benchmark
// of package jetstream. It is the only importer of nats-server.
package natscluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is n servers routed to each other, each with its own store
// directory. A stopped server restarts on the same ports and store.
type Cluster struct {
	opts    []*server.Options
	servers []*server.Server
}

// Start starts n servers (stores under dir) and waits, up to timeout,
// until they accept connections and JetStream has a meta leader that every
// server follows.
func Start(dir string, n int, timeout time.Duration) (*Cluster, error) {
	var err error
	// A reserved port may be taken by another process before the server
	// binds it: start again on new ones.
	for attempt := range 3 {
		var c *Cluster
		if c, err = start(filepath.Join(dir, fmt.Sprint("try", attempt)), n, timeout); err == nil {
			return c, nil
		}
	}
	return nil, err
}

func start(dir string, n int, timeout time.Duration) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{servers: make([]*server.Server, n)}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])})
	}
	for i := range n {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			NoLog:      true,
			NoSigs:     true,
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			Cluster: server.ClusterOpts{
				Name: "gamify",
				Host: "127.0.0.1",
				Port: ports[n+i],
			},
			Routes: routes,
		})
	}
	for i := range n {
		if err := c.start(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	if err := c.WaitReady(timeout); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// freePorts reserves n loopback ports and releases them for the servers.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (c *Cluster) start(i int) error {
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		return fmt.Errorf("natscluster: server %d: %w", i+1, err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natscluster: server %d not ready", i+1)
	}
	c.servers[i] = s
	return nil
}

// WaitReady waits until every running server is current with a JetStream
// meta leader that sees all of them.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		leader, current, running := false, true, 0
		for _, s := range c.servers {
			if s == nil {
				continue
			}
			running++
		}
		for _, s := range c.servers {
			if s == nil {
				continue
			}
			// The leader must also see every running server with its
			// JetStream stats, or an R3 stream finds no peers to go on.
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == running {
				leader = true
			}
			if !s.JetStreamIsCurrent() {
				current = false
			}
		}
		if leader && current {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("natscluster: no JetStream meta leader in time")
}

// URLs are the client URLs of all servers, running or not.
func (c *Cluster) URLs() []string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return urls
}

// URL is server i's client URL.
func (c *Cluster) URL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port) }

// Len is the number of servers.
func (c *Cluster) Len() int { return len(c.opts) }

// Stop shuts server i down (its clients reconnect to the others).
func (c *Cluster) Stop(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Restart starts a stopped server i again on its ports and store, and
// waits until the cluster is ready.
func (c *Cluster) Restart(i int, timeout time.Duration) error {
	if c.servers[i] != nil {
		return nil
	}
	if err := c.start(i); err != nil {
		return err
	}
	return c.WaitReady(timeout)
}

// StreamLeader is the index of the running server leading the stream (of
// the global account), or -1.
func (c *Cluster) StreamLeader(stream string) int {
	for i, s := range c.servers {
		if s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Stop(i)
	}
}
