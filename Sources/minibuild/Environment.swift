/// Construction variables, as in SCons: `$CC`, `$CFLAGS`, …
final class Environment {
    var variables: [String: String]
    /// Called when a variable changes (the graph re-reads its targets' actions).
    var onChange: ((String) -> Void)?

    init(variables: [String: String] = ["CC": "cc", "CFLAGS": "-O2 -Wall", "OBJSUFFIX": ".o"]) {
        self.variables = variables
    }

    /// Sets a variable and tells whoever listens.
    func set(_ name: String, _ value: String) {
        variables[name] = value
        onChange?(name)
    }

    /// `text` with `$NAME` replaced by the variables' values.
    func substitute(_ text: String) -> String {
        variables.keys.sorted { $0.count > $1.count }.reduce(text) { $0.replacingAll("$" + $1, with: variables[$1]!) }
    }
}
