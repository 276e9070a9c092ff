package jetstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/gamifykit/gamify"
)

// snapshots is the Object Store bucket of a Log's snapshots: one object
// per snapshot, named by its position (zero-padded, so names sort by it)
// with the position in its metadata too.
type snapshots struct {
	l   *Log
	obs natsjs.ObjectStore
}

const positionKey = "position"

func openSnapshots(ctx context.Context, l *Log) (*snapshots, error) {
	obs, err := retrySetup(ctx, func(ctx context.Context) (natsjs.ObjectStore, error) {
		return l.js.CreateOrUpdateObjectStore(ctx, natsjs.ObjectStoreConfig{
			Bucket:   l.cfg.SnapshotBucket,
			Replicas: l.cfg.Replicas,
			Storage:  natsjs.FileStorage,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: snapshot bucket %s: %w", l.cfg.SnapshotBucket, err)
	}
	return &snapshots{l: l, obs: obs}, nil
}

func snapshotName(pos uint64) string { return fmt.Sprintf("snapshot-%020d", pos) }

// put streams a backup of eng into the bucket as the snapshot at pos.
func (s *snapshots) put(ctx context.Context, pos uint64, eng *gamify.Engine) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(eng.Backup(ctx, pw)) }()
	_, err := s.obs.Put(ctx, natsjs.ObjectMeta{
		Name:     snapshotName(pos),
		Metadata: map[string]string{positionKey: strconv.FormatUint(pos, 10)},
	}, pr)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks the backup if Put gave up
	if err != nil {
		return fmt.Errorf("jetstream: upload snapshot %d: %w", pos, err)
	}
	return nil
}

type snapshotInfo struct {
	name string
	pos  uint64
}

// list is the snapshots in the bucket, newest first.
func (s *snapshots) list(ctx context.Context) ([]snapshotInfo, error) {
	// List watches the bucket until it has seen every object; an attempt
	// that hears nothing in 5 s (a bucket whose stream is still electing
	// its leader) is tried again.
	objs, err := retrySetup(ctx, func(ctx context.Context) ([]*natsjs.ObjectInfo, error) {
		return s.obs.List(ctx)
	})
	if errors.Is(err, natsjs.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: list snapshots: %w", err)
	}
	var out []snapshotInfo
	for _, o := range objs {
		pos, err := strconv.ParseUint(o.Metadata[positionKey], 10, 64)
		if err != nil || o.Deleted {
			continue // not a snapshot of ours
		}
		out = append(out, snapshotInfo{o.Name, pos})
	}
	slices.SortFunc(out, func(a, b snapshotInfo) int { return cmp.Compare(b.pos, a.pos) })
	return out, nil
}

// prune deletes all but the newest SnapshotsKept snapshots and purges the
// stream below the oldest kept one's position: every record it folds.
// added is the snapshot just uploaded, counted whether or not the bucket's
// listing shows it yet (a listing is a watch, which may lag the upload).
func (s *snapshots) prune(ctx context.Context, added snapshotInfo) error {
	all, err := s.list(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(all, func(o snapshotInfo) bool { return o.name == added.name }) {
		all = append(all, added)
		slices.SortFunc(all, func(a, b snapshotInfo) int { return cmp.Compare(b.pos, a.pos) })
	}
	keep := min(len(all), s.l.cfg.SnapshotsKept)
	for _, o := range all[keep:] {
		if err := s.obs.Delete(ctx, o.name); err != nil && !errors.Is(err, natsjs.ErrObjectNotFound) {
			return fmt.Errorf("jetstream: delete snapshot %s: %w", o.name, err)
		}
	}
	oldest := all[keep-1].pos
	if oldest == 0 {
		return nil
	}
	st, err := s.l.js.Stream(ctx, s.l.cfg.Stream)
	if err != nil {
		return fmt.Errorf("jetstream: purge: %w", err)
	}
	upTo, err := followed(ctx, st, oldest+1)
	if err != nil {
		return fmt.Errorf("jetstream: purge: %w", err)
	}
	if upTo <= st.CachedInfo().State.FirstSeq {
		return nil
	}
	if err := st.Purge(ctx, natsjs.WithPurgeSequence(upTo)); err != nil {
		return fmt.Errorf("jetstream: purge the stream below %d: %w", upTo, err)
	}
	return nil
}

// followed lowers upTo, the first sequence a purge keeps, to what every
// consumer of the stream may still ask for: a live replica is never
// trimmed under its follower. A consumer of a replica gone for good lasts
// until the server drops it as inactive (Config.FollowerGrace).
func followed(ctx context.Context, st natsjs.Stream, upTo uint64) (uint64, error) {
	lister := st.ListConsumers(ctx)
	for info := range lister.Info() {
		// The follower may have up to a pull batch delivered but not
		// applied: a reset asks for those again.
		next := info.Delivered.Stream + 1
		next -= min(next-1, followBatch)
		upTo = min(upTo, next)
	}
	return upTo, lister.Err()
}

// restore writes the newest snapshot that downloads whole to path (via a
// temporary file, synced, then renamed) and returns its position; with no
// snapshot it writes nothing and returns 0.
func (s *snapshots) restore(ctx context.Context, path string) (uint64, error) {
	all, err := s.list(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, o := range all {
		if err := s.download(ctx, o.name, path); err != nil {
			errs = append(errs, err)
			continue
		}
		return o.pos, nil
	}
	if len(errs) > 0 {
		return 0, fmt.Errorf("jetstream: no snapshot could be restored: %w", errors.Join(errs...))
	}
	return 0, nil
}

func (s *snapshots) download(ctx context.Context, name, path string) error {
	res, err := s.obs.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	defer res.Close()
	tmp := path + ".bootstrap"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, res) // the object's digest is checked at its end
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", name, err)
	}
	return nil
}
