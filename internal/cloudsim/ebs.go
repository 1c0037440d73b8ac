package cloudsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// EBS direct API (restJson1), read side: ListSnapshotBlocks, ListChangedBlocks and
// GetSnapshotBlock, which answers the block's bytes with its SHA-256 in x-amz-Checksum. Block
// tokens are HMAC-signed and carry their expiry, so they need no server state and a forged,
// foreign or expired token is refused with ValidationException INVALID_BLOCK_TOKEN.
func init() {
	register(&service{
		name: "ebs", proto: protoRESTJSON,
		route: func(r *http.Request) (string, map[string]string) {
			if r.Method != http.MethodGet {
				return "", nil
			}
			parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
			if len(parts) < 3 || parts[0] != "snapshots" {
				return "", nil
			}
			p := map[string]string{"SnapshotId": parts[1]}
			switch {
			case len(parts) == 3 && parts[2] == "blocks":
				return "ListSnapshotBlocks", p
			case len(parts) == 3 && parts[2] == "changedblocks":
				return "ListChangedBlocks", p
			case len(parts) == 4 && parts[2] == "blocks":
				p["BlockIndex"] = parts[3]
				return "GetSnapshotBlock", p
			}
			return "", nil
		},
		actions: map[string]handler{
			"ListSnapshotBlocks": ebsListSnapshotBlocks,
			"ListChangedBlocks":  ebsListChangedBlocks,
			"GetSnapshotBlock":   ebsGetSnapshotBlock,
		},
		throttle:  errSpec{http.StatusBadRequest, "RequestThrottledException"},
		internal:  errSpec{http.StatusInternalServerError, "InternalServerException"},
		denied:    errSpec{http.StatusForbidden, "AccessDeniedException"},
		authFail:  errSpec{http.StatusForbidden, "UnrecognizedClientException"},
		notFoundA: "UnknownOperationException",
	})
}

func (c *call) ebsError(status int, code, reason, msg string) {
	c.reason = reason
	c.fail(status, code, msg)
}

// ebsSnapshot finds a snapshot the caller may read and checks it may decrypt it.
func (c *call) ebsSnapshot(id string) (*region, *Snapshot, *snapContent) {
	reg, s := c.findSnapshot(id)
	if s == nil || !canRestore(reg.owner, s, c.p.account) {
		c.ebsError(http.StatusNotFound, "ResourceNotFoundException", "SNAPSHOT_NOT_FOUND", "The snapshot '"+id+"' does not exist.")
		return nil, nil, nil
	}
	if s.Encrypted && reg.owner != c.p.account {
		k, kacct, kreg := c.a.lookupKey(reg.owner, reg.name, orDefault(s.KMSKey, "alias/aws/ebs"))
		if k == nil || !c.a.kmsAdmits(k, kacct, kreg, c.p.account, "kms:Decrypt") {
			c.ebsError(http.StatusForbidden, "AccessDeniedException", "DEPENDENCY_ACCESS_DENIED",
				"The caller is not authorized to use the KMS key that encrypts snapshot "+id+".")
			return nil, nil, nil
		}
	}
	sc, err := c.a.content(s)
	if err != nil {
		c.ebsError(http.StatusInternalServerError, "InternalServerException", "", err.Error())
		return nil, nil, nil
	}
	return reg, s, sc
}

// blockToken signs (snapshot, index, expiry).
func (a *AWS) blockToken(snap string, idx int64, exp time.Time) string {
	buf := make([]byte, 0, len(snap)+32)
	buf = binary.BigEndian.AppendUint64(buf, uint64(idx))
	buf = binary.BigEndian.AppendUint64(buf, uint64(exp.Unix()))
	m := hmac.New(sha256.New, a.tokenKey)
	m.Write(buf)
	m.Write([]byte(snap))
	buf = m.Sum(buf)[:16+18]
	return base64.RawURLEncoding.EncodeToString(buf)
}

// checkBlockToken reports "" when the token is valid for the block, else why not.
func (a *AWS) checkBlockToken(tok, snap string, idx int64) string {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 34 {
		return "The block token is not valid."
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[8:16])), 0)
	if int64(binary.BigEndian.Uint64(b[:8])) != idx || a.blockToken(snap, idx, exp) != tok {
		return "The block token is not valid for this block."
	}
	if a.opt.Now().After(exp) {
		return "The block token has expired."
	}
	return ""
}

type ebsListReq struct {
	start, limit int64
	token        string
}

// listParams reads maxResults (100..10000, default 10000), pageToken and startingBlockIndex.
func (c *call) listParams() (ebsListReq, bool) {
	q := c.form
	r := ebsListReq{limit: 10000, token: q.Get("pageToken")}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 100 || n > 10000 {
			c.ebsError(http.StatusBadRequest, "ValidationException", "INVALID_PARAMETER_VALUE", "maxResults must be between 100 and 10000")
			return r, false
		}
		r.limit = n
	}
	if v := q.Get("startingBlockIndex"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.ebsError(http.StatusBadRequest, "ValidationException", "INVALID_PARAMETER_VALUE", "startingBlockIndex must be a non-negative integer")
			return r, false
		}
		r.start = n
	}
	if r.token != "" {
		n, ok := parsePageToken(c.action+"/"+c.params["SnapshotId"]+"/"+q.Get("firstSnapshotId"), r.token)
		if !ok {
			c.ebsError(http.StatusBadRequest, "ValidationException", "INVALID_PAGE_TOKEN", "The pagination token is not valid.")
			return r, false
		}
		r.start = max(r.start, int64(n))
	}
	return r, true
}

