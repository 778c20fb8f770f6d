// mkpkg builds vigil's .deb and .rpm packages with nfpm (as a library, no
// download) from packaging/nfpm/*.yaml and the binaries in bin/:
//
//	go run ./packaging/cmd/mkpkg -version "$(git describe --tags --always --dirty)"
//
// A package whose binary is not built yet is skipped with a message; any
// other problem fails.
package main
