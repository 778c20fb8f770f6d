// Package testenv is how a test says that this machine lacks something it
// needs (root, a kernel feature, a program, a free port): outside CI the
// test skips and says what is missing; under CI, which installs everything
// the tests need, the same gap fails the run instead of passing unseen.
package testenv
