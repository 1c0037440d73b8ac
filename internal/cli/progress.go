package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/snapwatch/snapwatch/internal/bytesize"
	"github.com/snapwatch/snapwatch/internal/contentscan"
)

// progressBar redraws one status line on standard error while a scan runs: bytes and files done,
// rate, ETA and findings so far. It draws only on a terminal unless asked to always draw.
type progressBar struct {
	w     io.Writer
	on    bool
	sc    *contentscan.Scanner
	begin time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

func newProgressBar(w io.Writer, mode string, sc *contentscan.Scanner) *progressBar {
	return &progressBar{w: w, on: showProgress(w, mode), sc: sc}
}

// showProgress decides --progress: always, never, or auto (when standard error is a terminal).
func showProgress(_ io.Writer, mode string) bool {
	return mode == "always" || (mode == "auto" && isTerminal(os.Stderr))
}

func (p *progressBar) enabled() bool { return p.on }

func (p *progressBar) start() {
	if !p.on {
		return
	}
	p.begin = time.Now()
	p.done = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 100))
				return
			case <-tick.C:
				fmt.Fprintf(p.w, "\r%-100s", p.line(p.sc.Progress(), time.Since(p.begin)))
			}
		}
	}()
}

func (p *progressBar) stop() {
	if !p.on {
		return
	}
	close(p.done)
	p.wg.Wait()
}

func (p *progressBar) line(pr contentscan.Progress, elapsed time.Duration) string {
	rate := float64(pr.BytesDone) / max(elapsed.Seconds(), 0.001)
	frac := 0.0
	if pr.BytesTotal > 0 {
		frac = min(1, float64(pr.BytesDone)/float64(pr.BytesTotal))
	}
	const width = 24
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	eta := "--:--"
	if rate > 0 && pr.BytesTotal > pr.BytesDone {
		left := time.Duration(float64(pr.BytesTotal-pr.BytesDone) / rate * float64(time.Second))
		eta = fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	}
	return fmt.Sprintf("[%s] %3.0f%% %s/%s  %d/%d files  %s/s  ETA %s  %d findings",
		bar, frac*100, bytesize.Format(pr.BytesDone), bytesize.Format(pr.BytesTotal), pr.FilesDone, pr.FilesTotal,
		bytesize.Format(int64(rate)), eta, pr.Findings)
}

// isTerminal reports whether f is a character device (a terminal), without a dependency.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// terminalWidth reads $COLUMNS when the shell exports it; the report uses its default otherwise.
func terminalWidth() int {
	var n int
	fmt.Sscanf(os.Getenv("COLUMNS"), "%d", &n)
	return n
}
