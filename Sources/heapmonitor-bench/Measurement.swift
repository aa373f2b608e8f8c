import Glibc

/// Runs `body` once to warm up, then `repetitions` times, and returns the
/// median wall time in ns.
func medianNanoseconds(repetitions: Int = 5, _ body: () -> Void) -> Double {
    body()
    var samples: [Double] = []
    for _ in 0..<max(1, repetitions) {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
    }
    samples.sort()
    return samples.count % 2 == 1
        ? samples[samples.count / 2]
        : (samples[samples.count / 2 - 1] + samples[samples.count / 2]) / 2
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
