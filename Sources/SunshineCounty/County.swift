import Foundation
import SunshineModel
import SunshineStore

/// The county's replication core over its store (DESIGN §3.3–3.7): what `hello`, `push`, `pull` and
/// the operator methods do, in domain terms and without sockets. It takes decoded, validated
/// records and typed identities and answers with domain outcomes; the coordinator's RPC responder
/// alone turns those into frames.
public struct County: Sendable {
    public let store: any ReplicaStore
    public let presence: Presence
    /// What operators should notice, newest last; `status` returns the latest.
    public let events: CountyEvents
    private let clock: @Sendable () -> Date

    public init(
        store: any ReplicaStore, presence: Presence = Presence(), events: CountyEvents = CountyEvents(),
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.presence = presence
        self.events = events
        self.clock = clock
    }

    // MARK: Connections

    /// A node's connection completed its handshake: it is online, and a township coming online is an event.
    public func connected(_ identity: NodeIdentity) {
        if presence.connected(identity), identity.role == .agent {
            events.record(.connected, at: clock(), township: identity.node, "\(identity.node) connected")
        }
    }

    /// A node's connection closed: a township left with no connection is offline, an event.
    public func disconnected(_ identity: NodeIdentity) {
        if presence.disconnected(identity.node), identity.role == .agent {
            events.record(.offline, at: clock(), township: identity.node, "\(identity.node) went offline")
        }
    }

    // MARK: Agents

    /// An agent store says hello: what the county holds of it, and — when the agent's pull position
    /// is not in the county's log as the agent saw it (the county was restored from a backup, or a
    /// VM snapshot rolled back) — where it must pull from again (DESIGN §3.3, §3.5).
    public func hello(_ agent: AgentSession, pulled: PullPosition?) async throws -> Welcome {
        let now = Int64(clock().timeIntervalSince1970 * 1000)
        return try await store.write { tx in
            let known = try tx.agentStore(node: agent.node, store: agent.store)
            var held = known ?? AgentStore(node: agent.node, store: agent.store, checkpoint: 0, checkpointHead: nil, lastHello: now)
            held.lastHello = now
            try tx.saveAgentStore(held)
            if known == nil {
                // A store a closure names is never forgotten: the round's papers are judged by it.
                try tx.keepNewestStores(of: agent.node, count: AgentStore.maxPerNode, keeping: Self.storesNamedInClosures(of: agent.node, in: tx))
            }
            var pullFrom: Int64?
            if let pulled, pulled.upto > 0, try tx.head(at: pulled.upto) != pulled.head {
                // The log the agent pulled is not this one: 0 is the one position both surely share.
                pullFrom = 0
            }
            return Welcome(checkpoint: held.checkpoint, checkpointHead: held.checkpointHead, pullFrom: pullFrom)
        }
    }

    /// The highest change-log sequence number of an agent store the county holds durably, with
    /// every change before it.
    public func checkpoint(of agent: AgentSession) async throws -> Int64 {
        try await store.read { try $0.agentStore(node: agent.node, store: agent.store)?.checkpoint ?? 0 }
    }

