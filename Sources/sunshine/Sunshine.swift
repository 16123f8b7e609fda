import ArgumentParser
import SunshineRPC

@main
struct Sunshine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sunshine",
        abstract: "Keeps a county's township election supervision in sync.",
        discussion: """
            Start with `sunshine demo`: a whole county on this machine in under a minute.

            Township offices run `sunshine agent`; their clerks record with `sunshine ballot`, `sunshine finding` \
            and check with `sunshine local status`, with or without network. The county runs `sunshine coordinator`; \
            its operators watch with `sunshine dashboard` and `status`, count with `tally`, publish with \
            `contest publish`, and settle with `conflicts`, `resolve`, `rejected` and `close-round`. The county's \
            administrator creates certificates with `sunshine certs` and copies a running node's store with \
            `sunshine backup`.
            """,
        subcommands: [
            DemoCommand.self, Certs.self, CoordinatorCommand.self, AgentCommand.self,
            DashboardCommand.self, StatusCommand.self, TallyCommand.self, ContestCommand.self, ConflictsCommand.self, ResolveCommand.self,
            RejectedCommand.self, CloseRoundCommand.self, PutCommand.self,
            BallotCommand.self, FindingCommand.self, LocalCommand.self, BackupCommand.self,
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
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // `--help` and usage errors: argument-parser prints them itself.
            exit(withError: error)
        } catch {
            exit(withError: CommandFailure(ErrorSentence.describe(error)))
        }
    }
}
