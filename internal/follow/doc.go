// Package follow keeps tables held in memory by a serving process current:
// a Follower reads the Kafka topics that fenestra stream stores in
// Bigtable and hands their records, as rows, to a function of the caller
// (the in-memory tier's Apply). It decodes every record exactly as the
// stream does, with package records: the same record becomes the same row
// with the same sequence number (records.Seq of its partition and offset)
// in Bigtable and in memory, so the tier keeps one copy of a row it gets
// from both.
//
// # Consistency protocol
//
// A serving process starts in this order:
//
//  1. New reads, for each partition of each topic, where to start: the
//     committed offset of the stream's consumer group (Config.Group) when
//     there is one, never before the partition's log start, else the
//     partition's earliest offset — the offsets the stream itself would
//     start from. It then reads the partitions' high watermarks.
//  2. The caller loads the tables from Bigtable.
//  3. Run follows every partition from its start offset.
//
// The stream commits an offset only once the rows of the records before it
// are in Bigtable, so the load of step 2, made after step 1 read the
// offsets, holds every row of the records before them; following from
// them gives every record after. Together they give every row; a row
// given by both (the stream went on storing between steps 1 and 2) is
// the same row with the same sequence number, and the tier keeps one.
//
// The Follower is caught up, and Ready closed, once every partition was
// applied up to the high watermark New read: the tables in memory are
// then at least as current as Kafka was when the process started.
//
// # Records
//
// The Follower reads as the stream does: only committed records
// (read_committed), from the exact start offsets, without joining the
// group and without ever committing an offset (the group's offsets are the
// stream's progress, not the Follower's). An offset out of range (the
// records were deleted by retention before they were read) stops
// following with an error, never a silent jump to another offset, which
// would lose rows.
//
// A bad record (one records.Decoder does not decode) is handled as
// Config.Bad says, as the stream's --bad-records does: records.Skip
// counts it (Stats.Bad), logs it with its topic, partition and offset and
// goes on; records.Fail stops following at it, with an error naming its
// topic, partition and offset — where the stream stops too. The Follower
// never produces, so records.DeadLetter is handled as Skip: the stream
// forwards the record to the dead-letter topic and stores no row of it,
// and the Follower applies none either.
//
// The partitions followed are those New lists, as the stream reads those
// of its topics when it starts: a partition added later is followed by
// the next process (and streamed by the next stream).
//
// An error of the caller's Apply, or of reading Kafka, stops following as
// well: Run returns it and Err reports it, for a readiness probe to show.
// A stopped Follower does not resume; the process starts again (a new
// Follower, a new load).
package follow
