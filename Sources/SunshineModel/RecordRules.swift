/// The shape rules every record must pass before any node stores it (DESIGN §3.4), and the typed
/// views of each kind's data. Pure: the same record gets the same verdict on every node.
public enum RecordRules {
    /// Upper bounds that keep one record from costing more than its share: a record's canonical
    /// form, a key, a text field, a list.
    public static let maxRecordBytes = 16 * 1024
    public static let maxKeyBytes = 256
    public static let maxTextBytes = 4_000
    public static let maxListCount = 100
    /// The largest clock counter a record may carry: 2^53 − 1, exact in every JSON reader.
    public static let maxClockCounter: UInt64 = (1 << 53) - 1
    public static let countyScope = "county"

    /// Checks the key, scope, clock and the kind's data; returns nothing or throws `.invalid`.
    public static func validate(_ record: Record) throws(RecordError) {
        guard record.key.utf8.count <= maxKeyBytes else { throw .invalid("the key is longer than \(maxKeyBytes) bytes") }
        // Split by bytes, as every pushed record passes here (sunshine-bench stages).
        let segments = record.key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.count >= 3, segments.allSatisfy(isSegment) else {
            throw .invalid("the key \"\(record.key)\" is not kind/scope/… with segments of letters, digits, '.', '_' or '-'")
        }
        guard segments[0].elementsEqual(record.kind.rawValue.utf8) else {
            throw .invalid("the key starts with \"\(Substring(segments[0]))\" but the record is a \(record.kind.rawValue)")
        }
        guard segments[1].elementsEqual(record.township.utf8) else {
            throw .invalid("the key's scope \"\(Substring(segments[1]))\" differs from township \"\(record.township)\"")
        }
        guard isScope(record.township) else {
            throw .invalid("the scope \"\(record.township)\" is neither a node id nor county")
        }
        guard NodeName.isValid(record.origin) else { throw .invalid("origin \"\(record.origin)\" is not a node id") }
        for actor in record.clock.counters.keys.sorted() where !Actor.isValid(actor) {
            throw .invalid("clock entry \"\(actor)\" is not an actor id (a node id, optionally with .INCARNATION)")
        }
        // No store counts this far (a billion edits a second for a century is 2^52); a counter
        // near the integer's end could not be advanced, and every later edit would collide.
        if let (actor, counter) = record.clock.counters.first(where: { $0.value > maxClockCounter }) {
            throw .invalid("clock entry \"\(actor)\" is \(counter), above the largest counter \(maxClockCounter)")
        }
        guard record.clock.counters.keys.contains(where: { Actor.node(of: $0) == record.origin }) else {
            throw .invalid("the clock has no entry for its origin \(record.origin)")
        }
        if let written = record.written {
            guard record.kind == .ballot else { throw .invalid("only a ballot carries \"written\"; leave it out of a \(record.kind.rawValue)") }
            guard isStoreID(written.store) else { throw .invalid("written.store \"\(written.store)\" is not a store id (32 lower-case hex digits)") }
            guard written.seq >= 1, UInt64(written.seq) <= maxClockCounter else {
                throw .invalid("written.seq is \(written.seq); a change number is between 1 and \(maxClockCounter)")
            }
        }
        guard record.canonical.utf8.count <= maxRecordBytes else {
            throw .invalid("the record is larger than \(maxRecordBytes) bytes")
        }
        switch record.kind {
        case .ballot:
            guard record.township != countyScope else { throw .invalid("a ballot belongs to a township, not the county") }
            let paper: Ballot
            if let known = record.paper { paper = known } else { paper = try ballot(record.data) }
            guard paper.key(township: record.township) == record.key else {
                throw .invalid("a ballot's key must be \(paper.key(township: record.township)) for its contest, round, station and serial")
            }
        case .finding:
            guard segments.count == 3 else { throw .invalid("a finding's key is finding/SCOPE/ID") }
            _ = try finding(record.data)
        case .contest:
            guard record.township == countyScope, segments.count == 3 else {
                throw .invalid("a contest's key is contest/county/ID")
            }
            _ = try contest(record.data)
        }
    }

