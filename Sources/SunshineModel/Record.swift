import Synchronization
/// The kinds of record protocol version 1 knows (DESIGN §3.4). More kinds are schema additions.
public enum RecordKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// One ballot paper; written by its township only.
    case ballot
    /// An inspection team's finding about a township; written by the township and by the county.
    case finding
    /// A contest (candidates, seats, rounds); county-only.
    case contest

    /// Kinds only the county (the coordinator) may write.
    public var isCountyOnly: Bool { self == .contest }
}

/// One version of a record (DESIGN §3.4).
///
/// ```json
/// {"key": "ballot/township-03/secretary-2026/vote-1/s01/000123", "kind": "ballot",
///  "township": "township-03", "clock": {"township-03": 1}, "origin": "township-03",
///  "at": "2026-11-24T09:30:00Z", "deleted": false, "data": {…}}
/// ```
public struct Record: Sendable, Hashable {
    /// `kind/scope/…`; the scope is a township id or `county`.
    public var key: String { didSet { memo = RecordMemo() } }
    public var kind: RecordKind { didSet { memo = RecordMemo() } }
    /// The scope: repeats the key's second segment.
    public var township: String { didSet { memo = RecordMemo() } }
    public var clock: VersionVector { didSet { memo = RecordMemo() } }
    /// The node that wrote this version.
    public var origin: String { didSet { memo = RecordMemo() } }
    /// The writer's wall time, informational only: never used to order versions.
    public var at: String { didSet { memo = RecordMemo() } }
    public var deleted: Bool { didSet { memo = RecordMemo() } }
    public var data: JSONValue { didSet { memo = RecordMemo() } }
    /// The township store that wrote this version and the change of its log it is: what a ballot
    /// carries so that whether it reached the county before its round closed can be judged by
    /// its writer's checkpoint at the close, whichever store re-sends it (docs/replication.md,
    /// "Round closures"). Ballots only; nil on versions written before ballots carried it.
    public var written: WrittenAt? { didSet { memo = RecordMemo() } }
    /// The canonical form and the paper once computed: validation, the duplicate check, the history
    /// row and the key's current row all need them for the same version. Any change to a member
    /// starts afresh.
    private var memo = RecordMemo()

    public init(
        key: String, kind: RecordKind, township: String, clock: VersionVector, origin: String, at: String, deleted: Bool = false, data: JSONValue,
        written: WrittenAt? = nil
    ) {
        self.key = key
        self.kind = kind
        self.township = township
        self.clock = clock
        self.origin = origin
        self.at = at
        self.deleted = deleted
        self.data = data
        self.written = written
    }

    /// The record as JSON, exactly the members of the wire format.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "key": .string(key), "kind": .string(kind.rawValue), "township": .string(township),
            "clock": clock.json, "origin": .string(origin), "at": .string(at), "deleted": .bool(deleted), "data": data,
        ]
        if let written { members["written"] = written.json }
        return .object(members)
    }

    /// The members of a record on the wire (proto-schemas/records/record.schema.json).
    static let members: Set<String> = ["key", "kind", "township", "clock", "origin", "at", "deleted", "data", "written"]

    /// The canonical JSON (RFC 8785) of this version: what "same content" means.
    public var canonical: String { memo.canonical { CanonicalJSON.string(json) } }

    /// A ballot's paper, read once per version (validation, the tally's group and the round
    /// checks all read it); nil for another kind, or data that is not a valid paper.
    public var paper: Ballot? {
        guard kind == .ballot else { return nil }
        return memo.paper { try? RecordRules.ballot(data) }
    }

    /// Reads a record back from the canonical JSON a store kept of it, which is then its canonical
    /// form already: sending, hashing or comparing it never writes it again.
    public init(storedCanonical text: String) throws {
        try self.init(json: JSONParser.parse(text))
        assert(CanonicalJSON.same(CanonicalJSON.string(json), text), "a stored record is its canonical form")
        memo = RecordMemo(canonical: text)
    }

    /// Reads a record from JSON, checking the envelope's shape (not yet the kind's rules).
    public init(json: JSONValue) throws(RecordError) {
        guard case .object(let members) = json else { throw .invalid("a record must be a JSON object") }
        // A member no rule reads would be dropped from the record's canonical form unannounced.
        if let unknown = members.keys.filter({ !Self.members.contains($0) }).min() {
            throw .invalid("a record has no member \"\(unknown)\"; its members are \(Self.members.sorted().joined(separator: ", "))")
        }
        func string(_ name: String) throws(RecordError) -> String {
            guard let value = members[name]?.stringValue else { throw .invalid("\"\(name)\" must be a string") }
            return value
        }
        key = try string("key")
        let kindName = try string("kind")
        guard let kind = RecordKind(rawValue: kindName) else {
            throw .invalid("kind \"\(kindName)\" is not one of ballot, finding, contest")
        }
        self.kind = kind
        township = try string("township")
        origin = try string("origin")
        at = try string("at")
        if let flag = members["deleted"] {
            guard let value = flag.boolValue else { throw .invalid("\"deleted\" must be true or false") }
            deleted = value
        } else {
            deleted = false
        }
        guard let clockMembers = members["clock"]?.objectValue, !clockMembers.isEmpty else {
            throw .invalid("\"clock\" must be a non-empty object of node → counter")
        }
        var counters: [String: UInt64] = [:]
        for (node, counter) in clockMembers {
            guard let value = counter.intValue, value >= 1 else {
                throw .invalid("clock entry \"\(node)\" must be an integer of at least 1")
            }
            counters[node] = UInt64(value)
        }
        clock = VersionVector(counters)
        guard let data = members["data"], data.objectValue != nil else { throw .invalid("\"data\" must be an object") }
        self.data = data
        written = try members["written"].map { json throws(RecordError) in try WrittenAt(json: json) }
    }
}

