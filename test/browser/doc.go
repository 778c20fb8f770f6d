// Package browser drives the collector's web console in a real headless
// Chromium (Debian's chromium package) through chromedp: sign-in, the
// live alert queue, an alert's evidence, triage, and the refusals.
package browser
