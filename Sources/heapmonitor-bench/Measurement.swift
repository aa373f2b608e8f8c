import Glibc

/// Runs each body once to warm up, then all of them in turn `repetitions`
/// times (interleaved, so that drift in the machine affects each alike), and
/// returns each body's median wall time in ns.
func medianNanoseconds(repetitions: Int = 5, _ bodies: [() -> Void]) -> [Double] {
    for body in bodies { body() }
    var samples = Array(repeating: [Double](), count: bodies.count)
    for _ in 0..<max(1, repetitions) {
        for (index, body) in bodies.enumerated() {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            samples[index].append(
                Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
        }
    }
    return samples.map(median)
}

/// The median of `values` (non-empty).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2]
        : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Prints the contract's last line: one JSON object of numbers (and the bench name).
func printResult(bench: String, _ fields: KeyValuePairs<String, Double>) {
    var parts = ["\"bench\":\"\(bench)\""]
    for (key, value) in fields {
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format2(value))
        parts.append("\"\(key)\":\(text)")
    }
    print("{" + parts.joined(separator: ",") + "}")
}

private func format2(_ value: Double) -> String {
    String((value * 100).rounded() / 100)
}
