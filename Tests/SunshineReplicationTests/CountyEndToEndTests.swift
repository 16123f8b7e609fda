import Foundation
import SunshineAgent
import SunshineModel
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import Testing

/// Seventeen townships and the coordinator in one process over real TLS on loopback.
@Suite(.timeLimit(.minutes(5))) struct CountyEndToEndTests {
    @Test func seventeenTownshipsSyncWhileAgentsComeAndGoAtRandom() async throws {
        let cluster = try Cluster(townships: 17)
        let coordinator = try await cluster.startCoordinator(store: try cluster.store("coordinator"))
        let names = (1...17).map { String(format: "township-%02d", $0) }
        let stores = try names.map { try cluster.store($0) }
        let agents = try names.indices.map { try cluster.agent(names[$0], store: stores[$0], coordinator: coordinator.endpoint, batch: 50) }
        let ballots = 200
        let findings = 5

        try await withThrowingTaskGroup(of: Void.self) { group in
            // Clerks write, whether or not their agent is connected at that moment.
            for (index, store) in stores.enumerated() {
                group.addTask {
                    let office = Township(store: store)
                    var random = SystemRandomNumberGenerator()
                    for serial in 1...ballots {
                        try await office.record(paper(serial, station: "s\(serial % 4)", choices: [["cand-01"], ["cand-02"], ["cand-01", "cand-03"]][serial % 3]))
                        if serial % (ballots / findings) == 0 {
                            try await office.write(Finding(team: "team-\(index)", category: "atmosphere", severity: .low, status: .open, title: "Report \(serial)"), id: "r\(serial)")
                        }
                        if Int.random(in: 0..<20, using: &random) == 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 1...15, using: &random))) }
                    }
                }
            }
            // Offices lose and regain their link at random meanwhile.
            group.addTask {
                var random = SystemRandomNumberGenerator()
                var online = Array(repeating: false, count: agents.count)
                for _ in 0..<120 {
                    let index = Int.random(in: 0..<agents.count, using: &random)
                    if online[index] { await agents[index].stop() } else { agents[index].start() }
                    online[index].toggle()
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...40, using: &random)))
                }
                for (index, agent) in agents.enumerated() where !online[index] { agent.start() }
            }
            try await group.waitForAll()
        }

        try await eventually("every outbox is empty", seconds: 120) {
            for store in stores where try await Township(store: store).outbox().unsent > 0 { return false }
            return true
        }
        let versions = try await coordinator.county.store.versionCounts(kind: .ballot)
        #expect(versions.count == names.count * ballots, "every ballot is at the coordinator")
        #expect(versions.values.allSatisfy { $0 == 1 }, "and exactly once")
        let status = try await coordinator.county.status()
        #expect(status.townships.count == 17)
        #expect(status.townships.allSatisfy { $0.ballots == ballots && $0.findings == findings })
        for (name, store) in zip(names, stores) {
            // Pulled versions are numbered in the same change log, so the checkpoint is the seq
            // of the township's own last change, not a count.
            let lastOwn = try await store.read { try $0.outbox(of: name, after: 0, limit: 10_000).last?.seq }
            #expect(status.townships.first { $0.node == name }?.checkpoint == lastOwn)
        }
        #expect(status.totals.openConflicts == 0)
        // Findings are county-wide: every office converges on all of them.
        try await eventually("every township holds all \(17 * findings) findings", seconds: 60) {
            for store in stores where try await store.read({ try $0.currentRecords(kind: .finding) }).count < 17 * findings { return false }
            return true
        }
        for agent in agents { await agent.stop() }
        await coordinator.stop()
    }
}
