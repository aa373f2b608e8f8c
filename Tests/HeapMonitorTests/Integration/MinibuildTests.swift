import CHeapMonitor
@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

/// Runs the built `minibuild` with `arguments`.
private func minibuild(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try runProduct("minibuild", arguments, environment: environment)
}

extension TrackerSuite {
    /// The README's main job, end to end: minibuild with all five switches.
    @Suite("minibuild")
    struct MinibuildTests {
        @Test func allFiveSwitchesProduceStatisticsAReportAndAGraph() throws {
            let html = temporaryPath("heap.html"), dot = temporaryPath("leaks.dot")
            defer { unlink(html); unlink(dot) }
            let run = try minibuild([
                "--modules", "4", "--files", "10", "--debug=heapmonitor", "--debug=memory",
                "--heapprofile=\(html)", "--debug=garbage", "--garbage=\(dot)",
            ])
            let text = run.output
            #expect(run.status == 0)
            #expect(text.contains("minibuild: built 40 targets in a generated project"))
            #expect(
                text.contains("1 leaked cycle")
                    && text.contains("DependencyGraph.environment → Environment.onChange → DependencyGraph"))
            #expect(text.contains("HeapMonitor: tracked objects, the 20 largest of") && text.contains("FileNode"))
            #expect(
                text.contains("snapshot") && text.contains("\"after building\"") && text.contains("share"),
                "per-class summaries, read from the profile before it became the HTML report")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            for instant in ["startup", "after reading the project", "after building", "after releasing the graph"] {
                #expect(page.contains(instant), "snapshot \(instant)")
            }
            #expect(page.contains("id=\"garbage\"") && page.contains("minibuild.FileNode"))
            #expect(
                try runTool("dot", ["-Tsvg", dot, "-o", "/dev/null"]).status == 0,
                "graphviz's dot accepts the garbage graph")
        }

        /// The garbage tutorial's fix: a weak listener leaves no cycle, and
        /// the graph's objects die before the last instant.
        @Test func theWeakListenerLeavesNoLeak() throws {
            let path = temporaryPath("weak.hmprof")
            defer { unlink(path) }
            let run = try minibuild([
                "--modules", "3", "--files", "10", "--weak-listener", "--debug=heapmonitor", "--debug=memory",
                "--debug=garbage", "--heapprofile=\(path)",
            ])
            #expect(run.status == 0)
            #expect(run.output.contains("no leaked cycles"))
            let profile = try Profile.load(from: path)
            let last = try #require(profile.snapshots.last { $0.description == "after releasing the graph" })
            #expect(
                !profile.objects.isEmpty && last.liveObjectCount == 0, "every node, action and the environment died")
        }

        /// `--debug=memory` alone: the four instants and background
        /// snapshots record process memory; no object is sized.
        @Test func memoryMonitoringWorksWithoutTracking() throws {
            let path = temporaryPath("memory.hmprof")
            defer { unlink(path) }
            let run = try minibuild([
                "--modules", "4", "--files", "20", "--file-kib", "64", "--debug=memory", "--heapprofile=\(path)",
            ])
            #expect(run.status == 0)
            #expect(
                run.output.contains("HeapMonitor: process memory") && run.output.contains("after releasing the graph")
                    && run.output.contains("peak RSS"), "--debug=memory prints the memory at the instants")
            let profile = try Profile.load(from: path)
            #expect(profile.isComplete && profile.objects.isEmpty)
            #expect(profile.snapshots.allSatisfy { !$0.sizedObjects }, "nothing is tracked, so nothing is sized")
            let instants = profile.snapshots.filter { !$0.isBackground }.map(\.description)
            #expect(
                profile.snapshots.count > instants.count,
                "background snapshots between the instants (the run takes longer than 20 ms)")
            #expect(
                instants == ["startup", "after reading the project", "after building", "after releasing the graph"])
            // glibc's counters (the thread sanitizer's allocator keeps none).
            let allocatorCounts = hm_allocator_is_glibc() != 0
            #expect(
                profile.snapshots.allSatisfy {
                    $0.memory.residentBytes > 0 && ($0.memory.allocatorBytes > 0 || !allocatorCounts)
                })
            #expect(profile.snapshots.map(\.time) == profile.snapshots.map(\.time).sorted())
            let page = HTMLReport(profile: profile).render()
            #expect(
                page.contains("records process memory only") && !page.contains("id=\"distribution\"")
                    && !page.contains("tracked total"))
            for instant in instants { #expect(page.contains("<td>\(instant)</td>"), "the instants are listed") }
        }

        /// The same switches from the environment variable, for programs
        /// started by something that does not pass arguments through.
        @Test func theEnvironmentVariableWorksToo() throws {
            let dot = temporaryPath("environment.dot")
            defer { unlink(dot) }
            let run = try minibuild(
                ["--modules", "2", "--files", "5"],
                environment: ["HEAPMONITOR": "--debug=garbage --garbage=\(dot)"])
            #expect(run.status == 0 && run.output.contains("1 leaked cycle"))
            #expect(try String(contentsOfFile: dot, encoding: .utf8).contains("onChange"))
            #expect(try minibuild([], environment: ["HEAPMONITOR": "--debug=everything"]).status == 64)
        }

        /// The tutorials' fixes change how files are read, not what is built:
        /// the three reading modes write the same signatures.
        @Test func theReadingModesBuildTheSameTargets() throws {
            let generate = try minibuild(["--generate-only", "--modules", "2", "--files", "3", "--file-kib", "200"])
            let project = generate.output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(generate.status == 0 && project.hasPrefix("/"))
            defer { try? FileManager.default.removeItem(atPath: project) }
            var outputs: [[String]] = []
            for mode in [[], ["--release-contents"], ["--hash-in-blocks"]] {
                #expect(try minibuild([project] + mode).status == 0)
                outputs.append(
                    try (0..<3).map { try String(contentsOfFile: "\(project)/module1/f\($0).o", encoding: .utf8) })
            }
            #expect(outputs[0].count == 3 && outputs[0].allSatisfy { $0.hasPrefix("object ") })
            #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0])
        }

        @Test func badSwitchesStopTheHostWithAUsageError() throws {
            let run = try minibuild(["--debug=memroy"])
            #expect(run.status == 64 && run.error.contains("memroy"))
        }
    }
}
