package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressEvery is the least time between two redraws of a progress line.
const progressEvery = 100 * time.Millisecond

// progress draws one status line on stderr for long work: bytes done of a
// known total (percent, MB/s, ETA), items done (count, rate), or, when the
// work reports nothing, a spinner; always the elapsed time. It redraws in
// place (a carriage return) at most every progressEvery and ends with a
// summary line. A progress that is off does nothing. (Ten lines of this
// beat a terminal library: we need no colours, no widths, no multi-bar.)
type progress struct {
	w     io.Writer
	on    bool
	now   func() time.Time
	label string
	unit  string // what items are ("lines"), "" when only bytes count
	total int64  // bytes expected; 0 when unknown

	mu     sync.Mutex // guards the fields below: the ticker redraws too
	bytes  int64
	items  int64
	start  time.Time
	drawn  time.Time
	width  int // of the last line drawn, to blank what a shorter one leaves
	spin   int
	ticker chan struct{} // closed to stop the ticker
	wg     sync.WaitGroup
}

// progressOn reports whether to draw progress on stderr: forced, or stderr
// is a terminal; never with --json.
func progressOn(stderr io.Writer, forced, asJSON bool) bool {
	if asJSON {
		return false
	}
	if forced {
		return true
	}
	f, ok := stderr.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// clock is the time source of progress lines (a test replaces it).
var clock = time.Now

func newProgress(w io.Writer, on bool, label, unit string, total int64) *progress {
	p := &progress{w: w, on: on, now: clock, label: label, unit: unit, total: total}
	p.start = p.now()
	p.drawn = p.start
	return p
}

// tick starts a goroutine that redraws every progressEvery, so the elapsed
// time and the spinner move while a long call reports nothing; finish
// stops it.
func (p *progress) tick() *progress {
	if !p.on {
		return p
	}
	p.ticker = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.ticker:
				return
			case <-t.C:
				p.mu.Lock()
				p.maybeDraw()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// add counts items done.
func (p *progress) add(n int64) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	p.items += n
	p.maybeDraw()
	p.mu.Unlock()
}

// addBytes counts bytes done.
func (p *progress) addBytes(n int64) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	p.bytes += n
	p.maybeDraw()
	p.mu.Unlock()
}

func (p *progress) maybeDraw() {
	if now := p.now(); now.Sub(p.drawn) >= progressEvery {
		p.drawn = now
		p.spin++
		p.draw("\r", p.status(now, false))
	}
}

func (p *progress) draw(prefix, s string) {
	pad := max(p.width-len(s), 0)
	p.width = len(s)
	fmt.Fprintf(p.w, "%s%s%s", prefix, s, strings.Repeat(" ", pad))
}

// status is the text of the progress line at now; a final one has no
// spinner.
func (p *progress) status(now time.Time, final bool) string {
	el := now.Sub(p.start)
	secs := el.Seconds()
	parts := []string{p.label}
	switch {
	case p.total > 0:
		pct := min(100*float64(p.bytes)/float64(p.total), 100)
		parts = append(parts, fmt.Sprintf("%5.1f%% %s/%s", pct, mb(p.bytes), mb(p.total)))
		if secs > 0 && p.bytes > 0 {
			rate := float64(p.bytes) / secs
			eta := time.Duration(float64(max(p.total-p.bytes, 0)) / rate * float64(time.Second))
			parts = append(parts, fmt.Sprintf("%s/s ETA %s", mb(int64(rate)), clockText(eta)))
		}
	case p.bytes > 0:
		parts = append(parts, mb(p.bytes))
		if secs > 0 {
			parts = append(parts, mb(int64(float64(p.bytes)/secs))+"/s")
		}
	}
	if p.unit != "" {
		parts = append(parts, fmt.Sprintf("%d %s", p.items, p.unit))
		if secs > 0 {
			parts = append(parts, fmt.Sprintf("%.0f %s/s", float64(p.items)/secs, p.unit))
		}
	} else if p.total == 0 && p.bytes == 0 && !final {
		parts = append(parts, string(`|/-\`[p.spin%4]))
	}
	parts = append(parts, "elapsed "+clockText(el))
	return strings.Join(parts, " ")
}

// finish stops the ticker and ends the progress line with a summary
// ("import done ..." or "import failed ..."), on a line of its own.
func (p *progress) finish(ok bool) {
	if p == nil || !p.on {
		return
	}
	if p.ticker != nil {
		close(p.ticker)
		p.wg.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	s := p.status(now, true)
	word := " done:"
	if !ok {
		word = " failed:"
	}
	s = p.label + word + strings.TrimPrefix(s, p.label)
	if p.total > 0 {
		// The percentage and ETA of a finished job say nothing.
		s = p.label + word + " " + p.summary(now)
	}
	p.draw("\r", s)
	fmt.Fprintln(p.w)
}

// summary is the final line of work with a known total.
func (p *progress) summary(now time.Time) string {
	el := now.Sub(p.start)
	s := mb(p.bytes)
	if secs := el.Seconds(); secs > 0 {
		s += fmt.Sprintf(" (%s/s)", mb(int64(float64(p.bytes)/secs)))
	}
	if p.unit != "" {
		s += fmt.Sprintf(", %d %s", p.items, p.unit)
		if secs := el.Seconds(); secs > 0 {
			s += fmt.Sprintf(" (%.0f %s/s)", float64(p.items)/secs, p.unit)
		}
	}
	return s + " in " + clockText(el)
}

// mb prints a byte count in MB (10^6 bytes) with one decimal.
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// clockText prints a duration as m:ss, or h:mm:ss past an hour, with
// tenths under a minute (0:04.2).
func clockText(d time.Duration) string {
	d = max(d, 0)
	h, m := int(d/time.Hour), int(d/time.Minute)%60
	s := (d % time.Minute).Seconds()
	switch {
	case h > 0:
		return fmt.Sprintf("%d:%02d:%02d", h, m, int(s))
	case m > 0:
		return fmt.Sprintf("%d:%02d", m, int(s))
	}
	return fmt.Sprintf("0:%04.1f", s)
}

// countingWriter counts the bytes written through it into a progress.
type countingWriter struct {
	w io.Writer
	p *progress
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.p.addBytes(int64(n))
	return n, err
}

// countingReader counts the bytes read through it into a progress.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.addBytes(int64(n))
	return n, err
}
