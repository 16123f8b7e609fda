import Foundation

/// Which way a metric improves: the ratio's target and the worse tail depend on it.
enum Better: String, Codable, Sendable {
    case lower, higher
}

/// The samples of one figure, summarised: the median and the 99th-percentile *worse* sample
/// (the slow tail for a latency, the low tail for a throughput).
struct Summary: Codable, Sendable {
    var p50: Double
    var p99: Double
    var count: Int

    init(_ samples: [Double], better: Better) {
        precondition(!samples.isEmpty, "a figure needs at least one sample")
        let sorted = samples.sorted()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let low = Int(position.rounded(.down))
            let high = min(low + 1, sorted.count - 1)
            return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
        }
        p50 = quantile(0.5)
        p99 = better == .lower ? quantile(0.99) : quantile(0.01)
        count = samples.count
    }
}

/// What a figure must reach, as a ratio to its baseline or as an absolute bound.
enum Target: Codable, Sendable, CustomStringConvertible {
    /// Sunshine ÷ baseline at most this (for lower-is-better figures).
    case ratioAtMost(Double)
    /// Sunshine ÷ baseline at least this (for higher-is-better figures).
    case ratioAtLeast(Double)
    /// The figure itself (its p50, or p99 when `onP99`) at most this, in its unit.
    case atMost(Double, onP99: Bool)
    /// The figure itself at least this.
    case atLeast(Double)
    /// Reported for orientation only.
    case none

    var description: String {
        switch self {
        case .ratioAtMost(let x): return "≤ \(Self.format(x))×"
        case .ratioAtLeast(let x): return "≥ \(Self.format(x))×"
        case .atMost(let x, let onP99): return (onP99 ? "p99 " : "") + "≤ \(Self.format(x))"
        case .atLeast(let x): return "≥ \(Self.format(x))"
        case .none: return "—"
        }
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : String(format: x < 10 ? "%.2f" : "%.0f", x)
    }
}

/// One line of the table: a Sunshine figure beside its baseline from the same run.
struct Row: Codable, Sendable {
    var scenario: String
    var metric: String
    var unit: String
    var better: Better
    var sunshine: Summary
    var baselineName: String?
    var baseline: Summary?
    var target: Target
    var note: String?

    /// Sunshine's median over the baseline's median.
    var ratio: Double? {
        guard let baseline, baseline.p50 != 0 else { return nil }
        return sunshine.p50 / baseline.p50
    }

    /// Whether the target is met; nil when there is none.
    var met: Bool? {
        switch target {
        case .ratioAtMost(let x): return ratio.map { $0 <= x }
        case .ratioAtLeast(let x): return ratio.map { $0 >= x }
        case .atMost(let x, let onP99): return (onP99 ? sunshine.p99 : sunshine.p50) <= x
        case .atLeast(let x): return sunshine.p50 >= x
        case .none: return nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case scenario, metric, unit, better, sunshine, baselineName, baseline, target, note, ratio, met
    }

    init(
        scenario: String, metric: String, unit: String, better: Better, sunshine: [Double], baselineName: String? = nil,
        baseline: [Double]? = nil, target: Target, note: String? = nil
    ) {
        self.scenario = scenario
        self.metric = metric
        self.unit = unit
        self.better = better
        self.sunshine = Summary(sunshine, better: better)
        self.baselineName = baselineName
        self.baseline = baseline.map { Summary($0, better: better) }
        self.target = target
        self.note = note
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scenario = try c.decode(String.self, forKey: .scenario)
        metric = try c.decode(String.self, forKey: .metric)
        unit = try c.decode(String.self, forKey: .unit)
        better = try c.decode(Better.self, forKey: .better)
        sunshine = try c.decode(Summary.self, forKey: .sunshine)
        baselineName = try c.decodeIfPresent(String.self, forKey: .baselineName)
        baseline = try c.decodeIfPresent(Summary.self, forKey: .baseline)
        target = try c.decode(Target.self, forKey: .target)
        note = try c.decodeIfPresent(String.self, forKey: .note)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(scenario, forKey: .scenario)
        try c.encode(metric, forKey: .metric)
        try c.encode(unit, forKey: .unit)
        try c.encode(better, forKey: .better)
        try c.encode(sunshine, forKey: .sunshine)
        try c.encodeIfPresent(baselineName, forKey: .baselineName)
        try c.encodeIfPresent(baseline, forKey: .baseline)
        try c.encode(target.description, forKey: .target)
        try c.encodeIfPresent(note, forKey: .note)
        try c.encodeIfPresent(ratio, forKey: .ratio)
        try c.encodeIfPresent(met, forKey: .met)
    }
}

/// Everything one run measured, printed as a table and written as JSON.
struct Report: Codable, Sendable {
    var command: String
    var size: String
    var machine: [String: String]
    var rows: [Row] = []
    var failures: [String: String] = [:]
    var seconds: [String: Double] = [:]

    static func number(_ x: Double) -> String {
        switch abs(x) {
        case 0: return "0"
        case ..<0.01: return String(format: "%.4f", x)
        case ..<10: return String(format: "%.2f", x)
        case ..<1000: return String(format: "%.1f", x)
        default: return String(format: "%.0f", x)
        }
    }

    /// The table, in Markdown, so that docs/benchmarks.md can hold it as printed.
    var table: String {
        var lines = [
            "| scenario | metric | Sunshine p50 / p99 | baseline | baseline p50 / p99 | ratio | target | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows {
            let s = "\(Self.number(row.sunshine.p50)) / \(Self.number(row.sunshine.p99)) \(row.unit)"
            let b = row.baseline.map { "\(Self.number($0.p50)) / \(Self.number($0.p99)) \(row.unit)" } ?? "—"
            let ratio = row.ratio.map { String(format: "%.3f×", $0) } ?? "—"
            let met = row.met.map { $0 ? "yes" : "**no**" } ?? "—"
            lines.append(
                "| \(row.scenario) | \(row.metric) | \(s) | \(row.baselineName ?? "—") | \(b) | \(ratio) | \(row.target) | \(met) |"
            )
        }
        for (scenario, error) in failures.sorted(by: { $0.key < $1.key }) {
            lines.append("| \(scenario) | **failed** | \(error) | | | | | **no** |")
        }
        return lines.joined(separator: "\n")
    }

    var notes: String {
        rows.compactMap { row in row.note.map { "* \(row.scenario), \(row.metric): \($0)" } }.joined(separator: "\n")
    }

    func write(json path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