    /// Applies a batch from an agent store and its checkpoint in one transaction; answers after
    /// commit. A batch that does not continue from the durable checkpoint is refused whole, so the
    /// checkpoint only ever advances over contiguous, committed batches (DESIGN §3.3). Refused
    /// versions are answered as rejected and held aside, never discarded (§3.5).
    ///
    /// `queued` is called once the push has its place among the store's writes: a push begun after
    /// it applies after this one (``ReplicaStore/write(_:queued:)``), so the next push of a window
    /// need not wait for this one's commit — and if this one fails, the next finds the checkpoint
    /// where it was and is refused as out of order.
    public func push(_ batch: PushBatch, from agent: AgentSession, queued: @escaping @Sendable () -> Void = {}) async throws -> PushOutcome {
        guard batch.entries.count <= Replication.maxPushRecords else {
            throw CountyError.invalid("A push carries at most \(Replication.maxPushRecords) records; send smaller batches.")
        }
        guard batch.after >= 0, batch.upto >= batch.after else {
            throw CountyError.invalid("after and upto must be change-log sequence numbers with after ≤ upto.")
        }
        // The checkpoint is what the agent trusts at its next hello: it moves only over records
        // and with the agent's own log head there, which the agent checks against its log — so no
        // push can make a township believe changes arrived that never did.
        if batch.upto > batch.after {
            guard !batch.entries.isEmpty else {
                throw CountyError.invalid("A push of no records cannot move the checkpoint: upto must equal after; nothing was applied.")
            }
            guard let head = batch.head, LogChain.isHead(head) else {
                throw CountyError.invalid(
                    "A push that moves the checkpoint names the agent's log head at upto (head: 64 lower-case hex digits); nothing was applied.")
            }
        }
        let now = clock()
        let at = now.formatted(.iso8601)
        let outcome = try await store.write({ tx in
            var held = try tx.agentStore(node: agent.node, store: agent.store)
                ?? AgentStore(node: agent.node, store: agent.store, checkpoint: 0, checkpointHead: nil, lastHello: 0)
            guard batch.after == held.checkpoint else { throw CountyError.outOfOrder(checkpoint: held.checkpoint) }
            var outcome = PushOutcome(upto: batch.upto)
            // Whether a ballot reached the county after its round closed, asked once per round.
            var lateness = Lateness(tx: tx, store: agent.store, after: batch.after, upto: batch.upto)
            func refuse(_ key: String, _ township: String, _ error: RecordError, _ version: String) throws {
                outcome.rejected.append(.init(key: key, error: error))
                try tx.holdAside(Refusal(
                    node: agent.node, store: agent.store, key: key, township: township, reason: error.reason, message: error.message, at: at,
                    version: version
                ))
            }
            for entry in batch.entries {
                let record: Record
                switch entry {
                case .unreadable(let key, let error, let json):
                    try refuse(key, agent.node, error, CanonicalJSON.string(json))
                    continue
                case .record(let valid):
                    record = valid
                }
                // A version the county holds already is a duplicate, whoever sends it back — an
                // agent returning the county's own versions after a restore included.
                let late = try lateness.isLate(record)
                let offered = try tx.offer(record, flag: late ? .roundClosed : nil, source: agent.store) { held throws(RecordError) in
                    try Authorization.checkPush(record, by: agent.node, held: held)
                    // A closed round's result is final: a late paper is kept, quarantined and not
                    // counted, but a correction or void of a paper the county holds would change
                    // what was counted at the close, so it is held aside for the operators instead.
                    if late && !held.isEmpty {
                        throw .roundClosed(
                            "its round is closed and the result final; this change to a paper recorded before the close is held aside, not applied")
                    }
                }
                let decision: ApplyDecision
                switch offered {
                case .duplicate:
                    outcome.duplicates += 1
                    continue
                case .refused(let error):
                    try refuse(record.key, record.township, error, record.canonical)
                    // A closure that cannot be written again stays held aside; the push goes on,
                    // or the township could never re-send its papers.
                    do {
                        if let written = try Self.closeAgain(returned: record, by: agent.node, in: tx) {
                            outcome.audience.add(written.record, source: nil)
                            outcome.reclosed.append(written)
                        }
                    } catch let error as CountyError {
                        outcome.notReclosed.append("\(record.key) held aside; its closures were not taken back: \(error)")
                    }
                    continue
                case .applied(let applied):
                    decision = applied
                }
                switch decision {
                case .duplicate:
                    outcome.duplicates += 1
                    continue
                case _ where late:
                    outcome.rejected.append(.init(key: record.key, error: .roundClosed("the round is closed; the ballot is kept, quarantined and not counted")))
                case .replaces, .obsolete:
                    outcome.accepted += 1
                case .concurrent, .integrityConflict:
                    outcome.conflicts += 1
                    outcome.conflicted.append(record.key)
                }
                outcome.audience.add(record, source: agent.store)
            }
            if batch.upto != held.checkpoint || batch.head != nil { held.checkpointHead = batch.head }
            held.checkpoint = batch.upto
            try tx.saveAgentStore(held)
            outcome.logUpto = try tx.latestSeq()
            return outcome
        }, queued: queued)
        record(outcome, from: agent.node, at: now)
        for message in outcome.notReclosed {
            events.record(.refused, at: now, township: agent.node, message)
        }
        for written in outcome.reclosed {
            let id = Contest.id(ofKey: written.record.key)
            for round in written.closed {
                events.record(
                    .roundClosed, at: now, township: agent.node, "round \(round) of \(id) closed again from \(agent.node)'s copy of its contest")
            }
        }
        return outcome
    }

