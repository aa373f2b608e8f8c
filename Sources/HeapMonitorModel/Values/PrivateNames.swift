/// A demangled name without the file discriminators of private
/// declarations: `App.(Shelf in _701A4D04).shared` → `App.Shelf.shared`.
package func withoutFileDiscriminators(_ demangled: String) -> String {
    guard demangled.contains(" in _") else { return demangled }
    return demangled.replacing(/\(([^()\s]+) in _[0-9A-F]+\)/) { String($0.output.1) }
}
