import HeapMonitor

/// One fuzz input: parsed as a profile file and, when it parses, analysed as
/// the CLI and the HTML report would. Any input may be rejected; none may crash or hang. The
/// first byte chooses whether checksums are verified: without them mutations
/// reach the record parsers; with them, the checksum path is covered too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProfileReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    guard let profile = try? Profile.parse(bytes, path: "fuzz-input", verifyingChecksums: data[0] & 1 == 1) else {
        return 0
    }
    var stats = MemStats(profiles: [profile])
    stats.sort(by: [.className, .size])
    _ = StatsReport.objects(stats.limited(to: 5))
    _ = StatsReport.summary(stats)
    if profile.snapshots.count >= 2, let diff = stats.diff(from: 0, to: profile.snapshots.count - 1) {
        _ = StatsReport.diff(diff, in: stats)
    }
    if let row = stats.rows.first { _ = StatsReport.object(row, in: stats) }
    _ = StatsReport.memory(profile, background: data[0] & 2 == 2)
    // A second parse is a second run: its own identity, the same contents.
    if let last = profile.snapshots.indices.last,
        let rerun = try? Profile.parse(bytes, path: "fuzz-rerun", verifyingChecksums: data[0] & 1 == 1)
    {
        let runs = MemStats(profiles: [profile, rerun])
        if let diff = runs.diff(from: 0, in: profile.id, to: last, in: rerun.id) {
            _ = StatsReport.diff(diff, in: runs)
        }
    }
    _ = HTMLReport(profile: profile, instanceLimit: 3).render()
    if let scan = profile.leakScans.last { _ = (scan.report.description, scan.report.dot) }
    // The graph commands' questions over every graph the file holds.
    var earlier: HeapGraphAnalysis?
    for capture in profile.heapGraphs {
        let analysis = HeapGraphAnalysis(capture.graph)
        _ = analysis.whoHoldsTheMemory(limit: 3)
        _ = analysis.suspects(since: earlier)
        _ = analysis.classes()
        if let name = capture.graph.typeNames.first { _ = analysis.retainers(ofClass: name) }
        if capture.graph.count > 0 { _ = analysis.steps(to: capture.graph.count - 1) }
        earlier = analysis
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM names an executable's entry point after its module; libFuzzer's
/// driver takes over from there.
@_cdecl("ProfileReaderFuzz_main")
public func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzProfileReader)
}