type ebsBlock struct {
	BlockIndex int64
	BlockToken string
}

func ebsListSnapshotBlocks(c *call) {
	in, ok := c.listParams()
	if !ok {
		return
	}
	_, s, sc := c.ebsSnapshot(c.params["SnapshotId"])
	if s == nil {
		return
	}
	exp := c.a.opt.Now().Add(c.a.opt.BlockTokenTTL)
	blocks := []ebsBlock{}
	next := int64(-1)
	for i := in.start; i < sc.blocks; i++ {
		if !sc.has(i) {
			continue
		}
		if int64(len(blocks)) == in.limit {
			next = i
			break
		}
		blocks = append(blocks, ebsBlock{i, c.a.blockToken(s.ID, i, exp)})
	}
	out := map[string]any{"Blocks": blocks, "ExpiryTime": epoch(exp), "VolumeSize": volumeGiB(sc), "BlockSize": blockSize}
	if next >= 0 {
		out["NextToken"] = pageToken(c.action+"/"+s.ID+"/", int(next))
	}
	c.sendJSON(out)
}

func volumeGiB(sc *snapContent) int64 { return (sc.blocks*blockSize + gib - 1) / gib }

// related reports whether first is an ancestor of second, or both are of one volume: the
// lineage ListChangedBlocks requires.
func (c *call) related(first, second *Snapshot) bool {
	if first.VolumeID != "" && first.VolumeID == second.VolumeID {
		return true
	}
	seen := map[string]bool{}
	for p := second.Parent; p != "" && !seen[p]; {
		if p == first.ID {
			return true
		}
		seen[p] = true
		_, s := c.findSnapshot(p)
		if s == nil {
			return false
		}
		p = s.Parent
	}
	return false
}

type ebsChanged struct {
	BlockIndex       int64
	FirstBlockToken  string `json:",omitempty"`
	SecondBlockToken string `json:",omitempty"`
}

func ebsListChangedBlocks(c *call) {
	in, ok := c.listParams()
	if !ok {
		return
	}
	firstID := c.form.Get("firstSnapshotId")
	_, second, sc := c.ebsSnapshot(c.params["SnapshotId"])
	if second == nil {
		return
	}
	var first *Snapshot
	var fc *snapContent
	if firstID != "" {
		if _, first, fc = c.ebsSnapshot(firstID); first == nil {
			return
		}
		if !c.related(first, second) {
			c.ebsError(http.StatusBadRequest, "ValidationException", "UNRELATED_SNAPSHOTS",
				"The snapshots "+firstID+" and "+second.ID+" are not of the same volume lineage.")
			return
		}
	}
	var d *blockDiff
	if first != nil {
		var err error
		if d, err = c.a.diff(first, second, fc, sc); err != nil {
			c.ebsError(http.StatusInternalServerError, "InternalServerException", "", err.Error())
			return
		}
	}
	n := sc.blocks
	if fc != nil {
		n = max(n, fc.blocks)
	}
	exp := c.a.opt.Now().Add(c.a.opt.BlockTokenTTL)
	blocks := []ebsChanged{}
	next := int64(-1)
	for i := in.start; i < n; i++ {
		if d != nil {
			if d.changed[i/64]&(1<<(i%64)) == 0 {
				continue
			}
		} else if !sc.has(i) {
			continue
		}
		if int64(len(blocks)) == in.limit {
			next = i
			break
		}
		b := ebsChanged{BlockIndex: i}
		if fc != nil && fc.has(i) {
			b.FirstBlockToken = c.a.blockToken(first.ID, i, exp)
		}
		if sc.has(i) {
			b.SecondBlockToken = c.a.blockToken(second.ID, i, exp)
		}
		blocks = append(blocks, b)
	}
	out := map[string]any{"ChangedBlocks": blocks, "ExpiryTime": epoch(exp), "VolumeSize": volumeGiB(sc), "BlockSize": blockSize}
	if next >= 0 {
		out["NextToken"] = pageToken(c.action+"/"+second.ID+"/"+firstID, int(next))
	}
	c.sendJSON(out)
}

func ebsGetSnapshotBlock(c *call) {
	id := c.params["SnapshotId"]
	idx, err := strconv.ParseInt(c.params["BlockIndex"], 10, 64)
	if err != nil || idx < 0 {
		c.ebsError(http.StatusBadRequest, "ValidationException", "INVALID_BLOCK", "The block index is not valid.")
		return
	}
	tok := c.form.Get("blockToken")
	if why := c.a.checkBlockToken(tok, id, idx); why != "" {
		c.ebsError(http.StatusBadRequest, "ValidationException", "INVALID_BLOCK_TOKEN", why)
		return
	}
	_, s, sc := c.ebsSnapshot(id)
	if s == nil {
		return
	}
	bufp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bufp)
	buf := *bufp
	if err := sc.read(idx, buf); err != nil {
		c.ebsError(http.StatusInternalServerError, "InternalServerException", "", err.Error())
		return
	}
	sum := sha256.Sum256(buf)
	if c.a.faults.match(c, FaultCorruptChecksum) != nil {
		sum[0] ^= 0xff
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(blockSize))
	h.Set("x-amz-Data-Length", strconv.Itoa(blockSize))
	h.Set("x-amz-Checksum", base64.StdEncoding.EncodeToString(sum[:]))
	h.Set("x-amz-Checksum-Algorithm", "SHA256")
	h.Set("x-amzn-RequestId", c.reqID)
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(buf)
	c.ok()
}
