@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Gadget {
    var parts: [Int]
    init(_ count: Int) { parts = Array(0..<count) }
}

/// Runs the built `heapmonitor` with `arguments`.
private func heapmonitor(_ arguments: [String]) throws -> ProcessResult {
    try runProduct("heapmonitor", arguments)
}

extension TrackerSuite {
    @Suite("heapmonitor commands")
    struct CommandLineTests {
        @Test func commandsReadAProfile() throws {
            let path = temporaryPath("cli.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.track(class: Gadget.self)
            var gadgets = (1...keep(20)).map { Gadget($0 * 100) }
            try tracker.startProfile(at: path)
            try tracker.takeSnapshot(named: "before")
            gadgets.removeLast(5)
            gadgets.append(Gadget(5000))
            try tracker.takeSnapshot(named: "after")
            // A background snapshot last: diff's defaults skip it.
            _ = try tracker.recordSnapshot(named: "background", sizingObjects: false, isBackground: true)
            try tracker.stopProfile()
            _ = keep(gadgets)

            let stats = try heapmonitor(["stats", path, "--limit", "3", "--sort", "size"])
            #expect(stats.status == 0)
            let lines = stats.output.split(separator: "\n")
            #expect(
                lines.count == 4 && lines[0].hasPrefix("id") && lines[1].contains("Gadget") && lines[1].contains("KiB"))

            let json = try heapmonitor(["stats", path, "--json", "--sort", "size", "--limit", "0.5"])
            let rows = try JSONDecoder().decode([MemStats.ObjectRow].self, from: Data(json.output.utf8))
            #expect(rows.count == 11 && rows.map(\.maxSize) == rows.map(\.maxSize).sorted(by: >))

            let summary = try heapmonitor(["summary", path])
            #expect(
                summary.status == 0 && summary.output.contains("\"before\"") && summary.output.contains("\"after\""))
            let last = try heapmonitor(["summary", path, "--snapshot", "last"])
            #expect(last.status == 0 && last.output.contains("\"after\"") && !last.output.contains("\"before\""))
            let picked = try heapmonitor(["summary", path, "--snapshot", "0", "--snapshot", "after", "--json"])
            let pickedRows = try JSONDecoder().decode([MemStats.ClassSummary].self, from: Data(picked.output.utf8))
            #expect(Set(pickedRows.map(\.snapshotDescription)) == ["before", "after"])
            #expect(
                try heapmonitor(["summary", path, "--snapshot", "peak"]).output.contains("\"before\""),
                "20 gadgets outweigh 16")
            #expect(try heapmonitor(["summary", path, "--snapshot", "no such snapshot"]).status == 64)
            let diff = try heapmonitor(["diff", path])
            #expect(
                diff.status == 0 && diff.output.contains("new objects (1)") && diff.output.contains("freed objects (5)")
            )
            let object = try heapmonitor(["object", path, "--id", "0"])
            #expect(object.status == 0 && object.output.contains("before") && object.output.contains("after"))
            let secondRun = temporaryPath("cli-second.hmprof")
            defer { unlink(secondRun) }
            try tracker.startProfile(at: secondRun)
            gadgets.removeFirst(10)
            try tracker.takeSnapshot(named: "second run")
            try tracker.stopProfile()
            let runs = try heapmonitor(["diff", path, secondRun])
            #expect(
                runs.status == 0 && runs.output.contains(path) && runs.output.contains(secondRun)
                    && !runs.output.contains("freed"))
            let change = try JSONDecoder().decode(
                MemStats.SnapshotDiff.self,
                from: Data(try heapmonitor(["diff", path, secondRun, "--json"]).output.utf8)
            )
            #expect(
                change.isAcrossRuns && change.classes.first?.countBefore == 16
                    && change.classes.first?.countAfter == 6)
            #expect(try heapmonitor(["diff", path, secondRun, path]).status == 64)
            let memory = try heapmonitor(["memory", path])
            #expect(memory.status == 0 && memory.output.contains("before") && memory.output.contains("peak RSS"))
            #expect(memory.output.contains("1 background snapshot not listed, from "))
            let everyRow = try heapmonitor(["memory", path, "--all"])
            #expect(everyRow.status == 0 && !everyRow.output.contains("not listed"))
            // Its row takes the summary's line.
            #expect(everyRow.output.split(separator: "\n").count == memory.output.split(separator: "\n").count)
            func memoryRows(_ arguments: [String]) throws -> [[String: Any]]? {
                let output = try heapmonitor(["memory", path, "--json"] + arguments).output
                return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
            }
            #expect(try memoryRows([])?.count == 2 && (try memoryRows([])?[0]["residentBytes"] as? Int ?? 0) > 0)
            #expect(try memoryRows(["--all"])?.count == 3)
            let filtered = try heapmonitor(["stats", path, "--filter", "nothing-like-this"])
            #expect(filtered.status == 0 && filtered.output.split(separator: "\n").count == 1)
        }

        @Test func badInputGivesAOneLineErrorAndExitCode1() throws {
            let path = temporaryPath("not-a-profile.txt")
            defer { unlink(path) }
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: path))
            for arguments in [["stats", path], ["summary", "/nonexistent.hmprof"], ["diff", path]] {
                let result = try heapmonitor(arguments)
                #expect(result.status == 1, "\(arguments)")
                #expect(result.error.split(separator: "\n").count == 1 && result.error.hasPrefix("heapmonitor: "))
                #expect(result.output.isEmpty)
            }
        }

        @Test func usageErrorsExitWith64() throws {
            #expect(try heapmonitor(["stats"]).status == 64)
            #expect(try heapmonitor(["stats", "x.hmprof", "--sort", "colour"]).status == 64)
            #expect(try heapmonitor(["stats", "x.hmprof", "--limit", "-1"]).status == 64)
        }
    }
}
