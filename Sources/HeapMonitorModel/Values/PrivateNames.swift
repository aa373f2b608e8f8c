/// A demangled name without the file discriminators of private
/// declarations: `App.(Shelf in _701A4D04).shared` → `App.Shelf.shared`.
package func withoutFileDiscriminators(_ demangled: String) -> String {
    guard demangled.contains(" in _") else { return demangled }
    return demangled.replacing(/\(([^()\s]+) in _[0-9A-F]+\)/) { String($0.output.1) }
}

/// A type name as the runtime writes it, without the anonymous contexts of
/// private and local types, whose addresses change from run to run:
/// `App.(unknown context at $5559a9b41928).Pair<App.Node>` →
/// `App.Pair<App.Node>`. Two private types of one name in different files
/// get one name, as in the source.
package func stableTypeName(_ runtimeName: String) -> String {
    guard runtimeName.contains("(unknown context at $") else { return runtimeName }
    return runtimeName.replacing(/\(unknown context at \$[0-9a-fA-F]+\)\./, with: "")
}
