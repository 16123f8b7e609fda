import Foundation
import Synchronization

/// Something an operator watching the county should notice: a township came online or went
/// offline, a conflict opened or was resolved, a version was held aside, a round closed, a contest
/// was published. The dashboard shows the newest ones in its panel.
public struct CountyEvent: Sendable, Equatable {
    /// What happened, as the dashboard colours it.
    public enum Kind: String, Sendable, CaseIterable {
        case connected, offline, conflict, resolved, refused, quarantined, roundClosed, published
    }

    /// Numbers events in the order the coordinator saw them, from 1 since it started.
    public var id: Int64
    public var at: Date
    public var kind: Kind
    /// The township it is about, if one.
    public var township: String?
    /// The record it is about, if one.
    public var key: String?
    /// One line for a person.
    public var message: String
}

/// The coordinator's recent events: a bounded ring in memory (the newest ``capacity``), and when
/// something last changed what `status` and `tally` show. Both start empty when the coordinator
/// starts: the ring is a window on what is happening, the store keeps the record.
///
/// A ring on the coordinator rather than differences between successive `status` results: every
/// dashboard sees the same events with the time they happened, including those from before it
/// started or between two of its refreshes, and `status` stays one cheap call.
public final class CountyEvents: Sendable {
    /// How many events are kept.
    public static let capacity = 200

    private struct State {
        var ring: [CountyEvent] = []
        var nextID: Int64 = 1
        var lastChange: Date?
    }

    private let state = Mutex(State())

    /// An empty ring, as a coordinator starts with.
    public init() {}

    /// Adds an event (dropping the oldest beyond ``capacity``) and counts it as a change.
    public func record(
        _ kind: CountyEvent.Kind, at: Date, township: String? = nil, key: String? = nil, _ message: String
    ) {
        state.withLock { state in
            state.ring.append(
                CountyEvent(id: state.nextID, at: at, kind: kind, township: township, key: key, message: message))
            state.nextID += 1
            if state.ring.count > Self.capacity { state.ring.removeFirst(state.ring.count - Self.capacity) }
            if kind != .connected && kind != .offline { state.lastChange = at }
        }
    }

    /// Notes that the records operators count changed at `at`, without an event of its own.
    public func changed(at: Date) {
        state.withLock { $0.lastChange = at }
    }

    /// The newest `limit` events, newest first.
    public func latest(_ limit: Int) -> [CountyEvent] {
        state.withLock { Array($0.ring.suffix(max(0, limit)).reversed()) }
    }

    /// When records operators count last changed since the coordinator started, if they did.
    public var lastChange: Date? {
        state.withLock { $0.lastChange }
    }
}
