package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
)

// Listing describes a package for review: its files with type, mode and
// owner, its config files and its maintainer scripts.
type Listing struct {
	Files   []string
	Config  []string
	Scripts []string
}

func (l Listing) String() string {
	var b strings.Builder
	b.WriteString("# files\n")
	for _, f := range l.Files {
		b.WriteString(f + "\n")
	}
	b.WriteString("# config files (kept on upgrade)\n")
	for _, f := range l.Config {
		b.WriteString(f + "\n")
	}
	b.WriteString("# scripts\n")
	for _, f := range l.Scripts {
		b.WriteString(f + "\n")
	}
	return b.String()
}

// packFile matches the shipped rule pack, listed as one glob so that adding
// a rule does not change the listing; its files must agree on mode and owner.
var packFile = regexp.MustCompile(`^(/etc/vigil/(?:collector-)?rules)/[^/]+\.hcl$`)

func packName(name string) string {
	if m := packFile.FindStringSubmatch(name); m != nil {
		return m[1] + "/*.hcl"
	}
	return name
}

func entry(kind byte, mode int64, owner, group, name string) string {
	return fmt.Sprintf("%c %04o %s:%s %s", kind, mode&0o7777, owner, group, packName(name))
}

func uniqSorted(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// ReadDeb lists a .deb as dpkg will install it.
func ReadDeb(debPath string) (Listing, error) {
	var l Listing
	f, err := os.Open(debPath)
	if err != nil {
		return l, err
	}
	defer f.Close()
	members, err := readAr(f)
	if err != nil {
		return l, fmt.Errorf("%s: %w", debPath, err)
	}
	for name, body := range members {
		switch {
		case strings.HasPrefix(name, "data.tar"):
			err = eachTar(name, body, func(h *tar.Header, _ []byte) {
				n := path.Clean("/" + h.Name)
				if n == "/" {
					return
				}
				kind := byte('-')
				switch h.Typeflag {
				case tar.TypeDir:
					kind = 'd'
				case tar.TypeSymlink:
					kind = 'l'
					n += " -> " + h.Linkname
				}
				l.Files = append(l.Files, entry(kind, h.Mode, h.Uname, h.Gname, n))
			})
		case strings.HasPrefix(name, "control.tar"):
			err = eachTar(name, body, func(h *tar.Header, data []byte) {
				n := path.Base(h.Name)
				switch {
				case h.Typeflag == tar.TypeDir:
				case n == "conffiles":
					sc := bufio.NewScanner(bytes.NewReader(data))
					for sc.Scan() {
						if c := strings.TrimSpace(sc.Text()); c != "" {
							l.Config = append(l.Config, packName(c))
						}
					}
				case n == "control" || n == "md5sums":
				default:
					l.Scripts = append(l.Scripts, fmt.Sprintf("%s %04o", n, h.Mode&0o7777))
				}
			})
		}
		if err != nil {
			return l, fmt.Errorf("%s %s: %w", debPath, name, err)
		}
	}
	l.Files, l.Config, l.Scripts = uniqSorted(l.Files), uniqSorted(l.Config), uniqSorted(l.Scripts)
	return l, nil
}

// readAr reads the members of a Unix ar archive (the .deb container).
func readAr(r io.Reader) (map[string][]byte, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, fmt.Errorf("not an ar archive")
	}
	out := map[string][]byte{}
	hdr := make([]byte, 60)
	for {
		if _, err := io.ReadFull(br, hdr); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("ar member %q: bad size", name)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		if size%2 == 1 {
			if _, err := br.Discard(1); err != nil && err != io.EOF {
				return nil, err
			}
		}
		out[name] = body
	}
}

func eachTar(name string, body []byte, fn func(*tar.Header, []byte)) error {
	var r io.Reader = bytes.NewReader(body)
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	case strings.HasSuffix(name, ".tar"):
	default:
		return fmt.Errorf("unsupported compression (set deb.compression: gzip)")
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		fn(h, data)
	}
}

// ListRPM lists what the rpm packager puts in the package, after globbing
// and defaults, as rpm will install it.
func ListRPM(info *nfpm.Info) (Listing, error) {
	var l Listing
	if err := nfpm.PrepareForPackager(info, "rpm"); err != nil {
		return l, err
	}
	for _, c := range info.Contents {
		kind := byte('-')
		switch c.Type {
		case files.TypeImplicitDir:
			continue // rpm leaves parents to the packages that own them
		case files.TypeDir:
			kind = 'd'
		case files.TypeSymlink:
			kind = 'l'
		}
		fi := c.FileInfo
		owner, group := fi.Owner, fi.Group
		if owner == "" {
			owner = "root"
		}
		if group == "" {
			group = "root"
		}
		mode := int64(fi.Mode.Perm())
		if kind == 'd' && mode == 0 {
			mode = 0o755
		}
		l.Files = append(l.Files, entry(kind, mode, owner, group, strings.TrimSuffix(c.Destination, "/")))
		if strings.HasPrefix(c.Type, files.TypeConfig) {
			l.Config = append(l.Config, packName(c.Destination)+" ["+c.Type+"]")
		}
	}
	s := info.Scripts
	for _, sc := range []struct{ name, path string }{
		{"%pre", s.PreInstall}, {"%post", s.PostInstall}, {"%preun", s.PreRemove}, {"%postun", s.PostRemove},
	} {
		if sc.path != "" {
			l.Scripts = append(l.Scripts, sc.name+" "+path.Base(sc.path))
		}
	}
	l.Files, l.Config = uniqSorted(l.Files), uniqSorted(l.Config)
	return l, nil
}
