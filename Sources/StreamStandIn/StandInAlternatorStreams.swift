/// Streams as ScyllaDB Alternator shows them to a client, where they differ
/// from DynamoDB's (``StandInConfiguration/alternatorStreams``):
///
/// - Many shards: Alternator's shards are CDC stream ids, a few per vnode
///   and CPU, so even a small table has dozens to hundreds of them.
/// - A put appears as two records when `alternator_streams_increased_compatibility`
///   is off (the default before it existed, and still the default since):
///   Alternator writes PutItem as a row tombstone one timestamp below the
///   new row, and CDC shows both, a REMOVE and then a MODIFY of the same key
///   (scylladb/scylladb#6930). The two share a CDC time, so nothing of
///   another write falls between them in their shard.
/// - Records are published late: GetRecords shows a record only once
///   `alternator_streams_time_window_s` (10 s by default) has passed since it
///   was written, so that writes with slightly older timestamps arriving
///   from other nodes are not skipped.
/// - TTL expiries are ordinary deletes: a REMOVE without `userIdentity`.
///
/// `ApproximateCreationDateTime` is the write time in whole seconds, as
/// everywhere in the stand-in (and in both DynamoDB and Alternator), never
/// the later publication time.
public struct StandInAlternatorStreams: Sendable, Hashable {
    /// Open shards of every table's stream; it replaces
    /// ``StandInTableSpec/shardCount``. Alternator: typically 64–512.
    public var shardsPerStream: Int
    /// A put (PutItem, a BatchWriteItem put, the test API's put) of an item
    /// that is new or replaced appears as a REMOVE (with the old image, when
    /// there was an item and the view carries old images) followed directly
    /// by a MODIFY with the new image and no old image. Even a put that
    /// changes nothing writes both, as Alternator does without the option.
    /// UpdateItem and deletes keep one record. false: one INSERT or MODIFY,
    /// as with `alternator_streams_increased_compatibility` on.
    public var putAsRemoveThenModify: Bool
    /// Seconds from a write until GetRecords returns its records
    /// (Alternator: `alternator_streams_time_window_s`, default 10).
    public var publishDelay: Double

    public init(shardsPerStream: Int = 64, putAsRemoveThenModify: Bool = true, publishDelay: Double = 10) {
        self.shardsPerStream = shardsPerStream
        self.putAsRemoveThenModify = putAsRemoveThenModify
        self.publishDelay = publishDelay
    }
}
