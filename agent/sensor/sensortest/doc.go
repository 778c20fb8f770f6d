// Package sensortest runs a sensor's tests against each of its builds of
// one BPF source (see sensor.Builds), and reads the records they expect.
package sensortest
