import Foundation
import SunshineModel
import SunshineTestSupport
import Testing

@testable import SunshineStore

/// Finding 12: applying a version read and decoded its key's whole history, so one key edited
/// 1,200 times made each push 7× slower. Now the apply path reads a key's siblings and looks
/// versions up by (key, clock); every statement it runs must find its rows through an index, on a
/// real file whose key has a long history. SQLite's own planner is asked, by another program.
@Suite struct ApplyCostTests {
    @Test func everyStatementOfTheApplyPathUsesAnIndexHoweverLongTheHistory() async throws {
        let directory = StoreKind.scratch()
        let path = directory + "/long-history.sqlite"
        let store = try SQLiteStore(path: path, node: "township-03")
        for edit in 1...1_200 {
            try await store.write { tx in
                try tx.write(kind: .finding, key: "finding/township-03/seal", township: "township-03",
                             data: ["team": "t", "category": "c", "severity": "low", "status": "open", "title": .string("edit \(edit)")])
            }
        }
        #expect(try await store.read { try $0.history(of: "finding/township-03/seal") }.count == 1_200)
        #expect(try await store.read { try $0.current(of: "finding/township-03/seal") }?.siblings.count == 1, "what apply reads stays one sibling")
        // Applying one more version — a pushed one, as the county applies it — reads back the key's
        // current value and its one sibling, not 1,200 versions.
        let before = store.decoded.value
        try await store.write { tx in
            try tx.apply(Record(
                key: "finding/township-03/seal", kind: .finding, township: "township-03", clock: VersionVector(["township-04.0123456789ab": 1]),
                origin: "township-04", at: "", data: ["team": "t", "category": "c", "severity": "low", "status": "open", "title": "concurrent"]
            ))
        }
        #expect(store.decoded.value - before <= 2, "applying reads the current value and its siblings only")

        let statements = ApplyPathSQL.all.map { #"{"sql": \#(String(reflecting: $0.sql)), "parameters": \#($0.parameters)}"# }
        let script = """
            import json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for statement in json.loads(sys.argv[2]):
                plan = db.execute("EXPLAIN QUERY PLAN " + statement["sql"], [None] * statement["parameters"]).fetchall()
                print(json.dumps({"sql": statement["sql"].split()[0:4], "plan": [row[3] for row in plan]}))
            """
        let result = try runProcess("python3", ["-c", script, path, "[" + statements.joined(separator: ",") + "]"])
        #expect(result.status == 0, "\(result.output)")
        let plans = result.output.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        #expect(plans.count == ApplyPathSQL.all.count)
        for plan in plans {
            let steps = plan["plan"]?.arrayValue?.compactMap(\.stringValue) ?? []
            // SQLite names a full table scan "SCAN TABLE" / "SCAN version"; a lookup is "SEARCH … USING …".
            let scans = steps.filter { $0.hasPrefix("SCAN") && !$0.contains("USING") }
            #expect(scans.isEmpty, "\(plan["sql"].map(CanonicalJSON.string) ?? "?") scans: \(steps)")
        }
    }
}
