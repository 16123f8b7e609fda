import Foundation
import SunshineCounty
import SunshineModel
import SunshineStore
import SunshineTestSupport
import SunshineTownship
import Synchronization
import Testing

/// A seeded property test of the whole replication core (DESIGN §3.5–3.6): 17 townships and a
/// county on in-memory stores, driven through a random schedule of clerks' writes, operators'
/// puts, sync sessions over a link that loses answers and reorders pushes, commits that fail,
/// agents that restart, township stores rebuilt empty, a county that restarts or is restored
/// from a backup taken at a random moment. After healing: nothing any township stored is missing
/// at the county (in history or held aside), every county record is at every township, every
/// replica shows the same state for every key, and the tally equals an independent count.
@Suite struct FaultScheduleTests {
    @Test(arguments: 0..<200)
    func aSeededScheduleOfFaultsLosesNothing(seed: UInt64) async throws {
        var world = try await World(seed: seed)
        for _ in 0..<60 { try await world.step() }
        try await world.heal()
        try await world.checkInvariants()
    }
}

/// What a schedule has done, and what it must find afterwards.
private struct World {
    static let townships = NodeName.townships(17)
    var random: SeededRandom
    let seed: UInt64
    let directory: String
    var countyBase: InMemoryStore
    var faults: FaultyStore
    var county: County
    var offices: [String: Township] = [:]
    /// Backups of the county that a restore may bring back (only those taken since the last
    /// township store was rebuilt: a rebuilt PC's earlier versions are then safe at the county).
    var backups: [String] = []
    /// Every version a township's clerks wrote, by canonical form: none may be missing at the end.
    var written: [String: Record] = [:]
    /// The current paper of every ballot key, for the independent count.
    var papers: [String: (township: String, ballot: Ballot, voided: Bool)] = [:]
    var nextSerial: [String: Int64] = [:]

    init(seed: UInt64) async throws {
        self.seed = seed
        random = SeededRandom(seed: seed &* 0x9E37_79B9 &+ 17)
        directory = NSTemporaryDirectory() + "sunshine-schedule-\(seed)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        countyBase = InMemoryStore(node: "coordinator")
        faults = FaultyStore(countyBase)
        county = County(store: faults)
        for township in Self.townships {
            offices[township] = Township(store: InMemoryStore(node: township))
            _ = try await county.put(kind: .contest, key: Contest.key("c-\(township)"), data: contest(for: township).json, deleted: false)
        }
    }

