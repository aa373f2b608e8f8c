import ArgumentParser
import Foundation

/// `run`: the tracking loop of `Small` in `plainhost`, a program that does
/// not link HeapMonitor, plain and under `heapmonitor run` with no class
/// tracked — the control channel open, as by default, so its census counts
/// every event — and, for comparison, without the channel either; and the
/// wall time `heapmonitor run` adds to a program that exits at once.
struct RunBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "A program under heapmonitor run: its loop's cost and the startup added.",
        discussion: "plainhost, heapmonitor and the agent are the ones built next to this executable "
            + "(swift build -c release).")

    @Option(help: "Objects allocated and freed by the loop.")
    var ops = 10_000_000

    func validate() throws {
        guard ops > 0 else { throw ValidationError("--ops must be positive") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let plainhost = directory.appendingPathComponent("plainhost").path
        let heapmonitor = directory.appendingPathComponent("heapmonitor").path
        for path in [plainhost, heapmonitor, directory.appendingPathComponent("libHeapMonitorAgent.so").path]
        where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path) is not built: swift build -c release")
        }
        let underRun = [heapmonitor, "run", "--debug=control", "--", plainhost]
        // Hooks installed, a pattern tracked that matches no class.
        let withHooks = [heapmonitor, "run", "--no-control", "--track", "NoSuchModule.*", "--", plainhost]
        var plain: [Double] = [], monitored: [Double] = [], quiet: [Double] = []
        for _ in 0..<5 {
            plain.append(try loopNanoseconds([plainhost]))
            monitored.append(try loopNanoseconds(underRun))
            quiet.append(try loopNanoseconds(withHooks))
        }
        let plainNs = median(plain) / Double(ops), runNs = median(monitored) / Double(ops)
        let quietNs = median(quiet) / Double(ops)
        let startup = medianNanoseconds(repetitions: 11, [
            { _ = try? Self.output(of: [plainhost, "exit"]) }, { _ = try? Self.output(of: underRun + ["exit"]) },
        ])
        let startupMs = (startup[1] - startup[0]) / 1e6
        print("Small loop: \(rounded(plainNs)) ns plain, \(rounded(runNs)) ns under heapmonitor run "
              + "(\(rounded(runNs / plainNs))×; medians of 5, alternated)")
        print("hooks installed, a pattern that matches no class: \(rounded(quietNs)) ns "
              + "(\(rounded(quietNs / plainNs))×)")
        print("startup added: \(rounded(startupMs)) ms (\(rounded(startup[0] / 1e6)) ms plain, median of 11)")
        printResult(bench: "run", ["ops": Double(ops), "plain_ns": plainNs, "under_run_ns": runNs,
                                   "startup_ms": startupMs])
    }

    /// The loop's own time, as `plainhost loop` prints it.
    private func loopNanoseconds(_ command: [String]) throws -> Double {
        let printed = try Self.output(of: command + ["loop", "\(ops)"])
        guard let nanoseconds = printed.split(separator: "\n").first.flatMap({ Double($0) }) else {
            throw ValidationError("\(command.joined(separator: " ")) printed \(printed)")
        }
        return nanoseconds
    }

    /// What `command` prints on standard output, its standard error dropped.
    private static func output(of command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