    /// The members each kind's data may have (proto-schemas/records), made once: every record
    /// read is checked against one of them.
    private static let ballotMembers: Set<String> = ["contest", "round", "station", "serial", "choices", "valid", "correction"]
    private static let findingMembers: Set<String> = ["team", "category", "severity", "status", "title", "details", "notes"]
    private static let contestMembers: Set<String> = ["title", "township", "seats", "rounds", "candidates", "closed"]

    public static func ballot(_ data: JSONValue) throws(RecordError) -> Ballot {
        let fields = try Fields(data, kind: "ballot", known: ballotMembers)
        let serial = try fields.int("serial")
        guard serial >= 0 && serial < 1_000_000_000 else { throw .invalid("ballot serial must be 0 to 999999999") }
        return Ballot(
            contest: try fields.identifier("contest"),
            round: try fields.identifier("round"),
            station: try fields.identifier("station"),
            serial: serial,
            choices: try fields.strings("choices"),
            valid: try fields.bool("valid"),
            correction: fields.members["correction"] == nil ? nil : try fields.text("correction", nonEmpty: true)
        )
    }

    public static func finding(_ data: JSONValue) throws(RecordError) -> Finding {
        let fields = try Fields(data, kind: "finding", known: findingMembers)
        let severityName = try fields.text("severity")
        guard let severity = Finding.Severity(rawValue: severityName) else {
            throw .invalid("severity \"\(severityName)\" is not low, medium, high or critical")
        }
        let statusName = try fields.text("status")
        guard let status = Finding.Status(rawValue: statusName) else {
            throw .invalid("status \"\(statusName)\" is not open, investigating, resolved or dismissed")
        }
        return Finding(
            team: try fields.text("team"),
            category: try fields.text("category"),
            severity: severity,
            status: status,
            title: try fields.text("title", nonEmpty: true),
            details: try fields.text("details", required: false),
            notes: try fields.strings("notes", required: false)
        )
    }

    public static func contest(_ data: JSONValue) throws(RecordError) -> Contest {
        let fields = try Fields(data, kind: "contest", known: contestMembers)
        let seats = try fields.int("seats")
        guard seats >= 1 && seats <= 1_000 else { throw .invalid("a contest has 1 to 1000 seats") }
        let rounds = try fields.strings("rounds")
        guard !rounds.isEmpty, rounds.allSatisfy(isSegment) else { throw .invalid("rounds must be a non-empty list of ids") }
        // A ballot names its round by id: two rounds of one id would be one round counted as two.
        var seen: Set<String> = []
        for round in rounds where !seen.insert(round).inserted {
            throw .invalid("round \"\(round)\" appears twice in rounds; each round id must be unique")
        }
        guard let list = data["candidates"]?.arrayValue, !list.isEmpty, list.count <= maxListCount else {
            throw .invalid("candidates must be a list of 1 to \(maxListCount) {id, name} objects")
        }
        var candidates: [Contest.Candidate] = []
        for entry in list {
            guard let id = entry["id"]?.stringValue, isSegment(id), let name = entry["name"]?.stringValue, !name.isEmpty,
                name.utf8.count <= maxTextBytes
            else { throw .invalid("each candidate needs an id (letters, digits, '.', '_', '-') and a name") }
            candidates.append(Contest.Candidate(id: id, name: name))
        }
        guard Set(candidates.map(\.id)).count == candidates.count else { throw .invalid("candidate ids must be unique") }
        let township = try fields.text("township")
        guard township != countyScope, NodeName.isValid(township) else {
            throw .invalid("contest township \"\(township)\" is not a township id; a contest is one township's election")
        }
        var closed: [String: [String: Int64]] = [:]
        if let value = data["closed"] {
            guard let rounds = value.objectValue else { throw .invalid("closed must be an object of round → {store: checkpoint}") }
            for (round, stores) in rounds {
                guard seen.contains(round) else { throw .invalid("closed round \"\(round)\" is not one of the contest's rounds") }
                guard let members = stores.objectValue, members.count <= Contest.maxClosureStores else {
                    throw .invalid("closed round \"\(round)\" must map at most \(Contest.maxClosureStores) store ids to checkpoints")
                }
                var checkpoints: [String: Int64] = [:]
                for (store, checkpoint) in members {
                    guard isStoreID(store), let checkpoint = checkpoint.intValue, checkpoint >= 0 else {
                        throw .invalid("closed round \"\(round)\" maps store ids (32 hex digits) to checkpoints (0 or more)")
                    }
                    checkpoints[store] = checkpoint
                }
                closed[round] = checkpoints
            }
        }
        return Contest(
            title: try fields.text("title", nonEmpty: true), township: township, seats: seats, rounds: rounds, candidates: candidates,
            closed: closed)
    }