    /// The events of a committed push: conflicts opened and versions held aside, one event per key
    /// when a push brings few and one per reason when it brings many, so one push cannot flush
    /// the ring.
    private func record(_ outcome: PushOutcome, from node: String, at now: Date) {
        if outcome.accepted + outcome.conflicts > 0 || !outcome.rejected.isEmpty { events.changed(at: now) }
        if outcome.conflicted.count == 1, let key = outcome.conflicted.first {
            events.record(.conflict, at: now, township: node, key: key, "conflict on \(key): \(node)'s version kept beside the one held")
        } else if outcome.conflicted.count > 1 {
            events.record(.conflict, at: now, township: node, "\(outcome.conflicted.count) conflicts from \(node), e.g. \(outcome.conflicted[0])")
        }
        for (reason, refused) in Dictionary(grouping: outcome.rejected, by: \.error.reason).sorted(by: { $0.key < $1.key }) {
            let kind: CountyEvent.Kind = reason == "round_closed" ? .quarantined : .refused
            if refused.count == 1, let one = refused.first {
                let message = kind == .quarantined
                    ? "late ballot \(one.key) quarantined: its round is closed"
                    : "\(node)'s \(one.key) held aside (\(reason)): \(one.error.message)"
                events.record(kind, at: now, township: node, key: one.key, message)
            } else {
                let what = kind == .quarantined ? "late ballots quarantined (round closed)" : "versions held aside (\(reason))"
                events.record(kind, at: now, township: node, "\(refused.count) of \(node)'s \(what), e.g. \(refused[0].key)")
            }
        }
    }

    /// Versions meant for a township's store after `since`, in the county's order, in a page of at
    /// most `limit` versions and about `maxBytes` bytes of records (always at least one version),
    /// with the log's hash-chain head at the position the page brings the agent to.
    public func pull(since: Int64, limit requested: Int?, maxBytes: Int, for reader: Routing.Reader) async throws -> PullPage {
        guard since >= 0 else { throw CountyError.invalid("since must be a coordinator sequence number (0 or more).") }
        let limit = min(max(requested ?? PullPage.defaultLimit, 1), PullPage.maxLimit)
        return try await store.read { snapshot in
            let latest = try snapshot.latestSeq()
            let versions = try snapshot.changes(after: since, for: reader, limit: limit)
            let fitted = Self.fitting(versions, in: maxBytes) { $0.record.canonical.utf8.count + 1 }
            let page = fitted.items.map(\.record)
            let more = fitted.more || versions.count == limit
            // When the page is cut short, the agent is at its last version; otherwise it has seen
            // everything up to the newest sequence number, including versions not meant for it. A
            // position beyond the log (from before a restore) comes back to the log's end.
            let upto = more ? versions[page.count - 1].seq : (since > latest ? latest : max(latest, since))
            return PullPage(records: page, upto: upto, head: try snapshot.head(at: upto) ?? LogChain.origin, more: more)
        }
    }

    // MARK: Operators

    public func status() async throws -> CountyStatus {
        let presence = Dictionary(self.presence.all.map { ($0.node, $0) }, uniquingKeysWith: { first, _ in first })
        let (counts, stores, conflicts, quarantined, refusals, seq, findings) = try await store.read { reader in
            (
                try reader.counts(),
                try reader.agentStores(),
                try reader.openConflictCounts(),
                try reader.quarantinedCount(),
                try reader.refusalCounts(),
                try reader.latestSeq(),
                try reader.currentValues(kind: .finding)
            )
        }
        var openFindings: [String: [Finding.Severity: Int]] = [:]
        for current in findings where !current.value.deleted {
            guard let finding = try? RecordRules.finding(current.value.data), finding.status == .open || finding.status == .investigating else {
                continue
            }
            openFindings[current.value.township, default: [:]][finding.severity, default: 0] += 1
        }
        // A node's newest store (the one that said hello last) is the one whose progress matters.
        var newest: [String: AgentStore] = [:]
        for store in stores where store.lastHello >= (newest[store.node]?.lastHello ?? .min) { newest[store.node] = store }
        let agents = Set(presence.values.filter { $0.role == .agent }.map(\.node))
            .union(newest.keys).union(counts.keys.filter { $0 != RecordRules.countyScope })
        let townships = agents.sorted().map { node in
            CountyStatus.Township(
                node: node,
                online: presence[node]?.online ?? false,
                lastSeen: presence[node]?.lastSeen,
                store: newest[node]?.store,
                checkpoint: newest[node]?.checkpoint ?? 0,
                reportedSeq: presence[node]?.reportedSeq,
                outbox: presence[node]?.reportedOutbox,
                ballots: counts[node]?[.ballot] ?? 0,
                findings: counts[node]?[.finding] ?? 0,
                conflicts: conflicts[node] ?? 0,
                rejected: refusals[node] ?? 0,
                openFindings: openFindings[node] ?? [:]
            )
        }
        let sum = { (kind: RecordKind) in counts.values.reduce(0) { $0 + ($1[kind] ?? 0) } }
        return CountyStatus(
            townships: townships,
            totals: .init(
                townships: townships.count, online: townships.filter(\.online).count, ballots: sum(.ballot), findings: sum(.finding),
                contests: sum(.contest), openConflicts: conflicts.values.reduce(0, +), quarantined: quarantined,
                rejected: refusals.values.reduce(0, +), seq: seq, lastChange: events.lastChange
            ),
            events: events.latest(CountyStatus.eventLimit)
        )
    }

