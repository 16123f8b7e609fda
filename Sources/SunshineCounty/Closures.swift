import Foundation
import SunshineModel
import SunshineStore

// Closing a round (DESIGN §3.3 `closeRound`): one-way, the county's own act, and carried in the
// contest's record with each of its township's stores' checkpoints at the close, so that a
// coordinator restored from an older copy takes the closure back from the township and still
// knows which papers were at the county in time (docs/replication.md, "Round closures").

/// Whether the ballots of one push reached the county after their round closed: asked of each
/// ballot, read once per contest and round of the batch.
struct Lateness {
    let tx: any StoreTransaction
    /// The agent store the batch came from, and the changes of it the batch carries.
    let store: String
    let after: Int64
    let upto: Int64
    private var closed: [ClosedRound: Bool] = [:]
    private var contests: [String: Contest?] = [:]

    init(tx: any StoreTransaction, store: String, after: Int64, upto: Int64) {
        self.tx = tx
        self.store = store
        self.after = after
        self.upto = upto
    }

    /// Asked of a version the county does not hold (a duplicate changes nothing).
    mutating func isLate(_ record: Record) throws -> Bool {
        guard record.kind == .ballot, let paper = Ballot.contestAndRound(ofKey: record.key) else { return false }
        let round = ClosedRound(contest: paper.contest, round: paper.round)
        if closed[round] == nil { closed[round] = try tx.isRoundClosed(contest: paper.contest, round: paper.round) }
        guard closed[round] == true else { return false }
        if contests[paper.contest] == nil {
            let current = try tx.current(of: Contest.key(paper.contest))
            contests[paper.contest] = current.flatMap { $0.value.deleted ? nil : try? RecordRules.contest($0.value.data) }
        }
        // A closure from before closures carried checkpoints: every paper arriving now is late.
        guard let contest = contests[paper.contest] ?? nil, contest.closed[paper.round] != nil else { return true }
        let tx = tx
        return try contest.paperIsLate(round: paper.round, written: record.written, store: store, after: after, upto: upto) { writer in
            try tx.agentStore(node: record.township, store: writer)?.checkpoint ?? 0
        }
    }
}

extension County {
    /// The closures the county holds of contest `id`: those its current version lists, and any
    /// round its index holds closed from before closures travelled in the record (with no
    /// checkpoints: every paper of it that arrives now is late).
    static func heldClosures(of id: String, in current: Contest?, tx: any StoreTransaction) throws -> [String: [String: Int64]] {
        var closures = current?.closed ?? [:]
        for closed in try tx.closedRounds() where closed.contest == id && closures[closed.round] == nil {
            closures[closed.round] = [:]
        }
        return closures
    }

    /// The stores of `township` whose checkpoints a closure of one of its contests holds.
    static func storesNamedInClosures(of township: String, in tx: any StoreTransaction) throws -> Set<String> {
        var stores: Set<String> = []
        for id in Set(try tx.closedRounds().map(\.contest)) {
            guard let current = try tx.current(of: Contest.key(id)), !current.value.deleted,
                let contest = try? RecordRules.contest(current.value.data), contest.township == township
            else { continue }
            for checkpoints in contest.closed.values { stores.formUnion(checkpoints.keys) }
        }
        return stores
    }

    /// Contest data an operator publishes (`put`, `resolve`) as the county writes it. Closing is
    /// one-way and the county's own act (`closeRound`): the data may neither close nor reopen a
    /// round, nor leave a closed round out of its rounds. The version keeps every closure the
    /// county holds, and takes back those the county lost in a restore that the contest's own
    /// township returned (held aside, `rejected`): re-publishing the contest from there heals it.
    static func publishable(_ data: JSONValue, key: String, current: CurrentRecord?, in tx: any StoreTransaction) throws -> JSONValue {
        // Data that is no contest is refused by the write, with its reason.
        guard let contest = try? RecordRules.contest(data) else { return data }
        let id = Contest.id(ofKey: key)
        let before = current.flatMap { $0.value.deleted ? nil : try? RecordRules.contest($0.value.data) }
        let held = try heldClosures(of: id, in: before, tx: tx)
        if let round = contest.closed.keys.sorted().first(where: { held[$0] != contest.closed[$0] }) {
            throw CountyError.invalid(
                "The contest data sets round \(round) closed; a round is closed with `sunshine close-round`, not by publishing. Leave closed out.")
        }
        if let round = held.keys.sorted().first(where: { !contest.rounds.contains($0) }) {
            throw CountyError.invalid(
                "Round \(round) of \(id) is closed, and a closed round stays in its contest: publish \(id) with \(round) among its rounds.")
        }
        var publishing = contest
        publishing.closed = held
        for (round, checkpoints) in try returnedClosures(of: key, township: contest.township, in: tx)
        where publishing.closed[round] == nil && contest.rounds.contains(round) {
            publishing.closed[round] = checkpoints
        }
        return publishing.closures(into: data)
    }

    /// The closures in the county's own versions of a contest that its township returned after a
    /// restore and the county holds aside.
    private static func returnedClosures(of key: String, township: String, in tx: any StoreTransaction) throws -> [String: [String: Int64]] {
        var closures: [String: [String: Int64]] = [:]
        for refusal in try tx.refusals(key: key) where refusal.node == township {
            guard let record = try? Record(json: JSONParser.parse(refusal.version)), isCountyVersion(record),
                let returned = try? RecordRules.contest(record.data), returned.township == township
            else { continue }
            closures = Contest.join(closures, returned.closed)
        }
        return closures
    }

    /// A county version of a contest that the contest's own township returns (after a restore,
    /// DESIGN §3.5) is held aside like every returned county version — but a round it lists closed
    /// that the county does not hold closed is closed again at once, with the checkpoints it
    /// carries: closing is one-way, and the township's word reaches only its own contest, whose
    /// ballots are its own already; a round the county holds closed keeps the county's own
    /// checkpoints. The version written builds on the returned one when the county does not descend
    /// from it, so it supersedes it on every replica; what else it said stays held aside.
    static func closeAgain(returned record: Record, by node: String, in tx: any StoreTransaction) throws -> Written? {
        guard isCountyVersion(record), !record.deleted, let returned = try? RecordRules.contest(record.data), returned.township == node,
            !returned.closed.isEmpty, let current = try tx.current(of: record.key), !current.value.deleted,
            let held = try? RecordRules.contest(current.value.data), held.township == node
        else { return nil }
        var closing = held
        closing.closed = try heldClosures(of: Contest.id(ofKey: record.key), in: held, tx: tx)
        for (round, checkpoints) in returned.closed where closing.closed[round] == nil && held.rounds.contains(round) {
            closing.closed[round] = checkpoints
        }
        let descends = [.before, .equal].contains(record.clock.compare(current.value.clock))
        guard closing.closed != held.closed || !descends else { return nil }
        return try writeAsCounty(
            kind: .contest, key: record.key, township: RecordRules.countyScope, data: closing.closures(into: current.value.data),
            over: record.clock, in: tx)
    }

    /// Whether `record` claims to be a version the county wrote: a contest, by the county, under
    /// county actors only.
    private static func isCountyVersion(_ record: Record) -> Bool {
        record.kind == .contest && record.origin == Authorization.countyNode
            && record.clock.counters.keys.allSatisfy { Actor.node(of: $0) == Authorization.countyNode }
    }
}
