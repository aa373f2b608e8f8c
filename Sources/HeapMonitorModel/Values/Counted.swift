/// "1 object", "3 objects", "2 classes": a count with its noun in the right
/// number.
package func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : noun.hasSuffix("s") ? "es" : "s")"
}
