// Package integration will hold the end-to-end tests across hosts: the
// proof that online features equal offline features. Today that proof runs
// in process: see conformance.RunScripts and `fenestra up`.
//
// Not built yet: see the integration issue.
package integration
