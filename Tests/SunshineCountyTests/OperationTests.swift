import SunshineCounty
import SunshineModel
import Testing

/// Who may ask the county for what (DESIGN §3.7), without sockets.
@Suite struct OperationTests {
    @Test(arguments: CountyOperation.allCases)
    func eachOperationIsForExactlyOneRole(_ operation: CountyOperation) throws {
        let agent = try NodeIdentity(node: "township-01", role: .agent)
        let clerk = try NodeIdentity(node: "operator", role: .operator)
        let coordinator = try NodeIdentity(node: "coordinator", role: .coordinator)
        let allowed = [agent, clerk, coordinator].filter { identity in (try? operation.authorize(identity)) != nil }
        #expect(allowed.map(\.role) == [operation.role])
        #expect([.push, .pull].contains(operation) == (operation.role == .agent))
    }

    @Test func refusalsSayWhatToDoInstead() throws {
        #expect(throws: CountyError.forbidden("push is for township agents; operators write through put, resolve and closeRound.")) {
            try CountyOperation.push.authorize(try NodeIdentity(node: "operator", role: .operator))
        }
        #expect(throws: CountyError.forbidden("status is an operator method; township-01 is an agent.")) {
            try CountyOperation.status.authorize(try NodeIdentity(node: "township-01", role: .agent))
        }
    }
}