    /// A store id: 128 random bits as 32 lower-case hex digits (DESIGN §3.5) — or empty, the one
    /// store of an agent that names none.
    public static func isStoreID(_ text: String) -> Bool {
        text.isEmpty || isLowerHex(text, digits: 32)
    }

    /// Whether `text` is exactly `digits` lower-case hex digits: how ids and hashes are written.
    public static func isLowerHex(_ text: String, digits: Int) -> Bool {
        text.utf8.count == digits && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func isScope(_ text: String) -> Bool { text == countyScope || NodeName.isValid(text) }

    static func isSegment(_ text: String) -> Bool { isSegment(text.utf8) }

    static func isSegment(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.count <= 64 && bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
        }
    }

    /// Reads typed fields out of a data object with one clear sentence per mistake.
    private struct Fields {
        let members: [String: JSONValue]
        let kind: String

        /// The data of a record of `kind`, whose members are among `known` (proto-schemas/records):
        /// a member no rule reads would travel, be stored and be signed unchecked.
        init(_ data: JSONValue, kind: String, known: Set<String>) throws(RecordError) {
            guard let members = data.objectValue else { throw .invalid("\(kind) data must be an object") }
            if let unknown = members.keys.filter({ !known.contains($0) }).min() {
                throw .invalid("\(kind) data has no member \"\(unknown)\"; its members are \(known.sorted().joined(separator: ", "))")
            }
            self.members = members
            self.kind = kind
        }

        func text(_ name: String, required: Bool = true, nonEmpty: Bool = false) throws(RecordError) -> String {
            guard let value = members[name] else {
                if required { throw .invalid("\(kind) data needs \"\(name)\"") }
                return ""
            }
            guard let text = value.stringValue, text.utf8.count <= RecordRules.maxTextBytes else {
                throw .invalid("\(kind) \"\(name)\" must be a string of at most \(RecordRules.maxTextBytes) bytes")
            }
            if nonEmpty && text.isEmpty { throw .invalid("\(kind) \"\(name)\" must not be empty") }
            return text
        }

        func identifier(_ name: String) throws(RecordError) -> String {
            let value = try text(name)
            guard RecordRules.isSegment(value) else {
                throw .invalid("\(kind) \"\(name)\" must be an id of letters, digits, '.', '_' or '-'")
            }
            return value
        }

        func int(_ name: String) throws(RecordError) -> Int64 {
            guard let value = members[name]?.intValue else { throw .invalid("\(kind) \"\(name)\" must be an integer") }
            return value
        }

        func bool(_ name: String) throws(RecordError) -> Bool {
            guard let value = members[name]?.boolValue else { throw .invalid("\(kind) \"\(name)\" must be true or false") }
            return value
        }

        func strings(_ name: String, required: Bool = true) throws(RecordError) -> [String] {
            guard let value = members[name] else {
                if required { throw .invalid("\(kind) data needs \"\(name)\"") }
                return []
            }
            guard let list = value.arrayValue, list.count <= RecordRules.maxListCount else {
                throw .invalid("\(kind) \"\(name)\" must be a list of at most \(RecordRules.maxListCount) strings")
            }
            var strings: [String] = []
            for (index, item) in list.enumerated() {
                guard let text = item.stringValue else { throw .invalid("\(kind) \"\(name)\" must contain only strings") }
                guard text.utf8.count <= RecordRules.maxTextBytes else {
                    throw .invalid(
                        "\(kind) \"\(name)\" entry \(index + 1) is \(text.utf8.count) bytes long; "
                            + "each is at most \(RecordRules.maxTextBytes) bytes")
                }
                strings.append(text)
            }
            return strings
        }
    }
}
