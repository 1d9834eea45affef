import AWSClient
import Dispatch
import Foundation
import Logging

extension StreamReplicator {
    /// Lists the stream on the lister thread: all of it, page by page at
    /// `describePagesPerSecond`, or (`after` set) only the shards after
    /// the last one of the previous full listing, where a drained parent's
    /// new children appear. A listing already under way absorbs the request.
    func discover(after: String?) {
        guard !discoveryRunning.exchange(true, ordering: .acquiring) else { return }
        discoveryQueue.async { [self] in
            defer { discoveryRunning.store(false, ordering: .releasing) }
            guard !isStopping else { return }
            let listed: [ShardDescriptor]
            do throws(AWSClientError) {
                listed = try listShards(after: after)
            } catch {
                noteError("DescribeStream failed: \(error)")
                if error.retryClass == .terminal {
                    perform(core.withLock { $0.failed("cannot describe stream \(options.streamArn): \(error)") })
                }
                return
            }
            let actions = core.withLock { $0.discovered(listed, complete: after == nil, now: clock()) }
            shell.withLock { if $0.phase == .starting { $0.phase = .streaming } }
            perform(actions)
        }
    }

    private func listShards(after: String?) throws(AWSClientError) -> [ShardDescriptor] {
        var shards: [ShardDescriptor] = []
        var next = after
        let pause = 1 / max(0.1, options.describePagesPerSecond)
        var pages = 0
        repeat {
            if pages > 0 { usleepSeconds(pause) }
            if isStopping { break }
            let page = try streams.describeStream(arn: options.streamArn, exclusiveStartShardId: next)
            pages += 1
            for shard in page.shards {
                shards.append(ShardDescriptor(id: shard.shardId, parentId: shard.parentShardId,
                                              endingSequence: shard.endingSequenceNumber.flatMap { SequenceNumber($0) }))
            }
            next = page.lastEvaluatedShardId
        } while next != nil
        return shards
    }
}
