/// How a target is built from its sources.
class Action {
    let command: String
    init(command: String) { self.command = command }

    /// The command line for `target`, with `$TARGET` and `$SOURCES` expanded.
    func commandLine(for target: Node, environment: Environment) -> String {
        environment.substitute(command)
            .replacingAll("$TARGET", with: target.path)
            .replacingAll("$SOURCES", with: target.sources.map(\.path).joined(separator: " "))
    }
}

/// A command run for each target: here, "compiling" writes the combined
/// signature of the sources and what they include.
final class CommandAction: Action {}

extension String {
    func replacingAll(_ pattern: String, with replacement: String) -> String {
        split(separator: pattern, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
