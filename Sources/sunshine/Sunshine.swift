import ArgumentParser
import SunshineRPC

@main
struct Sunshine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sunshine",
        abstract: "Keeps a county's township election supervision in sync.",
        discussion: """
            Township offices run `sunshine agent`, and clerks record with `sunshine ballot` and
            `sunshine finding`; the county runs `sunshine coordinator` and operators use `status`, `tally`,
            `conflicts`, `put`, `resolve` and `close-round`; the county's administrator creates certificates
            with `sunshine certs` and copies a running node's store with `sunshine backup`. Try `sunshine demo`
            for a county on this machine.
            """,
        subcommands: [
            Certs.self, CoordinatorCommand.self, AgentCommand.self,
            StatusCommand.self, TallyCommand.self, ConflictsCommand.self, PutCommand.self, ResolveCommand.self, CloseRoundCommand.self,
            BallotCommand.self, FindingCommand.self, BackupCommand.self, DemoCommand.self,
        ]
    )

    /// Runs the command, and turns whatever it failed with into one sentence for a person — the
    /// one place the CLI says what went wrong (argument-parser's own usage errors aside).
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var synchronous = command
                try synchronous.run()
            }
        } catch let error as ValidationError {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CommandFailure {
            exit(withError: error)
        } catch {
            exit(withError: CommandFailure(ErrorSentence.describe(error)))
        }
    }
}
