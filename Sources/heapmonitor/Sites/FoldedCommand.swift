import ArgumentParser
import HeapMonitor

/// `heapmonitor folded`: live bytes by stack, for flame graphs.
struct FoldedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "folded",
        abstract: "Live bytes of traced objects by call stack, as folded stacks.",
        discussion: """
            One line a stack, outermost frame first, then its bytes: the input of flamegraph.pl \
            (heapmonitor folded app.hmprof | flamegraph.pl > live.svg) and of speedscope.
            """
    )

    @OptionGroup var options: ProfileOptions

    @Option(help: ArgumentHelp("The snapshot: \(SnapshotChoice.help) (default: last)."))
    var snapshot = "last"

    func validate() throws {
        guard options.files.count == 1 else { throw ValidationError("give one profile file") }
        guard !options.json else { throw ValidationError("folded stacks are text only") }
    }

    func run() throws {
        let profile = try options.load().profiles[0]
        print(profile.foldedStacks(at: try SnapshotChoice.index(snapshot, in: profile.snapshots)), terminator: "")
    }
}
