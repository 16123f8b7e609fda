/// The one rule of who receives what (DESIGN §3.5): a version is meant for a township when it is
/// scoped to that township, or when its kind is published county-wide. Both the store's pull
/// filter and the coordinator's `changed` fan-out are derived from it.
public enum Routing {
    /// Kinds every township receives, whatever their scope: findings and contests are published
    /// county-wide (the county's transparency rule); ballots stay with their township and the county.
    public static let countyWideKinds: Set<RecordKind> = [.finding, .contest]

    /// Whether a version of `kind` scoped to `scope` is meant for `township`.
    public static func isMeant(kind: RecordKind, scope: String, for township: String) -> Bool {
        countyWideKinds.contains(kind) || scope == township
    }

    /// What one township's store reads from the county's change log: what is meant for the
    /// township, without the versions that very store sent (it holds those already). A township PC
    /// rebuilt with an empty store is another store, so it gets back everything the county holds
    /// for it, its own earlier versions included (DESIGN §3.5).
    public struct Reader: Sendable, Hashable {
        public var township: String
        /// The reading store's id; versions received from it are left out.
        public var store: String

        public init(township: String, store: String) {
            self.township = township
            self.store = store
        }

        /// `source` is the agent store a version was received from, nil for the county's own.
        public func reads(kind: RecordKind, scope: String, source: String?) -> Bool {
            source != store && Routing.isMeant(kind: kind, scope: scope, for: township)
        }

        public func reads(_ version: StoredVersion) -> Bool {
            reads(kind: version.record.kind, scope: version.record.township, source: version.source)
        }
    }
}

/// Who must hear of newly stored versions: every store whose ``Routing/Reader`` reads at least one
/// of them. Kept as the distinct (kind, scope, source) facts of the versions, so it is the routing
/// rule itself that answers, never a copy of it.
public struct Audience: Sendable, Equatable {
    private struct Fact: Hashable {
        var kind: RecordKind
        var scope: String
        var source: String?
    }

    private var facts: Set<Fact> = []

    public init() {}

    /// The audience of versions received from agent store `source` (nil: the county's own).
    public init<Records: Sequence>(_ records: Records, source: String? = nil) where Records.Element == Record {
        for record in records { add(record, source: source) }
    }

    public mutating func add(_ record: Record, source: String?) {
        facts.insert(Fact(kind: record.kind, scope: record.township, source: source))
    }

    public var isEmpty: Bool { facts.isEmpty }

    /// Whether `reader` should be told that something new is meant for it.
    public func includes(_ reader: Routing.Reader) -> Bool {
        facts.contains { reader.reads(kind: $0.kind, scope: $0.scope, source: $0.source) }
    }
}
