// Package file is the sensor for bytes written to files and for renames.
package file
