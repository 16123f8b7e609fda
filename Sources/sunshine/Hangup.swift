import Dispatch
import Foundation
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Handles SIGHUP for as long as a daemon runs, so that `kill -HUP`, `systemctl reload` or a closed
/// terminal never ends it silently (SIGHUP's default action): `onHangup` runs on each one instead.
/// The coordinator re-reads its revocation list; the agent says it has nothing to reload.
struct HangupService: Service {
    var onHangup: @Sendable () -> Void

    /// Ignores SIGHUP from now on, before the service group starts, so that a hangup arriving
    /// while the daemon starts up does not end it either. Dispatch still delivers the signal.
    static func ignoreUntilHandled() {
        signal(SIGHUP, SIG_IGN)
    }

    func run() async throws {
        Self.ignoreUntilHandled()
        let hangups = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangups.setEventHandler(handler: onHangup)
        hangups.resume()
        defer { hangups.cancel() }
        try? await gracefulShutdown()
    }
}
