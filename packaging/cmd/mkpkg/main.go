package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/vigilhq/vigil/packaging/build"
)

func main() {
	var opts build.Options
	var formats, pkgs string
	flag.StringVar(&opts.Root, "root", ".", "repository `dir`")
	flag.StringVar(&opts.Bin, "bin", "bin", "`dir` holding the built binaries")
	flag.StringVar(&opts.Out, "out", "dist", "output `dir`")
	flag.StringVar(&opts.Version, "version", "dev", "version, as git describe prints it")
	flag.StringVar(&opts.Arch, "arch", runtime.GOARCH, "target architecture (GOARCH)")
	flag.StringVar(&formats, "formats", strings.Join(build.Formats, ","), "comma-separated package `formats`")
	flag.StringVar(&pkgs, "packages", "", "comma-separated package `names` (default: every packaging/nfpm/*.yaml)")
	flag.Parse()
	opts.Formats = split(formats)
	opts.Packages = split(pkgs)

	results, err := build.Build(opts)
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Printf("skipped %s %s: %s\n", r.Package, r.Format, r.Skipped)
		} else {
			fmt.Printf("built   %s\n", r.Path)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
