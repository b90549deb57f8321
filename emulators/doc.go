// Package emulators will start the local Bigtable, Kafka and Lambda-runtime
// emulators for development and tests, so the whole system runs on a
// laptop over real protocols.
//
// Not built yet: see the storage and integration issues.
package emulators
