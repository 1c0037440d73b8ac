package unpack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
)

// Member is one readable stream inside a file: the file itself after decompression, or an
// archive member.
type Member struct {
	Path    string    // "outer.tar.gz!inner/dir/file.txt": "!" separates nesting levels; names are cleaned, never used to touch the host file system
	Size    int64     // -1 when unknown (a compressed stream); otherwise what the archive declares
	ModTime time.Time // as the archive records it; zero when it records none
	Depth   int       // nesting levels above the member: the number of "!" in Path
	// Open reads the member, bounded: reads past the limits fail with ErrLimit. It is valid only
	// inside the loop body that received the member; a member of a streamed format (tar, ar,
	// cpio, anything decompressed) can be opened once, a zip member again. Open is nil when
	// the member cannot be read (an error came with it).
	Open func() (io.ReadCloser, error)
}

// Walk yields the members of the file name (random access through r, size bytes) recursively,
// up to the limits: a .tar.gz yields the tar's members, a zip inside that tar yields its
// members too, a compressed file that holds no archive yields its decompressed content.
// Nested archives and compressed streams are opened, not yielded; what cannot be opened (7z,
// rar, a container past MaxDepth) is yielded with an error and, where its bytes are still
// readable, with Open. Input that is neither an archive nor compressed yields nothing.
//
// Errors come as (Member, error) pairs with Member.Path saying where; the walk goes on past an
// error that concerns one member and stops at one that leaves an archive unreadable. When the
// context ends or MaxTotalBytes is spent, that error is yielded once and the walk ends.
//
// A zip found inside a compressed stream or inside another archive needs random access: it is
// spooled into memory up to 1 MiB and beyond that into an unlinked temporary file, at most
// MaxEntryBytes either way. name is used as given for the first element of Member.Path.
func Walk(ctx context.Context, name string, r io.ReaderAt, size int64, lim Limits) iter.Seq2[Member, error] {
	return func(yield func(Member, error) bool) {
		w := &walker{ctx: ctx, top: name, lim: lim.resolved(), yield: yield}
		w.budget = budget{left: w.lim.MaxTotalBytes, limit: w.lim.MaxTotalBytes}
		head := make([]byte, min(HeadSize, max(size, 0)))
		if n, err := r.ReadAt(head, 0); n < len(head) {
			w.emit(Member{Path: name}, locate(name, "read", err))
			return
		}
		kind := Kind(head)
		if kind == "" && mayHaveStub(head) && hasZipEnd(r, size) {
			kind = KindZip
		}
		if kind == "" {
			return
		}
		top := node{path: name, name: name[strings.LastIndexAny(name, `/\`)+1:],
			r: io.NewSectionReader(r, 0, size), ra: r, size: size}
		w.open(top, kind)
		w.alive()
	}
}

// walker is the state of one Walk.
type walker struct {
	ctx    context.Context
	top    string // the top-level file's name
	lim    Limits // resolved: no zero fields
	budget budget
	yield  func(Member, error) bool
	halted bool // the consumer stopped, or a fatal error was yielded
}

// node is one stream the walk may open: the top-level file, an archive member or a
// decompressed stream.
type node struct {
	path  string // its Member.Path
	name  string // its own file name, unescaped, to name what it holds once decompressed
	depth int    // its nesting level: 0 for the top-level file
	mtime time.Time
	r     io.Reader   // its bytes from the first
	ra    io.ReaderAt // random access to the same bytes, when there is (the top-level file)
	size  int64       // with ra
}

// emit hands a member or an error to the consumer; false once the walk must stop.
func (w *walker) emit(m Member, err error) bool {
	if !w.alive() {
		return false
	}
	if !w.yield(m, err) {
		w.halted = true
	}
	return !w.halted
}

// alive reports whether the walk goes on. When the context has ended or the file's byte
// budget is spent, it yields that error, once, and the walk ends.
func (w *walker) alive() bool {
	if w.halted {
		return false
	}
	err := w.budget.err
	if cerr := w.ctx.Err(); cerr != nil {
		err = fmt.Errorf("%s: %w", w.top, cerr)
	}
	if err != nil {
		w.halted = true
		w.yield(Member{Path: w.top}, err)
		return false
	}
	return true
}

// maxLayers bounds the wrappers peeled within one level: an RPM's headers, its payload's
// compression, and one more compression on top (logs gzipped twice). No real file needs more,
// and each open decompressor holds a window of memory.
const maxLayers = 3

// open yields the members of container n, whose format is kind: compression layers (and an
// RPM's headers) are peeled first, then the archive inside is walked or, when there is none,
// the decompressed content is yielded as one member.
func (w *walker) open(n node, kind string) {
	layers := 0
	for ; isCompression(kind) || kind == KindRPM; layers++ {
		if layers == maxLayers {
			w.emit(Member{Path: n.path, Depth: n.depth}, locate(n.path, kind, errors.New("too many stacked compression layers")))
			return
		}
		var rc io.ReadCloser
		var err error
		if kind == KindRPM {
			rc, err = rpmPayload(n.r)
			err = locate(n.path, kind, err)
		} else {
			rc, err = w.decompress(kind, n.path, n.r, -1)
			n.name = innerName(n.name)
		}
		if err != nil {
			w.emit(Member{Path: n.path, Depth: n.depth}, err)
			return
		}
		defer rc.Close()
		head, err := readHead(rc)
		if err != nil {
			w.emit(Member{Path: n.path, Depth: n.depth}, err)
			return
		}
		n.r, n.ra = &peeked{head: head, r: rc}, nil
		kind = Kind(head)
	}
	switch kind {
	case KindZip:
		w.zip(n)
	case KindTar:
		w.entries(n, kind, newTarArchive(n.r))
	case KindAr:
		w.entries(n, kind, newArArchive(n.r))
	case KindCpio:
		w.entries(n, kind, newCpioArchive(n.r))
	default: // decompressed content that is no archive we open
		var err error
		if kind == Kind7z || kind == KindRar {
			err = unsupported(n.path, kind)
		}
		if layers == 0 {
			w.emit(Member{Path: n.path, Depth: n.depth}, err)
			return
		}
		name := n.name
		if name == "" {
			name = "data"
		}
		m := Member{Path: n.path + Sep + escapeName(name), Size: -1, ModTime: n.mtime, Depth: n.depth + 1}
		l := w.lease(m.Path)
		defer l.expire()
		w.offer(m, l, l.reader(n.r), nil, err)
	}
}

func unsupported(path, kind string) error {
	return locate(path, kind, fmt.Errorf("archive recognised, not opened: %w", ErrUnsupported))
}

// member handles one member of the archive at parent: a nested container is opened in turn
// (depth allowing), anything else is yielded for reading. data is the member's bytes; reopen,
// when not nil, reads them again from the start (zip members). It returns false when the walk
// must stop.
func (w *walker) member(parent node, name string, size int64, mtime time.Time, data io.Reader, reopen func() (io.ReadCloser, error)) bool {
	m := Member{Path: parent.path + Sep + cleanName(name), Size: size, ModTime: mtime, Depth: parent.depth + 1}
	l := w.lease(m.Path)
	defer l.expire()
	r := l.reader(data)
	head, err := readHead(r)
	if err != nil {
		return w.emit(m, err)
	}
	content := &peeked{head: head, r: r}
	switch kind := Kind(head); {
	case kind == "":
		return w.offer(m, l, content, reopen, nil)
	case kind == Kind7z || kind == KindRar:
		return w.offer(m, l, content, reopen, unsupported(m.Path, kind))
	case m.Depth >= w.lim.MaxDepth:
		return w.offer(m, l, content, reopen, &LimitError{Path: m.Path, Limit: "MaxDepth",
			Msg: fmt.Sprintf("%s: not opened: its members would be %d levels deep, over %d", kind, m.Depth+1, w.lim.MaxDepth)})
	default:
		clean := cleanPath(name)
		w.open(node{path: m.Path, name: clean[strings.LastIndex(clean, "/")+1:], depth: m.Depth, mtime: mtime, r: content}, kind)
		return w.alive()
	}
}

// offer yields m, readable through first (the stream the walk already holds) and then, if
// reopen is not nil, through fresh streams.
func (w *walker) offer(m Member, l *lease, first io.Reader, reopen func() (io.ReadCloser, error), err error) bool {
	used := false
	m.Open = func() (io.ReadCloser, error) {
		if !used {
			used = true
			return io.NopCloser(&leased{l, first}), nil
		}
		if reopen == nil {
			return nil, fmt.Errorf("%s: a streamed member can be opened once", m.Path)
		}
		if l.expired {
			return nil, l.movedPast()
		}
		rc, err := reopen()
		if err != nil {
			return nil, err
		}
		l.closers = append(l.closers, rc)
		return struct {
			io.Reader
			io.Closer
		}{l.reader(rc), rc}, nil
	}
	return w.emit(m, err)
}

// leased is the member's first stream, whose head was read ahead: it too stops with the lease.
type leased struct {
	l *lease
	r io.Reader
}

func (x *leased) Read(p []byte) (int, error) {
	if x.l.expired {
		return 0, x.l.movedPast()
	}
	return x.r.Read(p)
}

// readHead reads the first HeadSize bytes of r, fewer when r is shorter.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(r, head)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return head[:n], err
}

// peeked is a stream whose first bytes were read ahead to sniff its format.
type peeked struct {
	head []byte
	r    io.Reader
}

func (p *peeked) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}
