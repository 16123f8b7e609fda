import ArgumentParser

@main
struct Sunshine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sunshine",
        abstract: "Keeps a county's township election supervision in sync.",
        discussion: """
            Township offices run `sunshine agent`; the county runs `sunshine coordinator`; the county's
            administrator creates certificates with `sunshine certs`. Try `sunshine demo` for a county on
            this machine.
            """,
        subcommands: [Certs.self, CoordinatorCommand.self, AgentCommand.self, DemoCommand.self]
    )
}
