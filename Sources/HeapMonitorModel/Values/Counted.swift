/// "1 object", "3 objects": a count with its noun in the right number.
package func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
