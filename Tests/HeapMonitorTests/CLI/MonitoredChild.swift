import Foundation
import Testing

/// A monitored process of its own (the control benchmark's host: `objects`
/// objects in 10 classes, `growth` more `GrowingCell`s each second, its
/// channel open until its input closes), asked by the CLI from outside.
final class MonitoredChild {
    let process = Process()
    private let input = Pipe()
    let directory: String

    init(objects: Int = 1000, growth: Int = 0) throws {
        directory = NSTemporaryDirectory() + "heapmonitor-live-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Readable by others, so that only the socket's own checks stand
        // between a stranger and the process.
        chmod(directory, 0o755)
        process.executableURL = URL(fileURLWithPath: try #require(builtProduct("heapmonitor-bench")))
        process.arguments = ["control-host", "--objects", "\(objects)", "--classes", "10", "--growth", "\(growth)"]
        process.environment = ProcessInfo.processInfo.environment.merging(["XDG_RUNTIME_DIR": directory]) { $1 }
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        try #require(String(decoding: line, as: UTF8.self) == "listening")
    }

    var pid: String { "\(process.processIdentifier)" }

    /// The CLI with this child's socket directory.
    func heapmonitor(_ arguments: [String], as user: String? = nil) throws -> ProcessResult {
        let tool = try #require(builtProduct("heapmonitor"))
        let environment = ["XDG_RUNTIME_DIR": directory]
        guard let user else { return try run(tool, arguments, environment: environment) }
        return try run("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=nogroup", "--clear-groups", tool] + arguments,
                       environment: environment)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
