// Package build makes vigil's .deb and .rpm packages with nfpm as a
// library, from the configs in packaging/nfpm and the binaries that
// `make build` put in bin/.
package build
