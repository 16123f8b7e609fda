/// Who holds a connection slot on the server (DESIGN §3.9). Connections that have not completed
/// `hello` are bounded per source address and in total, apart from authenticated ones, so sockets
/// that never authenticate can never lock out an office or an operator: when a bound is reached,
/// the *oldest* unauthenticated connection gives way to the newcomer (a slow or silent one is the
/// oldest). Authenticated connections are bounded in total and per certificate; a certificate's
/// oldest connection — usually a half-open one its owner has already replaced — gives way too.
struct Admission {
    struct Limits: Sendable {
        var pending = 512
        var pendingPerAddress = 16
        var established = 4_096
        var perIdentity = 8
    }

    private struct Pending {
        var address: String
        var order: UInt64
    }

    private struct Established {
        var identity: String
        var order: UInt64
    }

    let limits: Limits
    private var pending: [ObjectIdentifier: Pending] = [:]
    private var established: [ObjectIdentifier: Established] = [:]
    private var order: UInt64 = 0

    init(limits: Limits) {
        self.limits = limits
    }

    var pendingCount: Int { pending.count }
    var establishedCount: Int { established.count }

    /// A connection was accepted from `address`; returns the connections that must give way.
    mutating func arrived(_ connection: ObjectIdentifier, from address: String) -> [ObjectIdentifier] {
        order += 1
        var evicted: [ObjectIdentifier] = []
        let sameAddress = pending.filter { $0.value.address == address }
        if sameAddress.count >= limits.pendingPerAddress, let oldest = sameAddress.min(by: { $0.value.order < $1.value.order }) {
            evicted.append(oldest.key)
            pending.removeValue(forKey: oldest.key)
        }
        if pending.count >= limits.pending, let oldest = pending.min(by: { $0.value.order < $1.value.order }) {
            evicted.append(oldest.key)
            pending.removeValue(forKey: oldest.key)
        }
        pending[connection] = Pending(address: address, order: order)
        return evicted
    }

    /// A connection completed `hello` as `identity`. Returns nil when every authenticated slot is
    /// taken (the connection is refused), otherwise the connections that must give way.
    mutating func authenticated(_ connection: ObjectIdentifier, as identity: String) -> [ObjectIdentifier]? {
        guard pending.removeValue(forKey: connection) != nil else { return [] }
        guard established.count < limits.established else { return nil }
        order += 1
        var evicted: [ObjectIdentifier] = []
        let same = established.filter { $0.value.identity == identity }
        if same.count >= limits.perIdentity, let oldest = same.min(by: { $0.value.order < $1.value.order }) {
            evicted.append(oldest.key)
            established.removeValue(forKey: oldest.key)
        }
        established[connection] = Established(identity: identity, order: order)
        return evicted
    }

    /// A connection closed.
    mutating func left(_ connection: ObjectIdentifier) {
        pending.removeValue(forKey: connection)
        established.removeValue(forKey: connection)
    }
}
