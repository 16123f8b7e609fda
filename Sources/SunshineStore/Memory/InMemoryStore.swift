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
        state = Mutex(MemoryState(identity: .fresh(for: node)))
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
                    _ = try tx.apply(try Record(json: record), flag: flag, source: line["source"]?.stringValue)
                    guard try tx.latestSeq() == seq else { throw StoreError("The backup \(path) has a gap at change \(seq).") }
                } else if let name = line["checkpoint"]?.stringValue, let seq = line["seq"]?.intValue {
                    try tx.setCheckpoint(name, to: seq)
                } else if let contest = line["contest"]?.stringValue, let round = line["round"]?.stringValue {
                    tx.closeRound(ClosedRound(contest: contest, round: round), at: line["closedAt"]?.intValue ?? 0)
                } else if let storeID = line["storeID"]?.stringValue, let actor = line["actor"]?.stringValue {
                    tx.state.identity = StoreIdentity(storeID: storeID, actor: actor)
                } else if let upto = line["pulledUpto"]?.intValue, let head = line["pulledHead"]?.stringValue {
                    try tx.setPullPosition(PullPosition(upto: upto, head: head))
                } else if let agent = line["agentStore"], let node = agent["node"]?.stringValue, let store = agent["store"]?.stringValue {
                    try tx.saveAgentStore(AgentStore(
                        node: node, store: store, checkpoint: agent["checkpoint"]?.intValue ?? 0,
                        checkpointHead: agent["checkpointHead"]?.stringValue, lastHello: agent["lastHello"]?.intValue ?? 0
                    ))
                } else if let refusal = line["refusal"], let fields = refusal.objectValue?.compactMapValues(\.stringValue), fields.count == 8 {
                    _ = try tx.holdAside(Refusal(
                        node: fields["node"]!, store: fields["store"]!, key: fields["key"]!, township: fields["township"]!,
                        reason: fields["reason"]!, message: fields["message"]!, at: fields["at"]!, version: fields["version"]!
                    ))
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
        var lines: [JSONValue] = [["storeID": .string(snapshot.identity.storeID), "actor": .string(snapshot.identity.actor)]]
        lines += snapshot.log.map { entry in
            var line: [String: JSONValue] = ["seq": .int(entry.version.seq), "record": entry.version.record.json]
            if let flag = entry.version.flag { line["flag"] = .string(flag.rawValue) }
            if let source = entry.version.source { line["source"] = .string(source) }
            return .object(line)
        }
        lines.append(["pulledUpto": .int(snapshot.pullPosition.upto), "pulledHead": .string(snapshot.pullPosition.head)])
        lines += snapshot.agentStores.values.sorted { ($0.node, $0.store) < ($1.node, $1.store) }.map { agent in
            var fields: [String: JSONValue] = [
                "node": .string(agent.node), "store": .string(agent.store), "checkpoint": .int(agent.checkpoint), "lastHello": .int(agent.lastHello),
            ]
            if let head = agent.checkpointHead { fields["checkpointHead"] = .string(head) }
            return ["agentStore": .object(fields)]
        }
        lines += snapshot.refusals.map { refusal in
            ["refusal": [
                "node": .string(refusal.node), "store": .string(refusal.store), "key": .string(refusal.key), "township": .string(refusal.township),
                "reason": .string(refusal.reason), "message": .string(refusal.message), "at": .string(refusal.at), "version": .string(refusal.version),
            ]]
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
        /// The log's hash-chain head after this version.
        var head: [UInt8]
    }

    struct AgentStoreKey: Hashable, Sendable {
        var node: String
        var store: String
    }

    var identity: StoreIdentity

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
    var pullPosition = PullPosition.start
    var kindCounts: [String: [RecordKind: Int]] = [:]
    var ballotGroups: [String: BallotGroup] = [:]
    var agentStores: [AgentStoreKey: AgentStore] = [:]
    /// Refused versions in the order they were held aside.
    var refusals: [Refusal] = []

    init(identity: StoreIdentity) {
        self.identity = identity
    }

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
    func identity() throws -> StoreIdentity { state.identity }

    func head(at seq: Int64) throws -> String? {
        if seq == 0 { return LogChain.origin }
        guard seq > 0, seq <= Int64(state.log.count) else { return nil }
        return LogChain.hex(state.log[Int(seq - 1)].head)
    }

    func pullPosition() throws -> PullPosition { state.pullPosition }

    func agentStore(node: String, store: String) throws -> AgentStore? {
        state.agentStores[MemoryState.AgentStoreKey(node: node, store: store)]
    }

    func agentStores() throws -> [AgentStore] {
        state.agentStores.values.sorted { ($0.node, $0.lastHello) < ($1.node, $1.lastHello) }
    }

    func refusals(township: String?, before: Int64?, limit: Int) throws -> [Refusal] {
        Array(
            state.refusals.reversed()
                .filter { ($0.id < before ?? Int64.max) && (township == nil || $0.township == township || $0.node == township) }
                .prefix(limit))
    }

    func refusalCounts() throws -> [String: Int] {
        state.refusals.reduce(into: [:]) { $0[$1.node, default: 0] += 1 }
    }

    func current(of key: String) throws -> CurrentRecord? {
        state.keys[key].map(CurrentRecord.init)
    }

    func history(of key: String) throws -> [StoredVersion] {
        (state.historyByKey[key] ?? []).map(state.version)
    }

    func holds(_ record: Record) throws -> Bool {
        let canonical = record.canonical
        return (state.sameClock[MemoryState.KeyClock(key: record.key, clock: record.clock)] ?? []).contains { CanonicalJSON.same($0, canonical) }
    }

    func refusals(key: String) throws -> [Refusal] {
        state.refusals.filter { $0.key == key }
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
            if reader?.reads(version) ?? true { result.append(version) }
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
        state.kindCounts.mapValues { $0.filter { $0.value > 0 } }.filter { !$0.value.isEmpty }
    }

    func ballotGroups(contest: String?, round: String?) throws -> [BallotGroup] {
        var groups: [BallotGroup: Int] = [:]
        for group in state.ballotGroups.values where (contest == nil || group.contest == contest) && (round == nil || group.round == round) {
            groups[group, default: 0] += 1
        }
        return groups.map { group, count in
            var counted = group
            counted.count = count
            return counted
        }
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
    /// Swapped with the store's state while the transaction runs.
    var state: MemoryState
    private var undo: [(inout MemoryState) -> Void] = []

    init(node: String) {
        self.node = node
        state = MemoryState(identity: StoreIdentity(storeID: "", actor: node))
    }

    /// Undoes every change of this transaction, newest first.
    func rollBack() {
        for step in undo.reversed() { step(&state) }
        undo.removeAll()
    }

    func apply(_ record: Record, flag: VersionFlag?, source: String?) throws -> ApplyDecision {
        try applyVersion(record, flag: flag, source: source)
    }

    func write(
        kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool, at date: Date, over extra: VersionVector,
        check: (CurrentRecord?) throws -> Void
    ) throws -> Record {
        try writeVersion(
            kind: kind, key: key, township: township, data: data, deleted: deleted, at: date, over: extra, node: node,
            identity: state.identity, check: check
        )
    }

    func offer(_ record: Record, flag: VersionFlag?, source: String?, authorize: (VersionVector) throws(RecordError) -> Void) throws -> Offered {
        try offerVersion(record, flag: flag, source: source, authorize: authorize)
    }

    func keyState(of key: String) throws -> KeyState? { state.keys[key] }

    func canonicals(of key: String, clock: VersionVector) throws -> [String] {
        state.sameClock[MemoryState.KeyClock(key: key, clock: clock)] ?? []
    }

    func nextSeq() throws -> Int64 { Int64(state.log.count + 1) }

    func append(_ record: Record, canonical: String, flag: VersionFlag?, source: String?) throws -> Int64 {
        let seq = try nextSeq()
        let keyClock = MemoryState.KeyClock(key: record.key, clock: record.clock)
        let head = LogChain.next(after: state.log.last?.head ?? LogChain.originBytes, canonical: canonical)
        state.log.append(.init(version: StoredVersion(seq: seq, record: record, flag: flag, source: source), canonical: canonical, head: head))
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

    func save(_ keyState: KeyState, for key: String, replacing _: KeyState?) throws {
        let previous = state.keys.updateValue(keyState, forKey: key)
        undo.append { $0.keys[key] = previous }
    }

    func adjustCount(township: String, kind: RecordKind, by delta: Int) throws {
        state.kindCounts[township, default: [:]][kind, default: 0] += delta
        undo.append { $0.kindCounts[township]?[kind]? -= delta }
    }

    func saveBallotGroup(_ group: BallotGroup?, for key: String) throws {
        let previous = state.ballotGroups[key]
        state.ballotGroups[key] = group
        undo.append { $0.ballotGroups[key] = previous }
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

    func setPullPosition(_ position: PullPosition) throws {
        let previous = state.pullPosition
        state.pullPosition = position
        undo.append { $0.pullPosition = previous }
    }

    func saveAgentStore(_ store: AgentStore) throws {
        let key = MemoryState.AgentStoreKey(node: store.node, store: store.store)
        let previous = state.agentStores.updateValue(store, forKey: key)
        undo.append { $0.agentStores[key] = previous }
    }

    func keepNewestStores(of node: String, count: Int, keeping: Set<String>) throws {
        let stores = state.agentStores.values.filter { $0.node == node }.sorted { ($0.lastHello, $0.store) > ($1.lastHello, $1.store) }
        for old in stores.dropFirst(count) where !keeping.contains(old.store) {
            let key = MemoryState.AgentStoreKey(node: old.node, store: old.store)
            state.agentStores[key] = nil
            undo.append { $0.agentStores[key] = old }
        }
    }

    func holdAside(_ refusal: Refusal) throws -> Bool {
        let held = state.refusals.filter { $0.node == refusal.node }
        guard held.count < Refusal.maxPerNode, !held.contains(where: { CanonicalJSON.same($0.version, refusal.version) }) else { return false }
        var kept = refusal
        kept.id = Int64(state.refusals.count + 1)
        state.refusals.append(kept)
        undo.append { $0.refusals.removeLast() }
        return true
    }

    func beginIncarnation() throws {
        setIdentity(StoreIdentity(storeID: state.identity.storeID, actor: Actor.fresh(for: node)))
    }

    func renewIdentity() throws {
        setIdentity(.fresh(for: node))
    }

    private func setIdentity(_ identity: StoreIdentity) {
        let previous = state.identity
        state.identity = identity
        undo.append { $0.identity = previous }
    }
}
