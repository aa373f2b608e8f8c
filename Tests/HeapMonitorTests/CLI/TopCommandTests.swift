import Foundation
import HeapMonitorAnalysis
import HeapMonitorModel
import Testing

/// A tmux server of the test's own, its one window a real terminal that
/// `heapmonitor top` draws on.
private struct TmuxSession {
    let socket = "heapmonitor-top-\(UUID().uuidString)"

    func tmux(_ arguments: [String]) throws -> ProcessResult {
        try run("/usr/bin/env", ["tmux", "-L", socket, "-f", "/dev/null"] + arguments)
    }

    /// Starts the server with `command` in its window, through system(3):
    /// Foundation's `Process` did not always see the tmux client end (it
    /// stayed a zombie while its server, forked from it, ran on).
    func start(_ command: String) -> Int32 {
        let quoted = command.replacingOccurrences(of: "'", with: "'\\''")
        return system("tmux -L \(socket) -f /dev/null new-session -d -s top -x 200 -y 40 "
            + "'\(quoted)' </dev/null >/dev/null 2>&1")
    }

    /// The screen now, one string per row.
    func screen() throws -> [String] {
        try tmux(["capture-pane", "-p", "-t", "top"]).output.split(separator: "\n").map(String.init)
    }

    /// The screen once `condition` holds for it, within `limit`.
    func screen(within limit: Duration = .seconds(15), where condition: ([String]) -> Bool) throws -> [String] {
        let deadline = ContinuousClock.now + limit
        var lines = try screen()
        while !condition(lines), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            lines = try screen()
        }
        return lines
    }
}

/// The first class row under the table's header.
private func firstRow(_ lines: [String]) -> String? {
    guard let header = lines.firstIndex(where: { $0.hasPrefix("instances") }), header + 1 < lines.count else {
        return nil
    }
    return lines[header + 1]
}

@Suite("heapmonitor top", .serialized)
struct TopCommandTests {
    /// In a real terminal against a child whose `GrowingCell`s pile up (but
    /// hold fewer bytes than any other class yet): the growing class comes
    /// first by growth, `b` orders by bytes, `q` quits with status 0.
    @Test func inATerminalTheGrowingClassComesFirstAndQQuits() throws {
        let child = try MonitoredChild(objects: 100_000, growth: 2_000)
        defer { child.stop() }
        let tool = try #require(builtProduct("heapmonitor"))
        let status = child.directory + "/top-status"
        let session = TmuxSession()
        let command = "env XDG_RUNTIME_DIR=\(child.directory) \(tool) top \(child.pid) --interval 0.5 --window 2; "
            + "echo exit=$? > \(status)"
        try #require(session.start(command) == 0, "tmux did not start")
        defer { _ = try? session.tmux(["kill-server"]) }

        let growing = try session.screen { firstRow($0)?.hasSuffix("GrowingCell") == true }
        #expect(firstRow(growing)?.hasSuffix("heapmonitor_bench.GrowingCell") == true, "\(growing)")
        #expect(growing.first?.contains("by growth") == true)
        #expect(firstRow(growing)?.contains("+") == true, "a positive rate")

        _ = try session.tmux(["send-keys", "-t", "top", "b"])
        let byBytes = try session.screen { $0.first?.contains("by bytes") == true }
        #expect(firstRow(byBytes)?.contains("Cell<(") == true, "\(byBytes)")

        _ = try session.tmux(["send-keys", "-t", "top", "q"])
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: status), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let exit = try String(contentsOfFile: status, encoding: .utf8)
        #expect(exit == "exit=0\n")
    }

    /// Without a terminal, `--iterations` prints that many screens; a process
    /// that is gone is a one-line error.
    @Test func withoutATerminalScreensArePrintedAndAGoneProcessIsAnError() throws {
        let child = try MonitoredChild()
        let printed = try child.heapmonitor(
            ["top", child.pid, "--iterations", "2", "--interval", "0.2", "--limit", "3"])
        #expect(printed.status == 0, "\(printed.error)")
        let headers = printed.output.split(separator: "\n").filter { $0.hasPrefix("instances") }
        #expect(headers.count == 2)
        child.stop()
        let gone = try child.heapmonitor(["top", child.pid, "--iterations", "1"])
        #expect(gone.status == 1 && gone.error.split(separator: "\n").count == 1, "\(gone.error)")
    }
}
