// Package emulators starts local emulators of the services fenestra runs
// on, so development and tests use the real client libraries over their
// real protocols without a cloud account.
//
// StartBigtable runs the Bigtable emulator (cloud.google.com/go/bigtable's
// bttest) in process, listening on a loopback address over gRPC. Point the
// Bigtable clients at it the way the gcloud tools do:
//
//	export BIGTABLE_EMULATOR_HOST=127.0.0.1:8086
//
// (fenestra emulator bigtable prints that line), or pass the address to
// storage/bigtable's Config.EmulatorHost in tests.
//
// The emulator keeps everything in memory: its tables vanish when it stops.
package emulators
