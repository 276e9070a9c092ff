package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify/cmdlog"
)

// cmdlogFrame is the bytes the log writes per 100-byte record: the record
// and its 16-byte frame header.
const cmdlogFrame = 100 + 16

// cmdlogRecords returns n records of 100 pseudo-random bytes (a disk or a
// hypervisor may write zeros faster).
func cmdlogRecords(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = make([]byte, 100)
		for j := range recs[i] {
			recs[i][j] = byte(r.Uint32())
		}
	}
	return recs
}

// cmdlogBytes returns the bytes the log writes for a batch of n records of
// cmdlogRecords: the raw baseline writes the same bytes.
func cmdlogBytes(b *testing.B, n int) []byte {
	dir := b.TempDir()
	l, err := cmdlog.Open(dir, cmdlog.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.Append(cmdlogRecords(n)...); err != nil {
		b.Fatal(err)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	buf, err := os.ReadFile(filepath.Join(dir, "00000000000000000001.log"))
	if err != nil {
		b.Fatal(err)
	}
	if len(buf) != n*cmdlogFrame {
		b.Fatalf("a batch of %d is %d bytes, want %d", n, len(buf), n*cmdlogFrame)
	}
	return buf
}

// BenchmarkCmdlogSync appends 100-byte records to the command log and
// Syncs once per batch of 1, 64 or 1024 (one Append call of the batch), next
// to the raw baseline: one os.File.Write of the same bytes and f.Sync().
// One op is one record.
func BenchmarkCmdlogSync(b *testing.B) {
	for _, batch := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("batch=%d/log", batch), func(b *testing.B) {
			l, err := cmdlog.Open(b.TempDir(), cmdlog.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			recs := cmdlogRecords(batch)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				if _, err := l.Append(recs[:n]...); err != nil {
					b.Fatal(err)
				}
				if err := l.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(fmt.Sprintf("batch=%d/raw", batch), func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := cmdlogBytes(b, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				if _, err := f.Write(buf[:n*cmdlogFrame]); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkCmdlogAppend is the CPU cost of Append alone (NoSync), per
// 100-byte record in batches of 64.
func BenchmarkCmdlogAppend(b *testing.B) {
	l, err := cmdlog.Open(b.TempDir(), cmdlog.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	recs := cmdlogRecords(64)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += len(recs) {
		if _, err := l.Append(recs[:min(len(recs), b.N-done)]...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCmdlogSyncPaired alternates the two sides of BenchmarkCmdlogSync
// batch by batch, so that a change in the machine's load (other processes,
// the disk) falls on both alike; it reports the time per record of each and
// their ratio, the log's throughput as a fraction of the raw one (1 = as
// fast). A third side writes the same bytes into a file filled with zeros
// beforehand (its size never changes: the disk's floor for an fsync that
// writes no metadata), reported as rawzeroed-ns/record. One op is one record
// of each.
func BenchmarkCmdlogSyncPaired(b *testing.B) {
	for _, batch := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			dir := b.TempDir()
			l, err := cmdlog.Open(filepath.Join(dir, "log"), cmdlog.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			f, err := os.OpenFile(filepath.Join(dir, "raw"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			zf, err := os.OpenFile(filepath.Join(dir, "rawzeroed"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer zf.Close()
			if _, err := zf.Write(make([]byte, (b.N+batch)*cmdlogFrame)); err != nil {
				b.Fatal(err)
			}
			if err := zf.Sync(); err != nil {
				b.Fatal(err)
			}
			recs, buf := cmdlogRecords(batch), cmdlogBytes(b, batch)
			var logTime, rawTime, zeroedTime time.Duration
			var zoff int64
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				start := time.Now()
				if _, err := l.Append(recs[:n]...); err != nil {
					b.Fatal(err)
				}
				if err := l.Sync(); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if _, err := f.Write(buf[:n*cmdlogFrame]); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				end := time.Now()
				if _, err := zf.WriteAt(buf[:n*cmdlogFrame], zoff); err != nil {
					b.Fatal(err)
				}
				if err := zf.Sync(); err != nil {
					b.Fatal(err)
				}
				zoff += int64(n * cmdlogFrame)
				logTime += mid.Sub(start)
				rawTime += end.Sub(mid)
				zeroedTime += time.Since(end)
			}
			b.ReportMetric(float64(logTime.Nanoseconds())/float64(b.N), "log-ns/record")
			b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/record")
			b.ReportMetric(float64(zeroedTime.Nanoseconds())/float64(b.N), "rawzeroed-ns/record")
			b.ReportMetric(float64(rawTime)/float64(logTime), "log/raw")
		})
	}
}

// BenchmarkCmdlogOpenRead is the log's share of a replay: Open (which checks
// every frame) and a Read of every record of a log of 64 MiB of 100-byte
// records (578,524 of them, one full segment and a few records more; 10,000
// with -short). One op is the whole log.
func BenchmarkCmdlogOpenRead(b *testing.B) {
	dir := b.TempDir()
	l, err := cmdlog.Open(dir, cmdlog.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	recs := cmdlogRecords(1024)
	n := 578_524 + 1024
	if testing.Short() {
		n = 10_000 // the smoke run
	}
	for done := 0; done < n; done += len(recs) {
		if _, err := l.Append(recs[:min(len(recs), n-done)]...); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n * cmdlogFrame))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l, err := cmdlog.Open(dir, cmdlog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		read := 0
		if err := l.Read(0, func(uint64, []byte) error { read++; return nil }); err != nil {
			b.Fatal(err)
		}
		if read != n {
			b.Fatalf("read %d records, want %d", read, n)
		}
		l.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
