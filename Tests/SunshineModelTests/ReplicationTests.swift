import SunshineModel
import Testing

@Suite struct ReplicationTests {
    private let v1 = findingRecord(clock: ["township-03": 1], origin: "township-03")
    private var v2: Record { findingRecord(clock: ["township-03": 2], origin: "township-03", status: .investigating) }
    private var county: Record { findingRecord(clock: ["township-03": 1, "coordinator": 1], origin: "coordinator", status: .resolved, title: "Seal broken") }

    @Test func aNewerVersionReplacesTheCurrentOne() {
        #expect(Replication.decide(v2, history: [v1], siblings: [v1]) == .replaces)
        #expect(Replication.decide(v1, history: [], siblings: []) == .replaces)
    }

    @Test func aResentVersionIsADuplicate() {
        #expect(Replication.decide(v1, history: [v1], siblings: [v1]) == .duplicate)
        #expect(Replication.decide(v1, history: [v1, v2], siblings: [v2]) == .duplicate)
    }

    @Test func anAncestorNotHeldBeforeGoesToHistoryOnly() {
        #expect(Replication.decide(v1, history: [v2], siblings: [v2]) == .obsolete)
    }

    @Test func concurrentVersionsAreBothKept() {
        let decision = Replication.decide(county, history: [v1, v2], siblings: [v2])
        #expect(decision == .concurrent(superseded: []))
        #expect(Replication.siblings(after: decision, incoming: county, siblings: [v2]).count == 2)
    }

    @Test func aConcurrentVersionStillSupersedesWhatItSaw() {
        // county saw v1 but not v2 … then a third writer saw v1 and county's: it supersedes county, not v2.
        let third = findingRecord(clock: ["township-03": 1, "coordinator": 2], origin: "coordinator")
        let decision = Replication.decide(third, history: [v1, v2, county], siblings: [v2, county])
        #expect(decision == .concurrent(superseded: [county.canonical]))
        #expect(Replication.siblings(after: decision, incoming: third, siblings: [v2, county]).map(\.clock) == [v2.clock, third.clock])
    }

    @Test func theSameClockWithOtherContentIsAnIntegrityConflict() {
        let first = ballotRecord(choices: ["cand-07"])
        let forged = ballotRecord(choices: ["cand-09"])
        #expect(Replication.decide(forged, history: [first], siblings: [first]) == .integrityConflict)
        #expect(Replication.siblings(after: .integrityConflict, incoming: forged, siblings: [first]).count == 2)
    }

    @Test func aResolutionDominatesEverySibling() {
        let clock = Replication.nextClock(for: "coordinator", over: [v2, county])
        #expect(clock.dominates(v2.clock) && clock.dominates(county.clock))
        let resolution = findingRecord(clock: clock.counters, origin: "coordinator", status: .resolved)
        #expect(Replication.decide(resolution, history: [v1, v2, county], siblings: [v2, county]) == .replaces)
    }

    @Test func theMergeIsTheSameInEveryOrderAndKeepsWhatMatters() {
        let township = findingRecord(clock: ["township-03": 2], origin: "township-03", status: .investigating, severity: .high, notes: ["seal photographed"])
        let countyEdit = findingRecord(clock: ["township-03": 1, "coordinator": 1], origin: "coordinator", status: .resolved, severity: .low, title: "Seal replaced", notes: ["county visit"])
        let a = Merge.current(of: [township, countyEdit])!
        let b = Merge.current(of: [countyEdit, township])!
        #expect(a == b)
        let merged = RecordRulesProbe.finding(a)
        #expect(merged.title == "Seal replaced", "the county's text wins")
        #expect(merged.severity == .high, "severity is never lowered by a concurrent edit")
        #expect(merged.status == .investigating, "a concurrent resolution never hides an open investigation")
        #expect(Set(merged.notes) == ["seal photographed", "county visit"])
        #expect(a.clock == township.clock.joined(with: countyEdit.clock))
    }

