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

    /// What one township reads from the change log: what is meant for it, without the versions it
    /// wrote itself (it holds those already).
    public struct Reader: Sendable, Hashable {
        public var township: String

        public init(township: String) {
            self.township = township
        }

        public func reads(kind: RecordKind, scope: String, origin: String) -> Bool {
            origin != township && Routing.isMeant(kind: kind, scope: scope, for: township)
        }

        public func reads(_ record: Record) -> Bool {
            reads(kind: record.kind, scope: record.township, origin: record.origin)
        }
    }
}

/// Who must hear of newly stored versions: every township whose ``Routing/Reader`` reads at least
/// one of them. Kept as the distinct (kind, scope, origin) facts of the versions, so it is the
/// routing rule itself that answers, never a copy of it.
public struct Audience: Sendable, Equatable {
    private struct Fact: Hashable {
        var kind: RecordKind
        var scope: String
        var origin: String
    }

    private var facts: Set<Fact> = []

    public init() {}

    public init<Records: Sequence>(_ records: Records) where Records.Element == Record {
        for record in records { add(record) }
    }

    public mutating func add(_ record: Record) {
        facts.insert(Fact(kind: record.kind, scope: record.township, origin: record.origin))
    }

    public mutating func formUnion(_ other: Audience) {
        facts.formUnion(other.facts)
    }

    public var isEmpty: Bool { facts.isEmpty }

    /// Whether `township` should be told that something new is meant for it.
    public func includes(_ township: String) -> Bool {
        let reader = Routing.Reader(township: township)
        return facts.contains { reader.reads(kind: $0.kind, scope: $0.scope, origin: $0.origin) }
    }
}
