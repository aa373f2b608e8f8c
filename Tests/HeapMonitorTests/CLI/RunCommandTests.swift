import Foundation
import HeapMonitorAnalysis
import Testing

/// `heapmonitor run` on `plainhost` (Examples/PlainHost), a program that
/// does not link HeapMonitor: 100 Orders of 3 Lines kept, a two-Node cycle
/// dropped, exit status 3.
@Suite("heapmonitor run", .serialized)
struct RunCommandTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "heapmonitor-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    private var environment: [String: String] { ["XDG_RUNTIME_DIR": directory] }

    private func heapmonitorRun(_ arguments: [String], preloading: String? = nil) throws -> ProcessResult {
        let preload = preloading.map { ["LD_PRELOAD": $0] } ?? [:]
        return try runProduct("heapmonitor", ["run"] + arguments, environment: environment.merging(preload) { $1 })
    }

    private func plainhost() throws -> String { try #require(builtProduct("plainhost")) }

    /// The row `class count …` of the per-class summary, as its count.
    private func summaryCount(of className: String, in output: String) -> Int? {
        output.split(separator: "\n").lazy.compactMap { line -> Int? in
            let words = line.split(separator: " ")
            guard words.count > 2, words[0] == className else { return nil }
            return Int(words[1])
        }.first
    }

    @Test func theDefaultRunTracksEveryClassFindsTheCycleAndKeepsTheStatus() throws {
        let result = try heapmonitorRun(["--", try plainhost(), "work"])
        #expect(result.status == 3, "\(result.error)")
        #expect(result.output.hasPrefix("plainhost: 100 orders"))
        #expect(summaryCount(of: "Order", in: result.output) == 100, "\(result.output)")
        #expect(summaryCount(of: "Line", in: result.output) == 300)
        #expect(result.output.contains("HeapMonitor: process memory"))
        #expect(result.output.contains("1 leaked cycle of 1 shape, 64 B"), "\(result.output)")
        #expect(result.output.components(separatedBy: "plainhost.Node at 0x").count == 3)
        #expect(result.error.contains("as pid "))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!left.contains { $0.hasSuffix(".hmprof") }, "the temporary profile is removed: \(left)")
    }

    @Test func patternsTheHTMLPageAndTheGarbageGraph() throws {
        let page = directory + "/run.html", graph = directory + "/cycles.dot"
        let result = try heapmonitorRun([
            "--debug=heapmonitor,memory", "--debug=garbage", "--track", "plainhost.Order", "--trace", "plainhost.L*",
            "--heapprofile=\(page)", "--garbage=\(graph)", "--", try plainhost(), "work",
        ])
        #expect(result.status == 3, "\(result.error)")
        #expect(summaryCount(of: "Order", in: result.output) == 100)
        #expect(summaryCount(of: "Line", in: result.output) == 300)
        #expect(summaryCount(of: "Node", in: result.output) == nil, "Node matches no pattern")
        #expect(result.output.contains("1 leaked cycle"), "leaks are scanned among every class's instances")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("Order") && html.contains("<svg"))
        #expect(!FileManager.default.fileExists(atPath: page + ".hmprof"), "the page replaces its profile")
        let dot = try String(contentsOfFile: graph, encoding: .utf8)
        #expect(dot.hasPrefix("digraph") && dot.contains("Node"))
    }

    @Test func aKeptProfileHoldsTheTracesOfTracedPatterns() throws {
        let path = directory + "/run.hmprof"
        let result = try heapmonitorRun([
            "--trace", "plainhost.Line", "--heapprofile=\(path)", "--", try plainhost(), "work",
        ])
        #expect(result.status == 3, "\(result.error)")
        let profile = try Profile.load(from: path)
        #expect(profile.isComplete)
        let lines = profile.objects.filter { profile.classNames[$0.classID] == "plainhost.Line" }
        #expect(lines.count == 300 && lines.allSatisfy { $0.traceID != nil })
        let frames = lines.first.flatMap { $0.traceID.map { profile.traces[$0] } } ?? []
        #expect(frames.contains { $0.contains("buildOrders") }, "\(frames)")
    }

    /// A running program answers the live commands, including who holds
    /// its objects; SIGTERM sent to `heapmonitor run` reaches it, and it
    /// reports at its exit.
    /// `heapmonitor run OPTIONS -- plainhost serve`, started: the process,
    /// the output pipe (past plainhost's first line) and plainhost's pid.
    private func serve(_ options: [String]) throws -> (process: Process, output: Pipe, pid: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(builtProduct("heapmonitor")))
        process.arguments = ["run"] + options + ["--", try plainhost(), "serve"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        return (process, output, try #require(words.last.flatMap { Int32($0) }, "\(words)"))
    }

    /// A running program answers the live commands, including who holds
    /// its objects; SIGTERM sent to `heapmonitor run` reaches it, and it
    /// reports at its exit.
    @Test func aServingProgramIsAskedFromOutsideThenStoppedBySIGTERM() throws {
        let (process, output, pid) = try serve(["--track", "plainhost.*", "--debug=heapgraph"])
        let status = try runProduct("heapmonitor", ["status", "\(pid)"], environment: environment)
        #expect(status.status == 0 && status.output.contains("plainhost.*"), "\(status.output)\(status.error)")
        let retainers = try runProduct(
            "heapmonitor", ["retainers", "\(pid)", "--class", "Line"], environment: environment)
        #expect(retainers.output.contains("300 of 300 Line"), "\(retainers.output)\(retainers.error)")
        #expect(retainers.output.contains("plainhost.kept"))
        process.terminate()
        let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(summaryCount(of: "Order", in: rest) == 100, "\(rest)")
        #expect(rest.contains("held by plainhost.kept"))
    }

    @Test func aKilledProgramsStatusAndProfileSurvive() throws {
        let path = directory + "/killed.hmprof"
        let (process, output, pid) = try serve(["--track", "plainhost.*", "--heapprofile=\(path)"])
        // A snapshot over the control socket, so that the file holds one.
        _ = try runProduct("heapmonitor", ["snapshot", "\(pid)", "before the kill"], environment: environment)
        kill(pid, SIGKILL)
        _ = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + SIGKILL)
        let profile = try Profile.load(from: path)
        #expect(!profile.isComplete)
        #expect(profile.snapshots.map(\.description) == ["before the kill"])
        #expect(profile.objects.filter { profile.classNames[$0.classID] == "plainhost.Order" }.count == 100)
    }

    @Test func childrenAreRecordedOnlyWhenAsked() throws {
        let program = try plainhost()
        let script = "\(program) work; \(program) work; true"
        let quiet = try heapmonitorRun(["--track", "plainhost.*", "--", "/bin/sh", "-c", script])
        #expect(quiet.status == 1 && quiet.error.contains("does not load libswiftCore.so"), "\(quiet.error)")
        let result = try heapmonitorRun(["--children", "--track", "plainhost.*", "--", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.error)")
        let paths = result.error.split(separator: "\n").compactMap { $0.split(separator: " recorded in ").last }
            .filter { $0.hasSuffix(".hmprof.\($0.split(separator: ".").last ?? "")") }
        #expect(paths.count == 2, "\(result.error)")
        for path in paths {
            let profile = try Profile.load(from: String(path))
            #expect(profile.objects.filter { profile.classNames[$0.classID] == "plainhost.Order" }.count == 100)
        }
    }

    /// SwiftPM, a Swift program we did not write (Foundation, Dispatch,
    /// swift-argument-parser, swift-collections…), describing a package
    /// with every analysis on: it exits normally and the reports are made.
    @Test func swiftPMIsRecordedWithEveryAnalysis() throws {
        let package = directory + "/Tiny"
        try FileManager.default.createDirectory(atPath: package + "/Sources/Tiny", withIntermediateDirectories: true)
        try """
            // swift-tools-version: 6.0
            import PackageDescription
            let package = Package(name: "Tiny", targets: [.target(name: "Tiny")])
            """.write(toFile: package + "/Package.swift", atomically: true, encoding: .utf8)
        try "public let one = 1\n".write(
            toFile: package + "/Sources/Tiny/Tiny.swift", atomically: true, encoding: .utf8)
        let result = try heapmonitorRun([
            "--debug=heapmonitor,memory,garbage,heapgraph", "--",
            "swift-package", "describe", "--package-path", package,
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Name: Tiny"), "\(result.output)")
        #expect(result.output.contains("who holds the memory: "))
        #expect(result.output.contains("leaked cycle") || result.output.contains("no leaked cycles"))
        #expect(result.output.contains("SwiftCommandState"), "SwiftPM's own classes are tracked")
    }

    /// Under jemalloc (preloaded, as a production server links it): sizes
    /// are its usable sizes and bytes in use its `stats.allocated`, not
    /// glibc's `mallinfo2`, which would see nothing.
    @Test func underJemallocSizesAgreeWithItsStatistics() throws {
        let jemalloc = "/usr/lib/\(machine())-linux-gnu/libjemalloc.so.2"
        try #require(FileManager.default.fileExists(atPath: jemalloc), "apt-get install libjemalloc-dev (.ci/run does)")
        let plain = try run(try plainhost(), ["work", "20000"], environment: ["LD_PRELOAD": jemalloc])
        let marker = "plainhost: jemalloc allocated +"
        let line = try #require(plain.output.split(separator: "\n").first { $0.hasPrefix(marker) })
        let allocated = try #require(Double(line.dropFirst(marker.count)))
        let path = directory + "/jemalloc.hmprof"
        let result = try heapmonitorRun(
            ["--track", "plainhost.*", "--heapprofile=\(path)", "--", try plainhost(), "work", "20000"],
            preloading: jemalloc)
        #expect(result.status == 3, "\(result.error)")
        let end = try #require(try Profile.load(from: path).snapshots.last)
        let tracked = Double(end.trackedBytes)
        #expect(abs(tracked - allocated) <= allocated / 100, "tracked \(tracked) B, jemalloc +\(allocated) B")
        #expect(end.memory.allocatorBytes >= end.trackedBytes, "bytes in use from jemalloc's statistics")
    }

    private func machine() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    @Test func programsItCannotRecordAreRefusedInOneLine() throws {
        let notSwift = try heapmonitorRun(["--", "/bin/true"])
        #expect(notSwift.status == 1 && notSwift.error.contains("--static-swift-stdlib"), "\(notSwift.error)")
        let linked = try heapmonitorRun(["--", try #require(builtProduct("minibuild"))])
        #expect(linked.status == 1 && linked.error.contains("links HeapMonitor already"), "\(linked.error)")
        let missing = try heapmonitorRun(["--", "no-such-program-here"])
        #expect(missing.status == 1 && missing.error.contains("no such program"))
        let nothing = try heapmonitorRun([])
        #expect(nothing.status != 0 && nothing.error.contains("name the program"))
        for result in [notSwift, linked, missing] {
            #expect(result.error.split(separator: "\n").count == 1)
        }
    }
}
