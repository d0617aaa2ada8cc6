package bulk

import (
	"regexp"
	"strconv"
	"time"
)

// Phase is the stage of an export a Status describes.
type Phase string

const (
	// PhasePolling: the server is preparing the files.
	PhasePolling Phase = "polling"
	// PhaseDownloading: the manifest is in and files are being fetched.
	PhaseDownloading Phase = "downloading"
)

// Status is what Options.Progress receives.
type Status struct {
	Phase Phase
	// Text is the server's X-Progress header while polling (empty when it
	// sent none), or "n of m files" while downloading.
	Text string
	// Percent is 0–100, parsed from Text ("42%", "42.5 % complete",
	// "3 of 12"), or -1 when Text holds no figure.
	Percent float64
	// Elapsed is the time since the kick-off was sent.
	Elapsed time.Duration
	// Polls is the number of status polls answered so far.
	Polls int
	// FilesDone and Files count downloaded and listed files (zero while
	// polling).
	FilesDone, Files int
}

var (
	percentRE  = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*%`)
	fractionRE = regexp.MustCompile(`(\d+)\s*(?:of|/)\s*(\d+)`)
)

// parsePercent reads a completion figure from X-Progress text, or -1.
func parsePercent(text string) float64 {
	if m := percentRE.FindStringSubmatch(text); m != nil {
		if p, err := strconv.ParseFloat(m[1], 64); err == nil {
			return min(p, 100)
		}
	}
	if m := fractionRE.FindStringSubmatch(text); m != nil {
		n, err1 := strconv.ParseFloat(m[1], 64)
		d, err2 := strconv.ParseFloat(m[2], 64)
		if err1 == nil && err2 == nil && d > 0 {
			return min(100*n/d, 100)
		}
	}
	return -1
}