    public func tally(contest: String? = nil, round: String? = nil) async throws -> [RoundTally] {
        let (contests, groups, closed) = try await store.read { reader in
            (try reader.currentValues(kind: .contest).map(\.value), try reader.ballotGroups(contest: contest, round: round), try reader.closedRounds())
        }
        let closedKeys = Set(closed.map { Tally.roundKey(contest: $0.contest, round: $0.round) })
        return Tally.compute(contests: contests, groups: groups, closedRounds: closedKeys, contest: contest, round: round)
    }

    /// Open conflicts, oldest first, as many as `maxBytes` holds (the first always), and whether
    /// more are open: an answer never exceeds the operator's frame.
    public func conflicts(maxBytes: Int = .max) async throws -> (conflicts: [OpenConflict], more: Bool) {
        let open = try await store.read { try $0.openConflicts() }
        let fitted = Self.fitting(open, in: maxBytes) { conflict in
            ([conflict.current] + conflict.siblings).reduce(Self.entryOverhead) { $0 + $1.canonical.utf8.count }
        }
        return (fitted.items, fitted.more)
    }

    /// Versions held aside because they were refused, newest first — with `before`, those held
    /// before that one — as many as `limit` and `maxBytes` hold, and whether more are held.
    public func rejected(township: String?, before: Int64? = nil, limit requested: Int?, maxBytes: Int = .max) async throws -> (refusals: [Refusal], more: Bool) {
        let limit = min(max(requested ?? 100, 1), 1_000)
        let held = try await store.read { try $0.refusals(township: township, before: before, limit: limit + 1) }
        let fitted = Self.fitting(Array(held.prefix(limit)), in: maxBytes) { Self.entryOverhead + $0.version.utf8.count + $0.message.utf8.count }
        return (fitted.items, fitted.more || held.count > limit)
    }

    /// Bytes an answer's entry takes besides its records: its key, names, reason and time.
    public static let entryOverhead = 1_024

    /// The first of `items` whose sizes add up to at most `maxBytes` — the first always, so an
    /// answer always makes progress — and whether any were left out.
    static func fitting<Item>(_ items: [Item], in maxBytes: Int, size: (Item) -> Int) -> (items: [Item], more: Bool) {
        var bytes = 0
        var count = 0
        for item in items {
            bytes += size(item)
            if count > 0 && bytes > maxBytes { break }
            count += 1
        }
        return (Array(items.prefix(count)), count < items.count)
    }

    /// Writes a version as the county: the join of what it holds — and of what it holds aside for
    /// the key, which an operator re-publishing a record has seen (`rejected`) — its own entry
    /// incremented. So re-publishing a record after a restore supersedes the township edits and
    /// the county's own lost versions that agents returned, and every replica converges.
    public func put(kind: RecordKind, key: String, data: JSONValue, deleted: Bool) async throws -> Written {
        guard kind != .ballot else { throw Self.ballotsAreTheTownships }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3 else { throw CountyError.invalid("The key \"\(key)\" is not kind/scope/….") }
        let written = try await write(kind: kind, key: key, township: String(segments[1]), deleted: deleted) { held in
            // Checked on the version the write builds on, in its transaction.
            guard kind == .contest, let contest = try? RecordRules.contest(data), let held, !held.value.deleted,
                let before = try? RecordRules.contest(held.value.data), before.township != contest.township
            else { return data }
            throw CountyError.invalid(
                "\(key) is \(before.township)'s contest; a contest never moves to another township (its ballots would stop counting). "
                    + "Publish \(contest.township)'s contest under a new id.")
        }
        if kind == .contest, let contest = try? RecordRules.contest(data) {
            let id = Contest.id(ofKey: key)
            events.record(.published, at: clock(), township: contest.township, key: key, "contest \(id) published for \(contest.township): \(contest.title)")
            for round in written.closed {
                events.record(.roundClosed, at: clock(), township: contest.township, "round \(round) of \(id) closed")
            }
        } else {
            events.changed(at: clock())
        }
        return written
    }

