package cli

import (
	"time"

	"github.com/snapwatch/snapwatch/internal/disk"
	"github.com/snapwatch/snapwatch/internal/volume"
)

// The JSON-lines records of `inspect --format json`; scripts parse them, so field names are stable.

type imageRecord struct {
	Type   string `json:"type"` // "image"
	Image  string `json:"image"`
	Format string `json:"format"`
	Size   int64  `json:"size"`
}

type volumeRecord struct {
	Type      string `json:"type"` // "volume"
	Image     string `json:"image"`
	Name      string `json:"name"`
	Parent    string `json:"parent,omitempty"`
	Table     string `json:"table"` // the disk's partition scheme
	Scheme    string `json:"scheme"`
	Kind      string `json:"kind,omitempty"` // partition / LV type, readable
	KindID    string `json:"kind_id,omitempty"`
	Label     string `json:"label,omitempty"`
	UUID      string `json:"uuid,omitempty"`
	Index     int    `json:"index,omitempty"`
	Offset    int64  `json:"offset"`
	Size      int64  `json:"size"`
	Bootable  bool   `json:"bootable,omitempty"`
	Container bool   `json:"container,omitempty"`
	FS        string `json:"fs,omitempty"`
	FSLabel   string `json:"fs_label,omitempty"`
	FSUUID    string `json:"fs_uuid,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

func newVolumeRecord(image, table string, v volume.Volume, f *disk.FileSystem) volumeRecord {
	r := volumeRecord{
		Type: "volume", Image: image, Name: v.Name, Parent: v.Parent, Table: table, Scheme: v.Scheme,
		Kind: v.Type, KindID: v.TypeID, Label: v.Label, UUID: v.UUID, Index: v.Index,
		Offset: v.Offset, Size: v.Size, Bootable: v.Bootable, Container: v.Container, Problem: v.Problem,
	}
	if f != nil {
		r.FS, r.FSLabel, r.FSUUID = f.Type, f.Label, f.UUID
		if f.Problem != "" {
			r.Problem = f.Problem
		}
	}
	return r
}

type fileRecord struct {
	Type      string         `json:"type"` // "file"
	Image     string         `json:"image"`
	Volume    string         `json:"volume"`
	FS        string         `json:"fs"`
	Path      string         `json:"path"` // absolute inside the volume
	Size      int64          `json:"size"`
	Mode      string         `json:"mode"` // as ls -l prints it
	Inode     uint64         `json:"inode"`
	UID       *uint32        `json:"uid,omitempty"`
	GID       *uint32        `json:"gid,omitempty"`
	MTime     *time.Time     `json:"mtime,omitempty"`
	Link      string         `json:"link,omitempty"`
	Streams   []streamRecord `json:"streams,omitempty"`
	Encrypted bool           `json:"encrypted,omitempty"`
	Deleted   bool           `json:"deleted"`
	Recovered *int64         `json:"recovered,omitempty"` // deleted only: bytes of content still recoverable
}

type streamRecord struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type problemRecord struct {
	Type   string `json:"type"` // "error" or "warning"
	Image  string `json:"image"`
	Volume string `json:"volume,omitempty"`
	Path   string `json:"path,omitempty"`
	Error  string `json:"error"`
}