/// Where a version was written: the writing store's id and the sequence number of the change in
/// that store's log (DESIGN §3.5) — the numbers its pushes' `after` and `upto` count.
public struct WrittenAt: Sendable, Hashable {
    public var store: String
    public var seq: Int64

    public init(store: String, seq: Int64) {
        self.store = store
        self.seq = seq
    }

    public var json: JSONValue { .object(["store": .string(store), "seq": .int(seq)]) }

    init(json: JSONValue) throws(RecordError) {
        guard case .object(let members) = json, Set(members.keys) == ["store", "seq"], let store = members["store"]?.stringValue,
            let seq = members["seq"]?.intValue
        else { throw .invalid("\"written\" must be an object of exactly store (a store id) and seq (a change number)") }
        self.store = store
        self.seq = seq
    }
}

/// Why a record was not accepted, with the push outcome's reason (DESIGN §3.3).
public enum RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The record breaks the schema or its kind's rules.
    case invalid(String)
    /// The sender may not write this record.
    case forbidden(String)
    /// The sender raised another node's clock entry beyond what the coordinator holds.
    case forgedClock(String)
    /// The ballot's round is closed; it is kept, quarantined, and not counted.
    case roundClosed(String)

    public var reason: String {
        switch self {
        case .invalid: return "invalid"
        case .forbidden: return "forbidden"
        case .forgedClock: return "forged_clock"
        case .roundClosed: return "round_closed"
        }
    }

    public var message: String {
        switch self {
        case .invalid(let text), .forbidden(let text), .forgedClock(let text), .roundClosed(let text): return text
        }
    }

    public var description: String { "\(reason): \(message)" }
}

/// What is derived from a version's members — its canonical JSON, a ballot's paper — computed at
/// most once per version and shared by its copies. It takes no part in equality or hashing: it is
/// a function of the members, which do.
final class RecordMemo: Sendable, Hashable {
    private struct Derived {
        var canonical: String?
        var paper: Ballot??
    }

    private let derived: Mutex<Derived>

    init(canonical: String? = nil) {
        derived = Mutex(Derived(canonical: canonical))
    }

    func canonical(_ make: () -> String) -> String {
        if let known = derived.withLock({ $0.canonical }) { return known }
        let made = make()
        derived.withLock { $0.canonical = made }
        return made
    }

    func paper(_ make: () -> Ballot?) -> Ballot? {
        if let known = derived.withLock({ $0.paper }) { return known }
        let made = make()
        derived.withLock { $0.paper = .some(made) }
        return made
    }

    static func == (lhs: RecordMemo, rhs: RecordMemo) -> Bool { true }
    func hash(into hasher: inout Hasher) {}
}