    /// Ends an open conflict with a version whose clock dominates every sibling.
    public func resolve(key: String, data: JSONValue) async throws -> Written {
        let current = try await store.read { try $0.current(of: key) }
        guard let current, current.inConflict else {
            throw CountyError.invalid("\(key) has no open conflict; use put to edit it.")
        }
        guard current.value.kind != .ballot else { throw Self.ballotsAreTheTownships }
        let written = try await write(kind: current.value.kind, key: key, township: current.value.township, deleted: false) { _ in data }
        events.record(.resolved, at: clock(), township: current.value.township, key: key, "conflict on \(key) resolved by the county")
        return written
    }

    private static let ballotsAreTheTownships = CountyError.forbidden(
        "A ballot is its township's alone: the county never writes one. The township corrects or voids a paper with `sunshine ballot correct` or `sunshine ballot void`."
    )

    /// Closes a round: the contest gets a new county version listing it closed with each of its
    /// township's stores' checkpoints now, so the closure reaches the township like any county
    /// record — and comes back from there to a coordinator restored from an older copy, which then
    /// still knows which papers were in time. Closing a round closed already never raises its
    /// checkpoints: it holds each to what the county holds of that store now where that is less —
    /// which changes nothing of a closure the county made itself (checkpoints only grow), and ends
    /// one a township's copy claimed beyond what the county ever received (the third attack round's
    /// repro-1). Returns whether the round was newly closed, and the version written if any.
    ///
    /// Unless `evenIfBehind`, a round is closed (or held to the county's checkpoints) only once
    /// every store of its township heard from this week has reported since this coordinator started
    /// that the county holds everything it sent: a coordinator restored from a backup gets the
    /// papers it lost back from the township after its hello, and a close before that would judge
    /// them late (docs/replication.md, "Round closures").
    public func closeRound(contest: String, round: String, evenIfBehind: Bool = false) async throws -> (newlyClosed: Bool, written: Written?) {
        let key = Contest.key(contest)
        let presence = presence
        let now = clock()
        let written: Written? = try await store.write { tx in
            guard let held = try tx.current(of: key), !held.value.deleted, let definition = try? RecordRules.contest(held.value.data) else {
                throw CountyError.invalid("There is no contest \(contest); publish it with `sunshine contest publish` first.")
            }
            guard definition.rounds.contains(round) else {
                throw CountyError.invalid("Contest \(contest) has no round \(round); its rounds are \(definition.rounds.joined(separator: ", ")).")
            }
            let stores = try tx.agentStores().filter { $0.node == definition.township }
            func requireCaughtUp() throws {
                guard !evenIfBehind, let behind = Self.storesBehind(among: stores, at: now, presence: presence).first else { return }
                let heard = Date(timeIntervalSince1970: Double(behind.lastHello) / 1000).formatted(.iso8601)
                throw CountyError.invalid(
                    "\(definition.township)'s store \(behind.store) (last hello \(heard)) has not reported an empty outbox since the coordinator started, so ballots it sent before may not be here yet (after a restore from a backup it sends them again), and closing now would count them late. Close once `sunshine status` shows \(definition.township) with outbox 0, or close now with --even-if-behind."
                )
            }
            var closing = definition
            closing.closed = try Self.heldClosures(of: contest, in: definition, tx: tx)
            if let atClose = definition.closed[round] {
                let holds = Dictionary(stores.map { ($0.store, $0.checkpoint) }, uniquingKeysWith: max)
                let bounded = Dictionary(uniqueKeysWithValues: atClose.map { ($0.key, min($0.value, holds[$0.key] ?? 0)) })
                if bounded == atClose { return nil }
                try requireCaughtUp()
                closing.closed[round] = bounded
            } else if closing.closed[round] == nil {
                try requireCaughtUp()
                // A store the county holds nothing of lets nothing in (``Contest/paperIsLate``); of
                // the others, the ones heard from last, as many as a closure may name — so a township
                // saying hello from store after store cannot make its round impossible to close.
                let named = stores.filter { $0.checkpoint > 0 }.sorted { ($0.lastHello, $0.store) > ($1.lastHello, $1.store) }
                    .prefix(Contest.maxClosureStores)
                closing.closed[round] = Dictionary(named.map { ($0.store, $0.checkpoint) }, uniquingKeysWith: max)
            }
            // (A round closed before closures carried checkpoints is written into the record, with none.)
            return try Self.writeAsCounty(kind: .contest, key: key, township: RecordRules.countyScope, data: closing.closures(into: held.value.data), in: tx)
        }
        let township = written.flatMap { try? RecordRules.contest($0.record.data) }?.township
        let newlyClosed = written?.closed.contains(round) ?? false
        if let township {
            let message = newlyClosed ? "round \(round) of \(contest) closed" : "round \(round) of \(contest): its closure held to what the county holds of each store"
            events.record(.roundClosed, at: clock(), township: township, message)
        }
        return (newlyClosed, written)
    }

