/// Folds a put that a stream shows as two records, a REMOVE directly
/// followed by a MODIFY (or INSERT) of the same key, into the one put it
/// was. ScyllaDB Alternator writes PutItem as a row tombstone just below
/// the new row, and unless `alternator_streams_increased_compatibility` is
/// on, its stream shows both (scylladb/scylladb#6930). Applied as read, the
/// target would lose the item between the delete and the put (a reader of
/// DynamoDB would see it missing) and pay for two writes.
///
/// The rule, per shard, over the records the core accepted (replays are
/// not records here):
///
/// - A REMOVE whose next accepted record maps to a **put of the same key**
///   is not written: that put replaces the whole item, so the target ends
///   the same with or without the delete, and is never without the item.
///   Its origin is acknowledged with the page (``dropped``). The put may
///   come from the record's new image (an INSERT, a MODIFY with
///   `modify_as: put`, or a MODIFY without old image) or from the source's
///   current item (KEYS_ONLY and OLD_IMAGE streams).
/// - Anything else after the REMOVE releases it, in order, before that
///   change: a REMOVE, a delete, an UpdateItem (`modify_as: update` with an
///   old image: an update sets only the attributes that changed and would
///   not recreate the ones the REMOVE took away, so the delete must happen
///   first), a change of another key, a record that writes nothing (a TTL
///   expiry skipped, an unchanged MODIFY, a dead-lettered record).
/// - A REMOVE that is the last accepted record of a page while the shard
///   goes on is held (``finish(shardContinues:)`` returns it) for the
///   shard's next page, whose first accepted record decides as above. A
///   next page without accepted records, the shard's end, and any error or
///   iterator renewal release it. A record stays unacknowledged while held,
///   so the checkpoint does not pass it: a stop leaves it to be read again.
///
/// A real delete directly followed by a put of the same key (DynamoDB's
/// streams, or Alternator with the option on) is folded the same way:
/// the end state is the same, only the moment without the item is skipped,
/// as when a batch keeps the last change of a key.
///
/// Pure logic; one page of one shard at a time.
struct RemovePairing {
    /// The changes to queue, in order.
    private(set) var changes: [Change] = []
    /// Origins of the REMOVEs folded into the put after them.
    private(set) var dropped: [Change.Origin] = []
    /// The REMOVE waiting for the next change of its shard.
    private var waiting: Change?
    /// Whether `waiting` was read in this page (not held from the last).
    private var waitingIsNew = false

    /// - Parameter held: the REMOVE the shard's last page ended with.
    init(held: Change?, capacity: Int = 0) {
        waiting = held
        changes.reserveCapacity(capacity + 1)
    }

    /// The change of the next accepted record; `fromRemove`: the record is
    /// a REMOVE (a delete mapped from an INSERT or MODIFY, when the source
    /// no longer has the item, never waits).
    mutating func add(_ change: Change, fromRemove: Bool) {
        if let removal = waiting {
            waiting = nil
            if change.kind == .put, change.key == removal.key {
                if let origin = removal.origin { dropped.append(origin) }
            } else {
                changes.append(removal)
            }
        }
        if fromRemove, change.kind == .delete {
            waiting = change
            waitingIsNew = true
        } else {
            changes.append(change)
        }
    }

    /// The next accepted record writes nothing: a waiting REMOVE is queued.
    mutating func addNothing() {
        release()
    }

    /// Ends the page. Returns the REMOVE to hold for the shard's next page:
    /// only one this page ended with, and only when the shard goes on.
    /// Otherwise a waiting REMOVE joins ``changes``.
    mutating func finish(shardContinues: Bool) -> Change? {
        if shardContinues, waitingIsNew, let removal = waiting {
            waiting = nil
            return removal
        }
        release()
        return nil
    }

    private mutating func release() {
        if let removal = waiting { changes.append(removal) }
        waiting = nil
    }
}
