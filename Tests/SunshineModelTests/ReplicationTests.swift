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
