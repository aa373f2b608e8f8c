/// A class name without its module and without the anonymous context of
/// a private type: `Module.(unknown context at $5f3a).Outer.Inner` → `Outer.Inner`.
package func shortClassName(_ name: String) -> String {
    var text = Substring(name)
    if let dot = text.firstIndex(of: "."), !text.hasPrefix("(") { text = text[text.index(after: dot)...] }
    while text.hasPrefix("(unknown context at "), let close = text.firstIndex(of: ")") {
        text = text[text.index(after: close)...].drop { $0 == "." }
    }
    return text.isEmpty ? name : String(text)
}
