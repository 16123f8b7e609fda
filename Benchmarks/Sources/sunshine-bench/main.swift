import Foundation

// sunshine-bench [SCENARIO…] [--tiny] [--reps N] [--json FILE] [--data DIR] [--sunshine PATH]
//                [--province TOWNSHIPS] [--province-ballots PER_TOWNSHIP] [--keep]
//                (--keep leaves the stores and databases in DIR)
//
// Scenarios: 1 roundtrip, 2 pipeline, 3 durable, 4 catchup, 5 live, 6 clerk, 7 connections,
// 8 province (all by default). Every figure is printed beside its baseline from the same run.

let scenarios: [(number: String, name: String, run: @Sendable (Bench) async throws -> [Row])] = [
    ("0", "stages", { try await $0.pushStages() }),
    ("1", "roundtrip", { try await $0.roundTrip() }),
    ("2", "pipeline", { try await $0.pipelinedPush() }),
    ("3", "durable", { try await $0.durablePush() }),
    ("4", "catchup", { try await $0.offlineCatchUp() }),
    ("5", "live", { try await $0.liveCounty() }),
    ("6", "clerk", { try await $0.clerkWrites() }),
    ("7", "connections", { try await $0.connections() }),
    ("8", "province", { try await $0.provinceScale() }),
]

func usage() -> Never {
    let names = scenarios.map { "\($0.number)|\($0.name)" }.joined(separator: " ")
    FileHandle.standardError.write(
        Data(
            """
            usage: sunshine-bench [SCENARIO…] [--tiny] [--reps N] [--json FILE] [--data DIR] [--sunshine PATH]
                                  [--province TOWNSHIPS] [--province-ballots PER_TOWNSHIP] [--keep]
            scenarios: \(names) (default: all)

            """.utf8))
    exit(2)
}

/// Where the `sunshine` executable is: --sunshine, else next to this one, else the root's builds.
func findSunshine(_ given: String?) -> String? {
    if let given { return given }
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let cwd = FileManager.default.currentDirectoryPath
    // Built beside this executable (`swift build -c release --product sunshine` in Benchmarks/),
    // else the root package's builds, seen from Benchmarks/ or from the root.
    let candidates = [
        "\(here)/sunshine", "\(cwd)/../.build/release/sunshine", "\(cwd)/.build/release/sunshine",
        "\(cwd)/../.build/debug/sunshine", "\(cwd)/.build/debug/sunshine",
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }.map {
        URL(fileURLWithPath: $0).standardized.path
    }
}

func machine(scratch: String) -> [String: String] {
    var info: [String: String] = [:]
    var name = utsname()
    uname(&name)
    info["kernel"] = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let model = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") })
    {
        info["cpu"] = model.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
    }
    info["cores"] = String(ProcessInfo.processInfo.activeProcessorCount)
    info["memory"] = String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)
    info["scratch"] = scratch
    if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
        info["load at start"] = load.split(separator: " ").prefix(3).joined(separator: " ")
    }
    return info
}

func main() async -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    do {
        switch arguments.first {
        case "serve-coordinator":
            try await ChildMode.serveCoordinator(Array(arguments.dropFirst()))
            return 0
        case "write-ballots":
            try await ChildMode.clerk(Array(arguments.dropFirst()))
            return 0
        default:
            break
        }
    } catch {
        FileHandle.standardError.write(Data("sunshine-bench \(arguments.first ?? ""): \(error)\n".utf8))
        return 1
    }
    var sizes = Sizes.full
    var json: String?
    var data: String?
    var sunshinePath: String?
    var keep = false
    var selected: [String] = []
    while !arguments.isEmpty {
        let argument = arguments.removeFirst()
        func value() -> String {
            guard !arguments.isEmpty else { usage() }
            return arguments.removeFirst()
        }
        switch argument {
        case "--tiny": sizes = .tiny
        case "--reps": sizes.reps = Int(value()) ?? { usage() }()
        case "--json": json = value()
        case "--data": data = value()
        case "--sunshine": sunshinePath = value()
        case "--keep": keep = true
        case "--province": sizes.provinceTownships = Int(value()) ?? { usage() }()
        case "--province-ballots": sizes.provincePerTownship = Int(value()) ?? { usage() }()
        case "-h", "--help": usage()
        default:
            guard let scenario = scenarios.first(where: { $0.number == argument || $0.name == argument }) else {
                usage()
            }
            selected.append(scenario.name)
        }
    }
    let chosen = selected.isEmpty ? scenarios : scenarios.filter { selected.contains($0.name) }
    do {
        let scratch = try Scratch(under: data)
        defer { if !keep { scratch.remove() } }
        let pki = try BenchPKI(at: try scratch.directory("pki"), townships: 17)
        let bench = Bench(sizes: sizes, scratch: scratch, pki: pki, sunshine: findSunshine(sunshinePath))
        var report = Report(
            command: (["sunshine-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " "), size: sizes.name,
            machine: machine(scratch: scratch.root)
        )
        for scenario in chosen {
            FileHandle.standardError.write(Data("sunshine-bench: \(scenario.number) \(scenario.name)…\n".utf8))
            let start = monotonicNanos()
            do {
                report.rows += try await scenario.run(bench)
            } catch {
                report.failures["\(scenario.number) \(scenario.name)"] = "\(error)"
                FileHandle.standardError.write(Data("sunshine-bench: \(scenario.name) failed: \(error)\n".utf8))
            }
            report.seconds[scenario.name] = Double(monotonicNanos() - start) / 1e9
            FileHandle.standardError.write(
                Data(
                    "sunshine-bench: \(scenario.name) took \(String(format: "%.1f", report.seconds[scenario.name] ?? 0)) s\n"
                        .utf8
                ))
        }
        print(report.table)
        if !report.notes.isEmpty { print("\n" + report.notes) }
        print(
            "\nmachine: "
                + report.machine.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        if let json { try report.write(json: json) }
        return report.failures.isEmpty ? 0 : 1
    } catch {
        FileHandle.standardError.write(Data("sunshine-bench: \(error)\n".utf8))
        return 1
    }
}

exit(await main())
