import Foundation
import SunshineModel
import SunshinePKI
import SunshineRPC
import SunshineStore

/// Nanoseconds on the system-wide monotonic clock: comparable across the processes of one run.
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Times a body, in seconds.
func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = monotonicNanos()
    try await body()
    return Double(monotonicNanos() - start) / 1e9
}

/// The resident set size of a process in bytes (Linux `/proc/PID/status`).
func residentBytes(of pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.split(separator: " ").compactMap { Double($0) }
        return digits.first.map { $0 * 1024 }
    }
    return nil
}

/// The scratch space of one run: every store, baseline database and certificate lives under it,
/// so Sunshine and its baselines write to the same disk.
struct Scratch: Sendable {
    let root: String

    init(under parent: String?) throws {
        let base = parent ?? NSTemporaryDirectory()
        root = (base as NSString).appendingPathComponent("sunshine-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// A fresh directory for one part of one scenario.
    func directory(_ name: String) throws -> String {
        let path = (root as NSString).appendingPathComponent(name)
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A county's certificates for the run: the CA, the coordinator (localhost, 127.0.0.1), townships
/// `township-01` … and an operator, in the layout of DESIGN §5.
struct BenchPKI: Sendable {
    let directory: PKIDirectory

    init(at path: String, townships: Int) throws {
        directory = PKIDirectory(path: path)
        try directory.initialize(townships: townships, coordinatorHosts: ["localhost", "127.0.0.1"])
    }

    func credentials(_ node: String) -> NodeCredentials {
        NodeCredentials(pki: directory, node: node)
    }

    /// Issues certificates for more agents (distinct keys, one CA).
    func issueAgents(_ nodes: [String]) throws {
        let authority = try directory.loadAuthority()
        for node in nodes {
            try directory.write(
                authority.issue(try NodeIdentity(node: node, role: .agent), hosts: []), for: node, force: true)
        }
    }
}

/// Realistic ballot papers: about 300–400 bytes each as records on the wire.
enum Papers {
    static let candidates = (1...12).map { String(format: "cand-%02d", $0) }
    static let round = "vote-1"

    static func contestID(for township: String) -> String { "committee-2026-\(township)" }

    static func contest(for township: String) -> Contest {
        Contest(
            title: "Party committee of \(township), 2026", township: township, seats: 3, rounds: [round, "vote-2"],
            candidates: candidates.map { Contest.Candidate(id: $0, name: "Candidate \($0.suffix(2))") }
        )
    }

    /// The paper with serial `serial`, its choices varying with it.
    static func ballot(_ serial: Int, township: String) -> Ballot {
        var generator = SplitMix(
            seed: UInt64(serial) &* 0x9E37_79B9 &+ UInt64(township.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
        var choices: [String] = []
        while choices.count < 3 {
            let pick = candidates[Int(generator.next() % UInt64(candidates.count))]
            if !choices.contains(pick) { choices.append(pick) }
        }
        let station = String(format: "s%02d", serial % 20 + 1)
        return Ballot(
            contest: contestID(for: township), round: round, station: station, serial: Int64(serial), choices: choices,
            valid: serial % 50 != 0
        )
    }

    /// A ballot as the township's store writes it: its own actor's first version.
    static func record(_ serial: Int, township: String, actor: String) -> Record {
        let paper = ballot(serial, township: township)
        return Record(
            key: paper.key(township: township), kind: .ballot, township: township, clock: VersionVector([actor: 1]),
            origin: township, at: "2026-11-24T09:30:00Z", data: paper.json
        )
    }

    /// Writes `count` papers into a township's store, `chunk` per transaction, through the store's
    /// own write path (clock, validation, change log).
    static func fill(_ store: any ReplicaStore, township: String, count: Int, from first: Int = 1, chunk: Int = 1_000)
        async throws
    {
        var serial = first
        while serial < first + count {
            let end = min(serial + chunk, first + count)
            let range = serial..<end
            try await store.write { tx in
                for s in range {
                    let paper = ballot(s, township: township)
                    try tx.write(
                        kind: .ballot, key: paper.key(township: township), township: township, data: paper.json)
                }
            }
            serial = end
        }
    }
}

/// A small, fast, seeded generator for fixtures.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Township ids for a province: `township-0001` … (four digits, distinct from a county's).
func provinceTownships(_ count: Int) -> [String] {
    (1...count).map { String(format: "township-%04d", $0) }
}
