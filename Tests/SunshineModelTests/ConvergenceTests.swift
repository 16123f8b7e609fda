import SunshineModel
import SunshineTestSupport
import Testing

/// An in-memory replica applying DESIGN §3.6 exactly as the stores do.
struct MemoryReplica {
    var history: [String: [Record]] = [:]
    var siblings: [String: [Record]] = [:]

    @discardableResult
    mutating func apply(_ record: Record) -> ApplyDecision {
        let held = history[record.key] ?? []
        let current = siblings[record.key] ?? []
        let decision = Replication.decide(record, history: held, siblings: current)
        if decision != .duplicate { history[record.key, default: []].append(record) }
        siblings[record.key] = Replication.siblings(after: decision, incoming: record, siblings: current)
        return decision
    }

    /// A local write by `node`: dominates everything it holds for the key.
    mutating func write(_ node: String, key: String, serial: Int) -> Record {
        let clock = Replication.nextClock(for: node, over: history[key] ?? [])
        let record = findingRecord(_key: key, township: String(key.split(separator: "/")[1]), clock: clock.counters, origin: node,
                                   status: Finding.Status.allCases[serial % 4], severity: Finding.Severity.allCases[serial % 4],
                                   title: "edit \(serial) by \(node)", notes: ["note \(serial)"])
        apply(record)
        return record
    }

    /// What a user sees: per key, the merged current value and the set of siblings.
    var state: [String: (current: Record, siblings: Set<String>)] {
        siblings.mapValues { (Merge.current(of: $0)!, Set($0.map(\.canonical))) }
    }
}

@Suite struct ConvergenceTests {
    @Test(arguments: 0..<12)
    func randomHistoriesAtSeventeenNodesConvergeInAnyDeliveryOrder(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let nodes = (1...17).map { "township-" + ($0 < 10 ? "0" : "") + String($0) } + ["coordinator"]
        let keys = (1...5).map { "finding/township-0\($0)/f\($0)" }
        var replicas = Dictionary(uniqueKeysWithValues: nodes.map { ($0, MemoryReplica()) })
        var written: [Record] = []

        // Rounds of writes and partial, lossy, duplicated gossip.
        for round in 0..<30 {
            for _ in 0..<4 {
                let node = nodes.randomElement(using: &random)!
                written.append(replicas[node]!.write(node, key: keys.randomElement(using: &random)!, serial: round))
            }
            for _ in 0..<20 {
                let receiver = nodes.randomElement(using: &random)!
                let record = written.randomElement(using: &random)!
                if Int.random(in: 0..<4, using: &random) == 0 { continue }  // dropped; resent later
                replicas[receiver]!.apply(record)
                if Bool.random(using: &random) { replicas[receiver]!.apply(record) }  // duplicated
            }
        }
        // Everything is eventually resent to everyone, each replica in its own random order.
        for node in nodes {
            for record in written.shuffled(using: &random) { replicas[node]!.apply(record) }
        }

        let reference = replicas[nodes[0]]!.state
        for node in nodes {
            let replica = replicas[node]!
            let state = replica.state
            #expect(Set(state.keys) == Set(reference.keys))
            for (key, value) in reference {
                #expect(state[key]?.siblings == value.siblings, "\(node) disagrees on the siblings of \(key)")
                #expect(state[key]?.current == value.current, "\(node) disagrees on the value of \(key)")
            }
            let history = Set(replica.history.values.flatMap { $0.map(\.canonical) })
            #expect(written.allSatisfy { history.contains($0.canonical) }, "\(node) lost a version from history")
            #expect(replica.history.values.allSatisfy { Set($0.map(\.canonical)).count == $0.count }, "a version stored twice")
        }
    }
}
