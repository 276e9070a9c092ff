package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func redraws(out string) []string            { return strings.Split(out, "\r")[1:] }
func trimmed(ss []string) (out []string) {
	for _, s := range ss {
		out = append(out, strings.TrimRight(s, " \n"))
	}
	return out
}

func fakeProgress(t *testing.T, label, unit string, total int64) (*progress, *bytes.Buffer, *fakeClock) {
	t.Helper()
	c := &fakeClock{time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	old := clock
	clock = c.now
	t.Cleanup(func() { clock = old })
	var buf bytes.Buffer
	return newProgress(&buf, true, label, unit, total), &buf, c
}

func TestProgressKnownTotal(t *testing.T) {
	p, buf, c := fakeProgress(t, "import", "lines", 10_000_000)
	p.addBytes(1_000_000)
	p.add(10)
	require.Empty(t, buf.String(), "no redraw before 100 ms")
	c.advance(time.Second)
	p.addBytes(1_000_000) // redraws: a second has passed
	for range 40 {
		p.add(1) // within the same instant: one redraw, not forty
	}
	c.advance(4 * time.Second)
	p.addBytes(8_000_000)
	p.add(50)
	p.finish(true)
	require.Equal(t, []string{
		"import  20.0% 2.0 MB/10.0 MB 2.0 MB/s ETA 0:04.0 10 lines 10 lines/s elapsed 0:01.0",
		"import 100.0% 10.0 MB/10.0 MB 2.0 MB/s ETA 0:00.0 50 lines 10 lines/s elapsed 0:05.0",
		"import done: 10.0 MB (2.0 MB/s), 100 lines (20 lines/s) in 0:05.0",
	}, trimmed(redraws(buf.String())))
	require.True(t, strings.HasSuffix(buf.String(), "\n"), "the summary ends the line")
}

func TestProgressRedrawsAtMostTenTimesASecond(t *testing.T) {
	p, buf, c := fakeProgress(t, "import", "lines", 0)
	for range 1000 {
		c.advance(10 * time.Millisecond) // 10 s in all
		p.add(1)
	}
	require.Len(t, redraws(buf.String()), 100)
	p.finish(false)
	last := trimmed(redraws(buf.String()))[100]
	require.Equal(t, "import failed: 1000 lines 100 lines/s elapsed 0:10.0", last)
}

func TestProgressSpinnerAndBytes(t *testing.T) {
	p, buf, c := fakeProgress(t, "check", "", 0)
	for range 5 {
		c.advance(100 * time.Millisecond)
		p.mu.Lock()
		p.maybeDraw() // what the ticker does
		p.mu.Unlock()
	}
	c.advance(59 * time.Second)
	p.finish(true)
	require.Equal(t, []string{
		`check / elapsed 0:00.1`, `check - elapsed 0:00.2`, `check \ elapsed 0:00.3`, `check | elapsed 0:00.4`, `check / elapsed 0:00.5`,
		`check done: elapsed 0:59.5`,
	}, trimmed(redraws(buf.String())))

	p, buf, c = fakeProgress(t, "backup", "", 0)
	c.advance(2 * time.Second)
	p.addBytes(3_000_000)
	require.Equal(t, []string{"backup 3.0 MB 1.5 MB/s elapsed 0:02.0"}, trimmed(redraws(buf.String())))
}

func TestProgressShorterLineIsBlanked(t *testing.T) {
	p, buf, c := fakeProgress(t, "x", "items", 0)
	c.advance(time.Second)
	p.add(1_000_000)
	c.advance(time.Hour)
	p.add(1)
	r := redraws(buf.String())
	require.Len(t, r, 2)
	require.Len(t, r[1], len(r[0]), "padded to the length of the line before")
}

func TestProgressOff(t *testing.T) {
	var buf bytes.Buffer
	require.False(t, progressOn(&buf, false, false), "a buffer is not a terminal")
	require.False(t, progressOn(&buf, true, true), "never with --json")
	require.True(t, progressOn(&buf, true, false))
	p := newProgress(&buf, false, "import", "lines", 10).tick()
	p.add(5)
	p.addBytes(5)
	p.finish(true)
	require.Empty(t, buf.String())
}

// TestProgressOnCommands: --progress forces the line on a stderr that is
// not a terminal, --json turns it off, and without either nothing is drawn.
func TestProgressOnCommands(t *testing.T) {
	path := seedDB(t)
	dir := t.TempDir()
	code, _, errs := runCmd("check", "--db", path, "--progress")
	require.Equal(t, exitOK, code, errs)
	require.Regexp(t, `\rcheck done: elapsed 0:\d\d\.\d *\n$`, errs)
	code, _, errs = runCmd("check", "--db", path, "--progress", "--json")
	require.Equal(t, exitOK, code, errs)
	require.Empty(t, errs)

	code, _, errs = runCmd("backup", "--db", path, "--out", filepath.Join(dir, "b.db"), "--progress")
	require.Equal(t, exitOK, code, errs)
	require.Regexp(t, `\rbackup done: \d+\.\d MB \(.*MB/s\) in 0:\d\d\.\d *\n$`, errs)

	exp := filepath.Join(dir, "e.jsonl")
	code, _, errs = runCmd("export", "--db", path, "--out", exp)
	require.Equal(t, exitOK, code, errs)
	require.Empty(t, errs, "stderr is not a terminal")
	code, _, errs = runCmd("import", "--db", filepath.Join(dir, "i.db"), "--in", exp, "--progress")
	require.Equal(t, exitOK, code, errs)
	require.Regexp(t, `\rimport done: 0\.0 MB \(.*\), \d+ lines \(\d+ lines/s\) in 0:\d\d\.\d *\n$`, errs)

	code, _, errs = runCmd("compact", "--db", path, "--progress")
	require.Equal(t, exitOK, code, errs)
	require.Regexp(t, `\rcompact done: elapsed 0:\d\d\.\d *\n$`, errs)
}
