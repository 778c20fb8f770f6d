package build

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager
)

// Formats are the package formats built by default.
var Formats = []string{"deb", "rpm"}

// Options say what to build from where.
type Options struct {
	// Root is the repository root; config paths are relative to it.
	Root string
	// Bin holds the binaries, relative to Root or absolute.
	Bin string
	// Out is where packages are written.
	Out string
	// Version is as `git describe` or a tag prints it; see Version.
	Version string
	// Arch is a Go GOARCH (amd64, arm64).
	Arch    string
	Formats []string
	// Packages limits the build to these names; empty means all.
	Packages []string
}

// Result is one package built or skipped.
type Result struct {
	Package, Format string
	// Path is the package file, empty when skipped.
	Path string
	// Skipped says why nothing was built.
	Skipped string
}

// ErrNoBinary means a package's binary is not built yet.
var ErrNoBinary = errors.New("binary not built")

// Packages lists the package names configured in packaging/nfpm.
func Packages(root string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(root, "packaging", "nfpm", "*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".yaml"))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no package configs in %s", filepath.Join(root, "packaging", "nfpm"))
	}
	return names, nil
}

var (
	semverish = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+`)
	// v1.2.3-4-gabcdef[-dirty]: four commits after the tag v1.2.3.
	afterTag = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)-([0-9]+)-g([0-9a-f]+)(-dirty)?$`)
)

// Version turns what `git describe --tags --always --dirty` prints into a
// version deb and rpm both order sensibly: a tag v1.2.3 gives 1.2.3,
// v1.2.3-rc.1 a prerelease (1.2.3~rc.1, before 1.2.3), v1.2.3-4-gabc a build
// after the tag (1.2.3+git.4.gabc), and a bare commit abc1234[-dirty]
// 0.0.0~git.abc1234[.dirty], below any release.
func Version(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if m := afterTag.FindStringSubmatch(v); m != nil {
		meta := "git." + m[2] + ".g" + m[3]
		if m[4] != "" {
			meta += ".dirty"
		}
		return m[1] + "+" + meta
	}
	if semverish.MatchString(v) {
		if _, err := semver.NewVersion(v); err == nil {
			return v
		}
	}
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '.'
	}, v)
	if clean == "" {
		clean = "dev"
	}
	return "0.0.0-git." + strings.Trim(clean, ".")
}

// Info reads one package's config for one format, with ${BIN}, ${VERSION}
// and ${ARCH} filled in, and checks that its binaries exist. A missing
// binary gives an error wrapping ErrNoBinary.
func Info(opts Options, name, format string) (*nfpm.Info, error) {
	bin := opts.Bin
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(opts.Root, bin)
	}
	vars := map[string]string{"BIN": bin, "VERSION": Version(opts.Version), "ARCH": opts.Arch}
	path := filepath.Join(opts.Root, "packaging", "nfpm", name+".yaml")
	cfg, err := nfpm.ParseFileWithEnvMapping(path, func(k string) string { return vars[k] })
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	info, err := cfg.Get(format)
	if err != nil {
		return nil, fmt.Errorf("%s for %s: %w", name, format, err)
	}
	info = nfpm.WithDefaults(info)
	// Sources are relative to the repository root, wherever this runs.
	for _, c := range info.Contents {
		if c.Source != "" && !filepath.IsAbs(c.Source) {
			c.Source = filepath.Join(opts.Root, c.Source)
		}
		if c.Source != "" && strings.HasPrefix(c.Source, bin+string(filepath.Separator)) {
			// A glob (the man pages) must match something: an empty match
			// would ship a package without them.
			if m, _ := filepath.Glob(c.Source); len(m) == 0 {
				return nil, fmt.Errorf("%s needs %s: %w (run make build man-completions)", name, c.Source, ErrNoBinary)
			}
		}
	}
	s := &info.Scripts
	for _, p := range []*string{&s.PreInstall, &s.PostInstall, &s.PreRemove, &s.PostRemove} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(opts.Root, *p)
		}
	}
	if err := nfpm.Validate(info); err != nil {
		return nil, fmt.Errorf("%s for %s: %w", name, format, err)
	}
	return info, nil
}

// Build writes every configured package in every format to opts.Out. A
// package whose binary is missing is skipped with the reason in its Result;
// any other problem is an error.
func Build(opts Options) ([]Result, error) {
	names := opts.Packages
	if len(names) == 0 {
		var err error
		if names, err = Packages(opts.Root); err != nil {
			return nil, err
		}
	}
	formats := opts.Formats
	if len(formats) == 0 {
		formats = Formats
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	var out []Result
	for _, name := range names {
		for _, format := range formats {
			r := Result{Package: name, Format: format}
			info, err := Info(opts, name, format)
			if errors.Is(err, ErrNoBinary) {
				r.Skipped = err.Error()
				out = append(out, r)
				continue
			}
			if err != nil {
				return out, err
			}
			if r.Path, err = write(info, format, opts.Out); err != nil {
				return out, fmt.Errorf("packaging %s as %s: %w", name, format, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func write(info *nfpm.Info, format, dir string) (string, error) {
	pkger, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, pkger.ConventionalFileName(info))
	info.Target = path
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := pkger.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}
