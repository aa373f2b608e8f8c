import ArgumentParser
import Foundation

/// How every command prints: text or JSON on standard output, errors as one
/// line on standard error with exit code 1.
enum Output {
    /// Prints `value` as JSON with `asJSON`, else `text()`.
    static func emit<T: Encodable>(_ value: T, asJSON: Bool, text: () -> String) throws {
        if asJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        } else {
            print(text())
        }
    }

    /// Writes `error` as one line and returns the exit code to throw.
    static func failure(_ error: any Error) -> ExitCode {
        note("heapmonitor: \(error)\n")
        return ExitCode(1)
    }

    /// Writes `text` to standard error.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
