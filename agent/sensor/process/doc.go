// Package process is the sensor for process exec, fork and exit.
package process