    @Test func aConcurrentDeleteDoesNotWinOverAnEdit() {
        let edit = findingRecord(clock: ["township-03": 2], origin: "township-03")
        let delete = findingRecord(clock: ["township-03": 1, "coordinator": 1], origin: "coordinator", deleted: true)
        #expect(Merge.current(of: [edit, delete])?.deleted == false)
    }
}

enum RecordRulesProbe {
    static func finding(_ record: Record) -> Finding { try! RecordRules.finding(record.data) }
}

/// A key's state is a function of the set of versions held, never of their order (DESIGN §3.6).
@Suite struct OrderIndependenceTests {
    /// Applies versions in order with the pure rules, as a store does, and returns the final state.
    private func state(after versions: [Record]) -> KeyState? {
        var state: KeyState?
        var held: [Record] = []
        for (index, version) in versions.enumerated() {
            let decision = Replication.decide(version, history: held, siblings: state?.siblings.map(\.record) ?? [])
            if decision == .duplicate { continue }
            held.append(version)
            state = Replication.state(after: decision, adding: StoredVersion(seq: Int64(index + 1), record: version), to: state)
        }
        return state
    }

    private func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index in
            permutations(items.enumerated().filter { $0.offset != index }.map(\.element)).map { [items[index]] + $0 }
        }
    }

    /// Finding 8: A{t:1}, B{t:2} and X{t:1, other content} ended quarantined in one order and counted
    /// in another. In every order, B dominates both and the key is neither in conflict nor quarantined.
    @Test func aDominatedForgeryLeavesTheSameStateInEveryOrder() {
        let a = ballotRecord(choices: ["cand-07"])
        var b = ballotRecord(choices: ["cand-07"])
        b.clock = VersionVector(["township-03": 2])
        b.data = Ballot(contest: "secretary-2026", round: "vote-1", station: "s01", serial: 123, choices: ["cand-07"], correction: "checked").json
        let x = ballotRecord(choices: ["cand-09"])
        let states = permutations([a, b, x]).map { state(after: $0) }
        for state in states {
            #expect(state?.siblings.map(\.record) == [b])
            #expect(state?.quarantined == false && state?.conflict == nil)
        }
    }

    @Test func everyOrderOfConcurrentAndCollidingVersionsGivesOneState() {
        let base = findingRecord(clock: ["township-03": 1], origin: "township-03")
        let county = findingRecord(clock: ["township-03": 1, "coordinator": 1], origin: "coordinator", status: .resolved)
        let edit = findingRecord(clock: ["township-03": 2], origin: "township-03", status: .investigating)
        let twin = findingRecord(clock: ["township-03": 2], origin: "township-03", title: "another text, same clock")
        let reference = state(after: [base, county, edit, twin])
        #expect(reference?.conflict == .integrity)
        for order in permutations([base, county, edit, twin]) {
            let result = state(after: order)
            #expect(Set(result?.siblings.map(\.record) ?? []) == Set(reference?.siblings.map(\.record) ?? []))
            #expect(result?.value == reference?.value && result?.conflict == reference?.conflict)
        }
    }

    /// "A county delete concurrent with a township edit shows the old text": the live edit shows.
    @Test func aConcurrentDeleteNeverShowsTheTextAnEditReplaced() {
        let old = findingRecord(clock: ["township-03": 1], origin: "township-03", title: "Old text")
        let edit = findingRecord(clock: ["township-03": 2], origin: "township-03", title: "New text")
        var delete = findingRecord(clock: ["township-03": 1, "coordinator": 1], origin: "coordinator", title: "Old text", deleted: true)
        delete.data = old.data
        let merged = Merge.current(of: [edit, delete])
        #expect(merged?.deleted == false)
        #expect(merged.map(RecordRulesProbe.finding)?.title == "New text")
    }

    /// Same content means the same bytes: NFC and NFD spellings of a name are two versions.
    @Test func contentIsComparedByteForByte() {
        let composed = findingRecord(clock: ["township-03": 1], origin: "township-03", title: "Caf\u{E9}")
        let decomposed = findingRecord(clock: ["township-03": 1], origin: "township-03", title: "Cafe\u{301}")
        #expect(Replication.decide(decomposed, history: [composed], siblings: [composed]) == .integrityConflict)
    }
}
