import ArgumentParser

@main
struct Sunshine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sunshine",
        abstract: "Keeps a county's township election supervision in sync.",
        discussion: """
            Township offices run `sunshine agent`, and clerks record with `sunshine ballot` and
            `sunshine finding`; the county runs `sunshine coordinator` and operators use `status`, `tally`,
            `conflicts`, `put`, `resolve` and `close-round`; the county's administrator creates certificates
            with `sunshine certs`. Try `sunshine demo` for a county on this machine.
            """,
        subcommands: [
            Certs.self, CoordinatorCommand.self, AgentCommand.self,
            StatusCommand.self, TallyCommand.self, ConflictsCommand.self, PutCommand.self, ResolveCommand.self, CloseRoundCommand.self,
            BallotCommand.self, FindingCommand.self, DemoCommand.self,
        ]
    )
}