    private mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &random)! }
    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    // MARK: The schedule

    mutating func step() async throws {
        let township = pick(Self.townships)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<30: try await clerkWrites(at: township)
        case 30..<38: try await operatorWrites()
        case 38..<75: await sync(township, faulty: true)
        case 75..<80: faults.failCommit(Int.random(in: 1...4, using: &random))
        case 80..<85: try await offices[township]!.store.write { try $0.beginIncarnation() }  // the agent restarts
        case 85..<89: try await rebuild(township)
        case 89..<93:
            let path = directory + "/county-\(backups.count).backup"
            try await countyBase.backup(to: path)
            backups.append(path)
        case 93..<96: try await restartCounty(from: nil)
        default:
            if let backup = backups.isEmpty ? nil : pick(backups) { try await restartCounty(from: backup) }
        }
    }

    private mutating func clerkWrites(at township: String) async throws {
        let office = offices[township]!
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:
                let serial = nextSerial[township, default: 0] + 1
                nextSerial[township] = serial
                let choices = Array(["cand-01", "cand-02", "cand-03", "cand-09"].shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)))
                let ballot = Ballot(contest: "c-\(township)", round: "vote-1", station: "s1", serial: serial, choices: choices, valid: chance(90))
                note(try await office.record(ballot), ballot: ballot, voided: false)
            case 6..<8:
                // A correction or a void of a paper this store holds.
                let held = try await office.store.read { try $0.currentValues(kind: .ballot) }.filter { !$0.value.deleted && $0.value.township == township }
                guard let paper = held.isEmpty ? nil : pick(held) else { continue }
                var ballot = try RecordRules.ballot(paper.value.data)
                let void = chance(30)
                ballot.choices = void ? ballot.choices : [pick(["cand-01", "cand-02", "cand-03"])]
                note(try await office.correct(paper.value.key, to: void ? nil : ballot, reason: "schedule \(seed)"), ballot: ballot, voided: void)
            default:
                let finding = Finding(team: "t", category: "c", severity: pick(Finding.Severity.allCases), status: pick(Finding.Status.allCases), title: "f \(Int.random(in: 0..<1000, using: &random))")
                note(try await office.write(finding, id: "f\(Int.random(in: 1...3, using: &random))"))
            }
        }
    }

    private mutating func note(_ record: Record, ballot: Ballot? = nil, voided: Bool = false) {
        written[record.canonical] = record
        if let ballot { papers[record.key] = (record.township, ballot, voided) }
    }

    private mutating func operatorWrites() async throws {
        let township = pick(Self.townships)
        let key = chance(50) ? "finding/\(township)/f\(Int.random(in: 1...3, using: &random))" : "finding/county/n\(Int.random(in: 1...5, using: &random))"
        let finding = Finding(team: "county", category: "c", severity: pick(Finding.Severity.allCases), status: pick(Finding.Status.allCases), title: "county \(Int.random(in: 0..<1000, using: &random))")
        _ = try? await county.put(kind: .finding, key: key, data: finding.json, deleted: chance(10))
    }

    /// A township PC rebuilt with an empty store — only once everything it wrote is durable at the
    /// county, and from then on no backup from before may be restored (that copy of the county and
    /// the old PC were the only ones holding some versions: both gone is a loss no system survives).
    private mutating func rebuild(_ township: String) async throws {
        guard try await offices[township]!.outbox().unsent == 0 else { return }
        let identity = try await offices[township]!.store.read { try $0.identity() }
        guard try await county.checkpoint(of: AgentSession(node: township, store: identity.storeID))
            == offices[township]!.store.read({ try $0.checkpoint("acked") }) else { return }
        offices[township] = Township(store: InMemoryStore(node: township))
        backups.removeAll()
    }

    /// The county's process restarts, on its store or on a backup brought back after a disk failure.
    private mutating func restartCounty(from backup: String?) async throws {
        if let backup { countyBase = try InMemoryStore(contentsOf: backup, node: "coordinator") }
        try await countyBase.write { try $0.beginIncarnation() }
        faults = FaultyStore(countyBase)
        county = County(store: faults)
    }

    /// One agent session: hello, push the outbox, then hello again and pull — over a link that, when
    /// `faulty`, may lose a push's answer or deliver two pushes in the wrong order. A failure ends
    /// the session, as it ends an agent's connection.
    mutating func sync(_ township: String, faulty: Bool) async {
        let office = offices[township]!
        let fault: LinkFault? = faulty ? (chance(15) ? .loseAnAnswer : chance(15) ? .reorder : nil) : nil
        var options = TownshipSync.Options()
        options.batch = Int.random(in: 1...6, using: &random)
        options.window = Int.random(in: 1...3, using: &random)
        options.pullLimit = Int.random(in: 1...40, using: &random)
        do {
            let (link, start) = try await DirectLink.connect(office, to: county)
            let sync = TownshipSync(township: office, link: FaultyLink(link, fault: fault), options: options)
            try await sync.run(start, outbox: once(), pull: never())
            let (pullLink, pullStart) = try await DirectLink.connect(office, to: county)
            try await TownshipSync(township: office, link: pullLink, options: options).run(pullStart, outbox: never(), pull: once())
        } catch {
            // The session ended; the next one starts over from what the county durably holds.
        }
    }

    // MARK: Healing and the invariants

    mutating func heal() async throws {
        faults.heal()
        try await syncEveryone(rounds: 3)
        // Operators re-publish what was held aside (DESIGN §3.5): the township edits refused after a
        // restore, and the county's own versions the townships returned.
        let aside = try await county.rejected(township: nil, limit: 1_000).refusals
        for key in Set(aside.map(\.key)) where !key.hasPrefix("ballot/") {
            let current = try await county.store.read { try $0.current(of: key) }?.value
            let version = try aside.last { $0.key == key }.map { try Record(json: JSONParser.parse($0.version)) }
            guard let data = current?.data ?? version?.data, let kind = current?.kind ?? version?.kind else { continue }
            _ = try await county.put(kind: kind, key: key, data: data, deleted: false)
        }
        try await syncEveryone(rounds: 2)
    }

    private mutating func syncEveryone(rounds: Int) async throws {
        for _ in 0..<rounds {
            for township in Self.townships { await sync(township, faulty: false) }
        }
    }

    func checkInvariants() async throws {
        let context = "seed \(seed)"
        let aside = Set(try await county.rejected(township: nil, limit: 1_000).refusals.map(\.version))
        // 1. Every version a township stored is at the county, in history or held aside.
        for (canonical, record) in written {
            let held = try await county.store.read { try $0.holds(record) }
            #expect(held || aside.contains(where: { CanonicalJSON.same($0, canonical) }), "\(context): \(record.key) \(record.clock) is missing at the county")
        }
        // 2 and 3. Every county record is at every township, and every replica shows the same state.
        let countyKeys = try await county.store.read { reader in
            try RecordKind.allCases.flatMap { try reader.currentRecords(kind: $0) }
        }
        for township in Self.townships {
            let office = offices[township]!
            let identity = try await office.store.read { try $0.identity() }
            let reader = Routing.Reader(township: township, store: identity.storeID)
            for state in countyKeys where Routing.isMeant(kind: state.value.kind, scope: state.value.township, for: reader.township) {
                let local = try await office.store.read { try $0.current(of: state.value.key) }
                #expect(local.map { Set($0.siblings) } == Set(state.siblings), "\(context): \(township) differs on \(state.value.key)")
                #expect(local?.value == state.value && local?.conflict == state.conflict, "\(context): \(township) shows another value of \(state.value.key)")
            }
            #expect(try await office.outbox().unsent == 0, "\(context): \(township) still has unsent changes")
        }
        // 4. The tally equals an independent count of the papers the clerks hold now.
        let tally = try await county.tally(round: "vote-1")
        for township in Self.townships {
            let contest = contest(for: township)
            var votes: [String: Int] = [:]
            var valid = 0
            var invalid = 0
            for (_, paper) in papers where paper.township == township && !paper.voided {
                if contest.counts(paper.ballot, from: township) {
                    valid += 1
                    for choice in paper.ballot.choices { votes[choice, default: 0] += 1 }
                } else {
                    invalid += 1
                }
            }
            let round = tally.first { $0.contest == "c-\(township)" }
            #expect(round?.valid ?? 0 == valid && round?.invalid ?? 0 == invalid && round?.quarantined ?? 0 == 0, "\(context): the tally of \(township)")
            for candidate in round?.candidates ?? [] {
                #expect(candidate.votes == votes[candidate.id] ?? 0, "\(context): \(candidate.id) in \(township)")
            }
        }
    }
}

