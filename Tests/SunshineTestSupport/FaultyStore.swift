import SunshineModel
import SunshineStore
import Synchronization

/// Wraps any store and makes its commits fail or slow down on a schedule: the n-th commit, every
/// commit until healed, or each commit delayed; and reads fail when told to. A failing commit runs the transaction's body for
/// real and then throws from inside it, so the wrapped store rolls it back exactly as it would a
/// commit that failed — the caller sees the store's own busy error, and nothing is left behind.
public final class FaultyStore: ReplicaStore {
    public let base: any ReplicaStore
    public var node: String { base.node }

    private struct Plan {
        var commits = 0
        var failing: Set<Int> = []
        var failAll = false
        var delay: Duration?
        var failingReads = 0
    }

    private let plan = Mutex(Plan())

    public init(_ base: any ReplicaStore) {
        self.base = base
    }

    /// Commits attempted so far (failed ones included).
    public var commits: Int { plan.withLock { $0.commits } }

    /// The `n`-th commit from now (1 = the next one) fails.
    public func failCommit(_ n: Int) {
        plan.withLock { $0.failing.insert($0.commits + n) }
    }

    /// Every commit fails until ``heal()``.
    public func failEveryCommit() {
        plan.withLock { $0.failAll = true }
    }

    /// Every commit waits `delay` before it runs, until ``heal()``.
    public func delayCommits(by delay: Duration) {
        plan.withLock { $0.delay = delay }
    }

    /// The next `count` reads fail as if the database were busy.
    public func failReads(_ count: Int = 1) {
        plan.withLock { $0.failingReads += count }
    }

    /// Commits succeed at full speed again.
    public func heal() {
        plan.withLock { plan in
            plan.failing.removeAll()
            plan.failAll = false
            plan.delay = nil
            plan.failingReads = 0
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any StoreSnapshot) throws -> T) async throws -> T {
        let fails = plan.withLock { plan in
            guard plan.failingReads > 0 else { return false }
            plan.failingReads -= 1
            return true
        }
        if fails { throw StoreError("Injected fault: a read failed as if the database were busy.", reason: .busy) }
        return try await base.read(body)
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await write(body, queued: {})
    }

    /// Counts and faults the write as it is queued in the store beneath, so a pipelined push's
    /// failed commit is one of a window in flight.
    public func write<T: Sendable>(
        _ body: @Sendable (any StoreTransaction) throws -> T, queued: @escaping @Sendable () -> Void
    ) async throws -> T {
        let (number, fails, delay) = plan.withLock { plan in
            plan.commits += 1
            return (plan.commits, plan.failAll || plan.failing.remove(plan.commits) != nil, plan.delay)
        }
        if let delay { try await Task.sleep(for: delay) }
        return try await base.write({ tx in
            let result = try body(tx)
            if fails {
                throw StoreError("Injected fault: commit \(number) failed as if the database were busy; nothing was written.", reason: .busy)
            }
            return result
        }, queued: queued)
    }

    public func backup(to path: String) async throws {
        try await base.backup(to: path)
    }
}
