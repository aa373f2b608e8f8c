import Foundation
import Synchronization
import Testing

/// The path of an executable product built next to the test bundle.
func builtProduct(_ name: String) -> String? {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return nil
}

/// What a finished process left: how it ended and its two outputs.
struct ProcessResult {
    /// The exit status, or the signal that ended it (see `reason`).
    var status: Int32
    var reason: Process.TerminationReason
    var output: String
    var error: String
}

/// Runs `executable` with `arguments` to its end, with `environment` added
/// to this process's.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Both pipes are drained at once: a full one would stop the child.
    final class Collected: @unchecked Sendable { var data = Data() }
    let err = Collected(), group = DispatchGroup()
    DispatchQueue.global().async(group: group) { err.data = error.fileHandleForReading.readDataToEndOfFile() }
    let out = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, reason: process.terminationReason,
        output: String(decoding: out, as: UTF8.self),
        error: String(decoding: err.data, as: UTF8.self))
}

/// Runs the built product `name` (minibuild, heapmonitor, …).
func runProduct(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try run(try #require(builtProduct(name)), arguments, environment: environment)
}

/// Runs a tool from the PATH (`dot`, `chromium`).
func runTool(_ name: String, _ arguments: [String]) throws -> ProcessResult {
    try run("/usr/bin/env", [name] + arguments)
}

/// Lines a host printed, collected from any thread (`HostMonitor`'s output
/// is `@Sendable`).
final class PrintedLines: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var joined: String { lines.withLock { $0.joined() } }

    var all: [String] { lines.withLock { $0 } }
}
