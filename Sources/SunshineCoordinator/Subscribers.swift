import SunshineModel
import SunshineRPC
import SunshineWire
import Synchronization

/// The open agent connections, and the `changed` notification each must hear when something new
/// is meant for its township (DESIGN §3.5). Who hears is the routing rule's answer (``Audience``).
final class Subscribers: Sendable {
    private let connections = Mutex<[ObjectIdentifier: (node: String, connection: RPCConnection)]>([:])

    func add(_ node: String, _ connection: RPCConnection) {
        connections.withLock { $0[ObjectIdentifier(connection)] = (node, connection) }
    }

    func remove(_ connection: RPCConnection) {
        _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Tells every connected agent in `audience` that the county's log reached `upto`.
    func notify(_ audience: Audience, upto: Int64) async {
        guard !audience.isEmpty else { return }
        let targets = connections.withLock { Array($0.values) }.filter { audience.includes($0.node) }
        for target in targets {
            try? await target.connection.notify(Method.changed, params: ChangedParams(upto: upto))
        }
    }
}
