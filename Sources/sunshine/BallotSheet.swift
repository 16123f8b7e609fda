import Foundation
import SunshineConsole
import SunshineModel

// CSV is read here rather than with a package: the CSV readers on the machine's package list
// (SwiftCSV 0.10.0, yaslab/CSV.swift 2.5.2) return rows without the line each row starts on, and a
// clerk fixing a sheet needs "line 17", also when a quoted field spans lines.

/// A sheet of ballot papers in CSV (RFC 4180: commas, fields quoted with `"` when they hold a comma,
/// a quote or a line break, `""` for a quote inside), one paper per row under this header, in
/// any column order:
///
/// ```
/// contest,round,station,serial,choices,valid
/// committee-2026-township-03,vote-1,s01,1,cand-01;cand-04,yes
/// ```
///
/// `choices` holds candidate ids separated by `;` (empty for a blank paper); `valid` is `yes`/`no`
/// (also `true`/`false`, `1`/`0`, `valid`/`invalid`) and may be left out, meaning yes.
struct BallotSheet {
    /// A paper read from the sheet, with the line its row starts on.
    struct Row {
        var line: Int
        var ballot: Ballot
    }

    /// A row that cannot be a paper, and why.
    struct Problem: Error, Equatable {
        var line: Int
        var message: String

        /// `message` as a terminal may show it: no control characters, and no longer than a few
        /// lines however long the field it quotes (a sheet's values are quoted through ``shown(_:)``).
        init(line: Int, message: String) {
            self.line = line
            self.message = BallotSheet.shown(message, atMost: 400)
        }
    }

    /// A value of the sheet as a message quotes it: without control characters, and at most
    /// `limit` characters (40 for a field), cut with "…".
    static func shown(_ value: some StringProtocol, atMost limit: Int = 40) -> String {
        let safe = terminalSafe(value)
        return safe.count > limit ? safe.prefix(limit) + "…" : safe
    }

    static let requiredColumns = ["contest", "round", "station", "serial", "choices"]
    static let columns = requiredColumns + ["valid"]

    var rows: [Row] = []
    var problems: [Problem] = []

    /// Reads `text`. A bad header is thrown (nothing can be read); a bad row is listed in
    /// ``problems`` with its line, and every other row is still read.
    init(_ text: String) throws(Problem) {
        let records = Self.records(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        guard let header = records.first else {
            throw Problem(
                line: 1,
                message: "the file is empty; its first line must be the header \(Self.columns.joined(separator: ","))")
        }
        let names = header.fields.map { Self.trimmed($0).lowercased() }
        let unknown = names.filter { !Self.columns.contains($0) }
        let missing = Self.requiredColumns.filter { !names.contains($0) }
        let repeated = Set(names.filter { name in names.filter { $0 == name }.count > 1 })
        guard unknown.isEmpty, missing.isEmpty, repeated.isEmpty else {
            var faults: [String] = []
            if !missing.isEmpty { faults.append("lacks \(missing.joined(separator: ", "))") }
            if !unknown.isEmpty { faults.append("has unknown columns \(unknown.map { Self.shown($0) }.joined(separator: ", "))") }
            if !repeated.isEmpty { faults.append("repeats \(repeated.sorted().map { Self.shown($0) }.joined(separator: ", "))") }
            throw Problem(
                line: header.line,
                message: "the header \(faults.joined(separator: " and ")); it must name the columns "
                    + "\(Self.requiredColumns.joined(separator: ", ")) and optionally valid"
            )
        }
        for record in records.dropFirst() where !(record.fields.count == 1 && record.fields[0].isEmpty) {
            do throws(Problem) {
                rows.append(Row(line: record.line, ballot: try Self.ballot(record, names: names)))
            } catch {
                problems.append(error)
            }
        }
    }

    private static func ballot(_ record: (line: Int, fields: [String]), names: [String]) throws(Problem) -> Ballot {
        guard record.fields.count == names.count else {
            throw Problem(
                line: record.line, message: "\(record.fields.count) fields where the header has \(names.count)")
        }
        var field: [String: String] = [:]
        for (name, value) in zip(names, record.fields) { field[name] = Self.trimmed(value) }
        guard let serial = Int64(field["serial"] ?? "") else {
            throw Problem(line: record.line, message: "serial \"\(Self.shown(field["serial"] ?? ""))\" is not a whole number")
        }
        let valid: Bool
        switch (field["valid"] ?? "").lowercased() {
        case "", "yes", "true", "1", "valid": valid = true
        case "no", "false", "0", "invalid": valid = false
        case let other: throw Problem(line: record.line, message: "valid \"\(Self.shown(other))\" is not yes or no")
        }
        let choices = (field["choices"] ?? "").split(separator: ";").map(Self.trimmed)
            .filter { !$0.isEmpty }
        let ballot = Ballot(
            contest: field["contest"] ?? "", round: field["round"] ?? "", station: field["station"] ?? "",
            serial: serial, choices: choices,
            valid: valid
        )
        do throws(RecordError) {
            _ = try RecordRules.ballot(ballot.json)
        } catch {
            throw Problem(line: record.line, message: error.message)
        }
        return ballot
    }

    /// `text` without the spaces and tabs around it (Foundation's `.whitespaces`), in Swift:
    /// through NSString it was a quarter of importing 100,000 rows (sunshine-bench clerk).
    static func trimmed(_ text: some StringProtocol) -> String {
        let isSpace = { (character: Character) in character.isWhitespace && !character.isNewline }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }

    /// The records of a CSV text, each with the line it starts on (1-based).
    static func records(_ text: String) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var start = 1
        var characters = Array(text)[...]
        func endRecord() {
            fields.append(field)
            records.append((start, fields))
            fields = []
            field = ""
        }
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty:
                quoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\n", "\r\n", "\r":
                endRecord()
                line += 1
                start = line
            default:
                field.append(character)
            }
        }
        if !field.isEmpty || !fields.isEmpty || quoted { endRecord() }
        return records
    }
}