/// What a faulty link does to one session's pushes.
private enum LinkFault: Error {
    /// A push is applied, but its answer never arrives.
    case loseAnAnswer
    /// A push is held back and delivered after the next one.
    case reorder
}

/// A link that loses one push's answer, or holds one push back until after the next, over a real
/// ``DirectLink`` to the county.
private actor FaultyLink: CountyLink {
    let base: DirectLink
    private var fault: LinkFault?
    private var held: (batch: OutboxBatch, answer: Answer)?

    init(_ base: DirectLink, fault: LinkFault?) {
        self.base = base
        self.fault = fault
    }

    func send(_ batch: OutboxBatch) async throws -> PendingReceipt {
        switch fault {
        case .loseAnAnswer:
            fault = nil
            let pending = await base.send(batch)
            return PendingReceipt {
                _ = try await pending.receipt()
                throw LinkFault.loseAnAnswer
            }
        case .reorder:
            fault = nil
            let answer = Answer()
            held = (batch, answer)
            return PendingReceipt {
                try await self.flush()
                return try await answer.wait()
            }
        case nil:
            let pending = await base.send(batch)
            try await flush()
            return pending
        }
    }

    /// Delivers a held-back push: after the one sent since, or alone when its answer is awaited.
    private func flush() async throws {
        guard let (batch, answer) = held else { return }
        held = nil
        let pending = await base.send(batch)
        answer.resolve(await Swift.Result { try await pending.receipt() })
    }

    func pull(since: Int64, limit: Int) async throws -> PulledPage {
        try await base.pull(since: since, limit: limit)
    }
}

/// An answer that arrives later, awaited by whoever asks first.
private final class Answer: Sendable {
    private let state = Mutex<(result: Swift.Result<PushReceipt, any Error>?, waiters: [CheckedContinuation<PushReceipt, any Error>])>((nil, []))

    func resolve(_ result: Swift.Result<PushReceipt, any Error>) {
        let waiters = state.withLock { state in
            state.result = result
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    func wait() async throws -> PushReceipt {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Swift.Result<PushReceipt, any Error>? in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

extension Swift.Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
