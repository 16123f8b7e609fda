import Foundation
import SunshineModel
import Synchronization

/// A store held in memory with the same semantics as ``SQLiteStore`` — the same rules (they are
/// SunshineModel's, applied through ``VersionLedger``), the same change log, and transactions that
/// leave nothing behind when they fail — so that the replication core runs in tests and
/// benchmarks without a disk. Both implementations pass one contract test suite.
///
/// Writers are serialised by a lock; a reader works on a copy-on-write snapshot. A failed
/// transaction is undone from a journal of what it changed, so its cost is that of its changes,
/// not of the store's size.
public final class InMemoryStore: ReplicaStore {
    public let node: String
    private let state: Mutex<MemoryState>

    public init(node: String) {
        self.node = node
        state = Mutex(MemoryState())
    }

    /// A store restored from a file written by ``backup(to:)``: its change log replayed in order,
    /// so every key's state is rebuilt by the same rules that built it.
    public convenience init(contentsOf path: String, node: String) throws {
        self.init(node: node)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StoreError("Cannot read the in-memory store backup \(path).")
        }
        let lines = text.split(separator: "\n").map { line in try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) }
        try transaction { tx in
            for case let line? in lines {
                if let record = line["record"], let seq = line["seq"]?.intValue {
                    let flag = line["flag"]?.stringValue.flatMap(VersionFlag.init)
                    _ = try tx.apply(try Record(json: record), flag: flag)
                    guard try tx.latestSeq() == seq else { throw StoreError("The backup \(path) has a gap at change \(seq).") }
                } else if let name = line["checkpoint"]?.stringValue, let seq = line["seq"]?.intValue {
                    try tx.setCheckpoint(name, to: seq)
                } else if let contest = line["contest"]?.stringValue, let round = line["round"]?.stringValue {
                    tx.closeRound(ClosedRound(contest: contest, round: round), at: line["closedAt"]?.intValue ?? 0)
                }
            }
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any StoreSnapshot) throws -> T) async throws -> T {
        let snapshot = state.withLock { $0 }
        return try body(MemorySnapshot(state: snapshot))
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try transaction(body)
    }

    private func transaction<T: Sendable>(_ body: (MemoryTransaction) throws -> T) throws -> T {
        let node = self.node
        return try state.withLock { (state: inout MemoryState) throws -> T in
            // The transaction owns the state while it runs, so its changes are made in place.
            let transaction = MemoryTransaction(node: node)
            swap(&transaction.state, &state)
            defer { swap(&transaction.state, &state) }
            do {
                return try body(transaction)
            } catch {
                transaction.rollBack()
                throw error
            }
        }
    }

    public func backup(to path: String) async throws {
        let snapshot = state.withLock { $0 }
        var lines: [JSONValue] = snapshot.log.map { entry in
            var line: [String: JSONValue] = ["seq": .int(entry.version.seq), "record": entry.version.record.json]
            if let flag = entry.version.flag { line["flag"] = .string(flag.rawValue) }
            return .object(line)
        }
        lines += snapshot.checkpoints.sorted { $0.key < $1.key }.map { ["checkpoint": .string($0.key), "seq": .int($0.value)] }
        lines += snapshot.closedRounds.sorted { $0.value < $1.value }.map {
            ["contest": .string($0.key.contest), "round": .string($0.key.round), "closedAt": .int($0.value)]
        }
        let text = lines.map(CanonicalJSON.string).joined(separator: "\n") + "\n"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw StoreError("Cannot write the backup to \(path) (\(error.localizedDescription)).")
        }
    }
}

/// Everything an in-memory store holds.
struct MemoryState: Sendable {
    struct Entry: Sendable {
        var version: StoredVersion
        var canonical: String
    }

    struct KeyClock: Hashable, Sendable {
        var key: String
        var clock: VersionVector
    }

    /// The change log; the version with sequence number n is at index n − 1.
    var log: [Entry] = []
    var historyByKey: [String: [Int64]] = [:]
    var byOrigin: [String: [Int64]] = [:]
    var sameClock: [KeyClock: [String]] = [:]
    var keys: [String: KeyState] = [:]
    var checkpoints: [String: Int64] = [:]
    /// Closed rounds and the change-log position at which each closed.
    var closedRounds: [ClosedRound: Int64] = [:]

    func version(_ seq: Int64) -> StoredVersion { log[Int(seq - 1)].version }
}

/// Read queries over a copy of the state.
protocol MemoryQueries: StoreSnapshot {
    var state: MemoryState { get }
}

struct MemorySnapshot: MemoryQueries {
    let state: MemoryState
}

extension MemoryQueries {
    func current(of key: String) throws -> CurrentRecord? {
        state.keys[key].map(CurrentRecord.init)
    }

    func history(of key: String) throws -> [StoredVersion] {
        (state.historyByKey[key] ?? []).map(state.version)
    }

    func currentRecords(kind: RecordKind) throws -> [CurrentRecord] {
        state.keys.filter { $0.value.value.kind == kind }.sorted { $0.key < $1.key }.map { CurrentRecord($0.value) }
    }

    func currentValues(kind: RecordKind) throws -> [CurrentValue] {
        state.keys.filter { $0.value.value.kind == kind }.sorted { $0.key < $1.key }.map {
            CurrentValue(value: $0.value.value, quarantined: $0.value.quarantined)
        }
    }

    func latestSeq() throws -> Int64 { Int64(state.log.count) }