    /// Those of a township's `stores` that may hold changes the county lost — they said hello in
    /// the week before `now` (a store silent for longer is a PC gone or rebuilt) — and have not
    /// reported an empty outbox since this coordinator started. A store the county holds at
    /// checkpoint 0 may have pushed after the backup it was restored from, so it is waited for too.
    static func storesBehind(among stores: [AgentStore], at now: Date, presence: Presence) -> [AgentStore] {
        let since = Int64((now.timeIntervalSince1970 - 7 * 24 * 3600) * 1000)
        return stores.filter { $0.lastHello >= since && !presence.hasCaughtUp(AgentSession(node: $0.node, store: $0.store)) }
            .sorted { ($0.lastHello, $0.store) > ($1.lastHello, $1.store) }
    }

    private func write(kind: RecordKind, key: String, township: String, deleted: Bool, data: @escaping @Sendable (CurrentRecord?) throws -> JSONValue) async throws -> Written {
        try await store.write { tx in
            let current = try tx.current(of: key)
            var value = try data(current)
            if kind == .contest && !deleted { value = try Self.publishable(value, key: key, current: current, in: tx) }
            return try Self.writeAsCounty(kind: kind, key: key, township: township, data: value, deleted: deleted, in: tx)
        }
    }

    /// Writes a version as the county in `tx`, over what it holds for the key and what it holds
    /// aside for it. The rounds a contest version lists closed are indexed for the push path and
    /// the tally in the same transaction, so the record every replica receives and the county's
    /// rule agree.
    static func writeAsCounty(
        kind: RecordKind, key: String, township: String, data: JSONValue, deleted: Bool = false, over extra: VersionVector = VersionVector(),
        in tx: any StoreTransaction
    ) throws -> Written {
        // The version supersedes what the county holds aside for the record from nodes that hold
        // it, where those are valid versions. Should that clock make the record unwritable (a
        // township sending a clock of many actors), the version builds on what the county holds:
        // another node's junk never stops the county writing a record.
        let refused = try tx.refusals(key: key).compactMap { refusal -> VersionVector? in
            guard Routing.isMeant(kind: kind, scope: township, for: refusal.node), let record = try? Record(json: JSONParser.parse(refusal.version)),
                (try? RecordRules.validate(record)) != nil, record.clock.counters.values.allSatisfy({ $0 < RecordRules.maxClockCounter })
            else { return nil }
            return record.clock
        }
        do {
            let over = VersionVector.join(refused + [extra])
            let record: Record
            do {
                record = try tx.write(kind: kind, key: key, township: township, data: data, deleted: deleted, at: Date(), over: over)
            } catch is RecordError where over != extra {
                record = try tx.write(kind: kind, key: key, township: township, data: data, deleted: deleted, at: Date(), over: extra)
            }
            // The index follows the record written, so a version that cannot be written closes nothing.
            var newlyClosed: [String] = []
            if kind == .contest, !deleted, let contest = try? RecordRules.contest(data) {
                let id = Contest.id(ofKey: key)
                for round in contest.rounds where contest.closed[round] != nil {
                    if try tx.closeRound(contest: id, round: round) { newlyClosed.append(round) }
                }
            }
            return Written(record: record, audience: Audience([record]), logUpto: try tx.latestSeq(), closed: newlyClosed)
        } catch let error as RecordError {
            throw CountyError.invalid("The record was not written: \(error.message).")
        }
    }
}
