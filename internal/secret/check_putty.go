package secret

import "bytes"

// checkPuTTY widens a "PuTTY-User-Key-File-N: type" header to the whole key file (through its
// Private-MAC line) and reads its Encryption line: anything but "none" is passphrase protected.
func checkPuTTY(data []byte, c *candidate) bool {
	start := c.mStart
	limit := min(len(data), start+maxPEMBlock)
	block := data[start:limit]
	mac := c.memo.index(data, "\nPrivate-MAC:", start, limit) - start
	if mac < 0 || !bytes.Contains(block[:mac], []byte("\nPrivate-Lines:")) {
		return false
	}
	end := mac + 1
	if k := bytes.IndexByte(block[end:], '\n'); k >= 0 {
		end += k
	} else {
		end = len(block)
	}
	c.start, c.end = start, start+len(bytes.TrimRight(block[:end], "\r"))
	header := block[:bytes.IndexByte(block, '\n')]
	if k := bytes.IndexByte(header, ':'); k >= 0 {
		c.setContext("key_type", string(bytes.TrimSpace(header[k+1:])))
	}
	enc := bytes.Index(block[:mac], []byte("\nEncryption:"))
	if enc < 0 {
		return false
	}
	value := block[enc+len("\nEncryption:"):]
	if k := bytes.IndexByte(value, '\n'); k >= 0 {
		value = value[:k]
	}
	if string(bytes.TrimSpace(value)) != "none" {
		markEncrypted(c)
	}
	return true
}