    func changes(after seq: Int64, for reader: Routing.Reader?, limit: Int) throws -> [StoredVersion] {
        var result: [StoredVersion] = []
        var index = Int(max(seq, 0))
        while index < state.log.count && result.count < limit {
            let version = state.log[index].version
            if reader?.reads(version.record) ?? true { result.append(version) }
            index += 1
        }
        return result
    }

    func outbox(of origin: String, after seq: Int64, limit: Int) throws -> [StoredVersion] {
        let seqs = state.byOrigin[origin] ?? []
        return seqs[firstIndex(in: seqs, after: seq)...].prefix(limit).map(state.version)
    }

    func outboxCount(of origin: String, after seq: Int64) throws -> Int64 {
        let seqs = state.byOrigin[origin] ?? []
        return Int64(seqs.count - firstIndex(in: seqs, after: seq))
    }

    /// The index of the first element above `seq` in an ascending list (binary search).
    private func firstIndex(in seqs: [Int64], after seq: Int64) -> Int {
        var low = 0
        var high = seqs.count
        while low < high {
            let middle = (low + high) / 2
            if seqs[middle] <= seq { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func checkpoint(_ name: String) throws -> Int64 { state.checkpoints[name] ?? 0 }

    func checkpoints(prefix: String) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for (name, seq) in state.checkpoints where name.hasPrefix(prefix) { result[String(name.dropFirst(prefix.count))] = seq }
        return result
    }

    func counts() throws -> [String: [RecordKind: Int]] {
        var result: [String: [RecordKind: Int]] = [:]
        for key in state.keys.values where !key.value.deleted { result[key.value.township, default: [:]][key.value.kind, default: 0] += 1 }
        return result
    }

    func openConflicts() throws -> [OpenConflict] {
        state.keys.values.filter { $0.conflict != nil }.sorted { ($0.conflictOpenedAt ?? 0) < ($1.conflictOpenedAt ?? 0) }.map {
            OpenConflict(
                key: $0.value.key, kind: $0.value.kind, township: $0.value.township, reason: $0.conflict!,
                siblings: $0.siblings.map(\.record), current: $0.value
            )
        }
    }

    func openConflictCounts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for key in state.keys.values where key.conflict != nil { result[key.value.township, default: 0] += 1 }
        return result
    }

    func quarantinedCount() throws -> Int { state.keys.values.filter(\.quarantined).count }

    func isRoundClosed(contest: String, round: String) throws -> Bool {
        state.closedRounds[ClosedRound(contest: contest, round: round)] != nil
    }

    func closedRounds() throws -> [ClosedRound] {
        state.closedRounds.keys.sorted { ($0.contest, $0.round) < ($1.contest, $1.round) }
    }
}

/// One write transaction: it owns the state while it runs and journals how to undo each change.
final class MemoryTransaction: MemoryQueries, StoreTransaction, VersionLedger {
    let node: String
    var state = MemoryState()
    private var undo: [(inout MemoryState) -> Void] = []

    init(node: String) {
        self.node = node
    }

    /// Undoes every change of this transaction, newest first.
    func rollBack() {
        for step in undo.reversed() { step(&state) }
        undo.removeAll()
    }

    func apply(_ record: Record, flag: VersionFlag?) throws -> ApplyDecision {
        try applyVersion(record, flag: flag)
    }

    func keyState(of key: String) throws -> KeyState? { state.keys[key] }

    func canonicals(of key: String, clock: VersionVector) throws -> [String] {
        state.sameClock[MemoryState.KeyClock(key: key, clock: clock)] ?? []
    }

    func append(_ record: Record, canonical: String, flag: VersionFlag?) throws -> Int64 {
        let seq = Int64(state.log.count + 1)
        let keyClock = MemoryState.KeyClock(key: record.key, clock: record.clock)
        state.log.append(.init(version: StoredVersion(seq: seq, record: record, flag: flag), canonical: canonical))
        state.historyByKey[record.key, default: []].append(seq)
        state.byOrigin[record.origin, default: []].append(seq)
        state.sameClock[keyClock, default: []].append(canonical)
        undo.append { state in
            state.log.removeLast()
            state.historyByKey[record.key]?.removeLast()
            if state.historyByKey[record.key]?.isEmpty == true { state.historyByKey[record.key] = nil }
            state.byOrigin[record.origin]?.removeLast()
            if state.byOrigin[record.origin]?.isEmpty == true { state.byOrigin[record.origin] = nil }
            state.sameClock[keyClock]?.removeLast()
            if state.sameClock[keyClock]?.isEmpty == true { state.sameClock[keyClock] = nil }
        }
        return seq
    }

    func save(_ keyState: KeyState, for key: String) throws {
        let previous = state.keys.updateValue(keyState, forKey: key)
        undo.append { $0.keys[key] = previous }
    }

    func advanceCheckpoint(_ name: String, to seq: Int64) throws {
        try setCheckpoint(name, to: max(state.checkpoints[name] ?? seq, seq))
    }

    func setCheckpoint(_ name: String, to seq: Int64) throws {
        let previous = state.checkpoints.updateValue(seq, forKey: name)
        undo.append { $0.checkpoints[name] = previous }
    }

    func closeRound(contest: String, round: String) throws -> Bool {
        let closed = ClosedRound(contest: contest, round: round)
        guard state.closedRounds[closed] == nil else { return false }
        closeRound(closed, at: Int64(state.log.count))
        return true
    }

    func closeRound(_ closed: ClosedRound, at seq: Int64) {
        state.closedRounds[closed] = seq
        undo.append { $0.closedRounds[closed] = nil }
    }
}
