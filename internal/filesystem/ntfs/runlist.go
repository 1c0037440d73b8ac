package ntfs

import "fmt"

// run maps length clusters of a stream starting at vcn to the volume at lcn; lcn < 0 is a hole
// (a sparse run, or the unused tail of a compression unit).
type run struct {
	vcn, lcn, length int64
}

func (r run) sparse() bool { return r.lcn < 0 }

// decodeRuns decodes the mapping pairs of a non-resident attribute, which cover the VCNs
// startVCN..lastVCN. Each pair is a header byte (low nibble: size of the length field, high
// nibble: size of the LCN delta), an unsigned length and a signed LCN delta from the previous
// run; a delta of size 0 marks a hole. Every run must lie inside the volume and the runs must
// cover exactly the attribute's VCN range. The runs are appended to dst (at most maxRuns in all).
func decodeRuns(dst []run, a *attribute, totalClusters int64, maxVCN int64, maxRuns int) ([]run, error) {
	b := a.runlist
	vcn := a.startVCN
	end := a.lastVCN + 1
	if end > maxVCN {
		return dst, fmt.Errorf("last VCN %d is past the largest possible %d", a.lastVCN, maxVCN-1)
	}
	lcn := int64(0)
	for i := 0; i < len(b); {
		h := b[i]
		if h == 0 {
			break
		}
		lenSize, offSize := int(h&0x0F), int(h>>4)
		if lenSize == 0 || lenSize > 8 || offSize > 8 {
			return dst, fmt.Errorf("mapping pair at byte %d: header 0x%02x has field sizes %d/%d", i, h, lenSize, offSize)
		}
		if i+1+lenSize+offSize > len(b) {
			return dst, fmt.Errorf("mapping pair at byte %d runs past the attribute", i)
		}
		i++
		length := int64(0)
		for k := lenSize - 1; k >= 0; k-- {
			length = length<<8 | int64(b[i+k])
		}
		i += lenSize
		if length <= 0 || length > end-vcn {
			return dst, fmt.Errorf("run at VCN %d: length %d does not fit the VCN range %d..%d", vcn, length, a.startVCN, a.lastVCN)
		}
		r := run{vcn: vcn, lcn: -1, length: length}
		if offSize > 0 {
			delta := int64(int8(b[i+offSize-1])) // sign of the top byte
			for k := offSize - 2; k >= 0; k-- {
				delta = delta<<8 | int64(b[i+k])
			}
			// Both lcn and delta fit far inside int64 here (lcn < totalClusters < 2^62 and a
			// delta from at most 8 bytes is within ±2^63), but the sum could still overflow.
			if (delta > 0 && lcn > maxVolumeBytes-delta) || (delta < 0 && lcn < -maxVolumeBytes-delta) {
				return dst, fmt.Errorf("run at VCN %d: LCN delta %d overflows", vcn, delta)
			}
			lcn += delta
			if lcn < 0 || lcn >= totalClusters || length > totalClusters-lcn {
				return dst, fmt.Errorf("run at VCN %d: clusters %d..%d are outside the volume (%d clusters)", vcn, lcn, lcn+length-1, totalClusters)
			}
			r.lcn = lcn
		}
		i += offSize
		if len(dst) >= maxRuns {
			return dst, fmt.Errorf("more than %d runs", maxRuns)
		}
		dst = append(dst, r)
		vcn += length
	}
	if vcn != end {
		return dst, fmt.Errorf("runs cover VCNs %d..%d, the attribute claims %d..%d", a.startVCN, vcn-1, a.startVCN, a.lastVCN)
	}
	return dst, nil
}
