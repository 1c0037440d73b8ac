package event

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// openInput undoes transport encodings, sniffed by content, never by name: gzip (S3 trail files,
// CloudWatch Logs subscription payloads), and base64 of gzip or of JSON (a CloudWatch Logs
// payload as Kinesis or Firehose hands it over). Layers nest at most twice.
//
// klauspost/compress's gzip is used over the standard library's because inflating is the most
// expensive step on gzipped trails and it is the faster of the two here (BenchmarkGunzip,
// docs/design/event.md); it is already in the module graph.
func openInput(r io.Reader) (io.Reader, error) {
	for range 3 {
		br := bufio.NewReaderSize(r, 64<<10)
		head, _ := br.Peek(4)
		switch {
		case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
			zr, err := gzip.NewReader(br)
			if err != nil {
				return nil, err
			}
			r = zr
		case bytes.HasPrefix(head, []byte("H4sI")), bytes.HasPrefix(head, []byte("eyJ")), bytes.HasPrefix(head, []byte("W3si")):
			// base64 of gzip ("H4sI" is 1f 8b 08), of `{"` or of `[{"`.
			r = base64.NewDecoder(base64.StdEncoding, br)
		default:
			return br, nil
		}
	}
	return r, nil
}

// isDigestName recognises a CloudTrail digest object by its key: digests live under
// AWSLogs/<acct>/CloudTrail-Digest/ and are named *_CloudTrail-Digest_*.json.gz.
func isDigestName(name string) bool {
	return strings.Contains(name, "CloudTrail-Digest")
}
