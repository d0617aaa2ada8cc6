package fhir

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxLine is the longest NDJSON line the reader accepts; a longer one is
// reported as a bad line and skipped, never loaded into memory whole.
const MaxLine = 64 << 20

// ErrLineTooLong reports a line over MaxLine.
var ErrLineTooLong = errors.New("line longer than 64 MiB")

// LineReader reads an NDJSON stream line by line, with 1-based line numbers.
// Blank lines are skipped but counted.
type LineReader struct {
	r    *bufio.Reader
	line int64
	buf  []byte
	c    io.Closer
}

// OpenNDJSON opens an NDJSON file, transparently gunzipping names ending in
// ".gz".
func OpenNDJSON(path string) (*LineReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader = f
	closer := io.Closer(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = gz
		closer = multiCloser{gz, f}
	}
	return NewLineReader(r, closer), nil
}

// NewLineReader reads lines from r; c, if not nil, is closed by Close.
func NewLineReader(r io.Reader, c io.Closer) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 1<<20), c: c}
}

// Next returns the next non-blank line and its number. The slice is valid
// until the following call. At the end it returns io.EOF; a line over MaxLine
// is skipped and reported as ErrLineTooLong with its number (call Next again to
// go on).
func (lr *LineReader) Next() (line []byte, n int64, err error) {
	for {
		lr.buf = lr.buf[:0]
		tooLong := false
		for {
			chunk, err := lr.r.ReadSlice('\n')
			if !tooLong {
				if len(lr.buf)+len(chunk) > MaxLine {
					tooLong = true
					lr.buf = lr.buf[:0]
				} else {
					lr.buf = append(lr.buf, chunk...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				if len(lr.buf) == 0 && !tooLong {
					return nil, lr.line, io.EOF
				}
				break
			}
			if err != nil {
				return nil, lr.line, err
			}
			break
		}
		lr.line++
		if tooLong {
			return nil, lr.line, ErrLineTooLong
		}
		b := bytes.TrimSpace(lr.buf)
		if len(b) == 0 {
			continue
		}
		return b, lr.line, nil
	}
}

// Close closes the underlying file.
func (lr *LineReader) Close() error {
	if lr.c == nil {
		return nil
	}
	return lr.c.Close()
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
