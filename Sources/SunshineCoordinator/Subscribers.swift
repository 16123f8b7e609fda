import SunshineModel
import SunshineRPC
import SunshineWire
import Synchronization

/// The open agent connections, and the `changed` notification each must hear when something new
/// is meant for its store (DESIGN §3.5). Who hears is the routing rule's answer (``Audience``).
///
/// Operators' connections hear `changed` after every commit and every event, whatever it is about:
/// a dashboard redraws at once instead of waiting for its next refresh (docs/protocol.md).
final class Subscribers: Sendable {
    private let connections = Mutex<[ObjectIdentifier: (reader: Routing.Reader, connection: RPCConnection)]>([:])
    private let operators = Mutex<[ObjectIdentifier: RPCConnection]>([:])

    func add(_ reader: Routing.Reader, _ connection: RPCConnection) {
        connections.withLock { $0[ObjectIdentifier(connection)] = (reader, connection) }
    }

    /// An operator's connection, told of every change.
    func addOperator(_ connection: RPCConnection) {
        operators.withLock { $0[ObjectIdentifier(connection)] = connection }
    }

    func remove(_ connection: RPCConnection) {
        _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
        _ = operators.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Tells every operator that what `status` shows changed, with the county's log at `upto`.
    func notifyOperators(upto: Int64) {
        for connection in operators.withLock({ Array($0.values) }) {
            connection.post(Method.changed, params: ChangedParams(upto: upto))
        }
    }

    /// Tells every connected agent in `audience` that the county's log reached `upto`. It only
    /// posts: each connection sends its newest `changed` when it can, so one agent that stops
    /// reading never holds up the request that caused the notification (DESIGN §3.9).
    func notify(_ audience: Audience, upto: Int64) {
        notifyOperators(upto: upto)
        guard !audience.isEmpty else { return }
        let targets = connections.withLock { Array($0.values) }.filter { audience.includes($0.reader) }
        for target in targets {
            target.connection.post(Method.changed, params: ChangedParams(upto: upto))
        }
    }
}
