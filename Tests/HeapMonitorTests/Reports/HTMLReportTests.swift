@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private final class Page {
    var title: String
    var lines: [String]
    init(_ index: Int) {
        title = "page \(index) of the report"
        lines = (0..<(index % 9)).map { "line \($0) of page \(index), long enough for storage" }
    }
}

private final class Cache<Key: Hashable> { var entries: [Key: [Int]] = [:] }
private final class Loop { var me: Loop? }
private final class Note { var text = "a note kept on the shelf" }
private final class Shelf {
    nonisolated(unsafe) static let shared = Shelf()
    var notes: [Note] = []
}

@inline(never) private func makePage(_ index: Int) -> Page { keep(Page(index)) }

/// A profile with several classes, a generic one, named objects with hostile
/// names, traces, referents and growth over six snapshots.
private func sampleProfile(at path: String) throws {
    let tracker = freshTracker()
    try tracker.startCensus()
    defer { tracker.stopCensus() }
    try tracker.track(class: Page.self, resolutionLevel: 1, trace: true)
    let cache = Cache<String>()
    try tracker.track(cache, name: "<script>alert('x')</script> & co", resolutionLevel: 2)
    try tracker.startProfile(at: path)
    var pages: [Page] = []
    for step in 0..<6 {
        pages += (0..<keep(40 * (step + 1))).map(makePage)
        for index in 0..<(step * 50) { cache.entries["key \(index) <\(step)>", default: []].append(index) }
        if step == 4 { pages.removeFirst(100) }
        try tracker.takeSnapshot(named: "step \(step) <b>bold?</b>")
        usleep(20_000)
    }
    try tracker.startWatchingForLeaks()
    do { let loop = Loop(); loop.me = loop }
    #expect(try tracker.findLeaks().cycles.count == 1)
    Shelf.shared.notes = (0..<30).map { _ in Note() }
    _ = try tracker.captureHeapGraph()
    Shelf.shared.notes = []
    tracker.stopWatchingForLeaks()
    try tracker.stopProfile()
    _ = keep(pages)
}

extension TrackerSuite {
    @Suite("HTML report")
    struct HTMLReportTests {
        @Test func theReportIsStructuredAndEscaped() throws {
            let path = temporaryPath("html.hmprof")
            defer { unlink(path) }
            try sampleProfile(at: path)
            let html = HTMLReport(profile: try Profile.load(from: path), instanceLimit: 25).render()
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>"))
            #expect(!html.contains("<script"), "no script, and hostile names are escaped")
            #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"))
            #expect(html.contains("Cache&lt;Swift.String&gt;") && !html.contains("Cache<Swift.String>"))
            #expect(html.contains("step 3 &lt;b&gt;bold?&lt;/b&gt;"))
            // The tables hold the profile's figures, row for row.
            let profile = try Profile.load(from: path)
            let snapshotRows = tableRows(in: html, after: "id=\"snapshots\"")
            #expect(snapshotRows.map { $0[2] } == profile.snapshots.map { HTML.escape($0.description) })
            #expect(snapshotRows.map { $0[7] } == profile.snapshots.map { "\($0.liveObjectCount)" })
            #expect(snapshotRows.map { $0[6] } == profile.snapshots.map { ByteCount.format($0.trackedBytes) })
            let classRows = tableRows(in: html, after: "id=\"classes\"")
            let instances = Dictionary(grouping: profile.objects) { profile.classNames[$0.classID] }.mapValues(\.count)
            #expect(Set(classRows.map { $0[0] }) == Set(instances.keys.map(HTML.escape)))
            for row in classRows {
                let name = instances.keys.first { HTML.escape($0) == row[0] }
                #expect(row[1] == "\(name.flatMap { instances[$0] } ?? -1)", "instances of \(row[0])")
            }
            // The census: flat bytes, beside what the tracked pages keep alive.
            let census = try #require(profile.snapshots.last { !$0.census.isEmpty })
            let censusRows = tableRows(in: html, after: "id=\"census\"")
            let pageRow = try #require(censusRows.first { $0[0] == "HeapMonitorTests.Page" })
            let pageSizes = census.objects.filter {
                profile.classNames[profile.objects[$0.object].classID] == pageRow[0]
            }
            #expect(pageRow[3] == ByteCount.format(pageSizes.reduce(0) { $0 + $1.size }) && !pageSizes.isEmpty)
            #expect(pageRow[2] == ByteCount.format(census.census.first { $0.className == pageRow[0] }!.liveBytes))
            #expect(html.contains(">flat bytes</th>"))
            #expect(
                !html.contains("http://")
                    || html.components(separatedBy: "http://").count
                        == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count,
                "nothing is fetched: the only URLs are SVG namespaces")
            #expect(
                html.components(separatedBy: "<svg").count - 1 >= 4, "memory chart, distribution, a chart per class")
            #expect(
                html.contains("id=\"snapshots\"") && html.contains("id=\"classes\"") && html.contains("id=\"census\""))
            #expect(
                html.contains("time (s)") && html.contains("KiB") && html.contains("process RSS")
                    && html.contains("tracked total"))
            #expect(html.contains("the 25 largest are listed"), "instances are capped with honest totals")
            #expect(html.contains("makePage"), "traces are shown")
            #expect(html.components(separatedBy: "<section id=\"class-").count - 1 == 2)
            #expect(html.contains("id=\"garbage\"") && html.contains("<code>Loop.me → Loop</code>"))
            // Who holds the memory: the last graph's dominators, row for row,
            // and the shelf's notes among the suspects.
            let analysis = HeapGraphAnalysis(try #require(profile.heapGraphs.last).graph)
            let holderRows = tableRows(in: html, after: "<h3>Retained most</h3>")
            let rows = analysis.dominators(limit: 25)
            #expect(holderRows.map { $0[0] } == rows.map { "\($0.node)" })
            #expect(holderRows.map { $0[1] } == rows.map { ByteCount.format($0.retainedBytes) })
            let suspects = try #require(
                html.components(separatedBy: "<ol class=\"suspects\">").dropFirst().first)
            #expect(
                suspects.contains("30 of 30 Note") && suspects.contains("Shelf.shared → notes[…]"),
                "\(suspects)")
            #expect(html.contains("<a href=\"#holders\">Holders</a>"))
        }

        /// Background snapshots (memory only) draw the memory lines but do
        /// not add rows or columns to the tables once there are many.
        @Test func backgroundSnapshotsOnlyDrawMemory() throws {
            let path = temporaryPath("background.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.track(class: Page.self)
            let pages = (0..<keep(30)).map(makePage)
            try tracker.startProfile(at: path)
            try tracker.takeSnapshot(named: "first sized")
            tracker.startPeriodicSnapshots(every: .milliseconds(2), description: "memory only")
            while tracker.snapshots.count < HTMLReport.snapshotRowLimit + 10 { usleep(2_000) }
            tracker.stopPeriodicSnapshots()
            try tracker.takeSnapshot(named: "last sized")
            try tracker.stopProfile()
            _ = keep(pages)
            let profile = try Profile.load(from: path)
            #expect(profile.snapshots.filter(\.sizedObjects).map(\.description) == ["first sized", "last sized"])
            let html = HTMLReport(profile: profile).render()
            let omitted = profile.snapshots.count - 2
            #expect(profile.snapshots.filter(\.isBackground).count == omitted)
            #expect(html.contains("\(omitted) background snapshots are drawn"))
            #expect(html.components(separatedBy: "<td>memory only</td>").count == 1, "no row per background snapshot")
            #expect(
                html.components(separatedBy: "<td>first sized</td>").count == 3, "snapshot table and the class's table")
            #expect(html.contains("allocator in use") && html.contains("peak RSS"))
            #expect(
                html.components(separatedBy: "class=\"marker\"").count - 1 == 2,
                "the program's own snapshots are marked")
            #expect(html.contains("<title>#0 first sized</title>"))
        }

        /// An hour of 20 ms background snapshots is 180,000 points a line:
        /// drawn thinned to the lowest and highest of each span, so a spike
        /// between two spans' worth of samples still shows.
        @Test func longLinesAreThinnedKeepingTheirPeaks() {
            let xs = (0..<180_000).map { Double($0) * 0.02 }
            var ys = xs.map { 1_000_000 + 100_000 * sin($0) }
            ys[123_457] = 9_000_000
            ys[99_999] = 10
            let (thinX, thinY) = SVGChart.thinned(xs, ys, toAtMost: SVGChart.maximumLinePoints)
            #expect(thinX.count <= SVGChart.maximumLinePoints && thinX.count == thinY.count)
            #expect(thinY.max() == 9_000_000 && thinY.min() == 10)
            #expect(thinX == thinX.sorted())
            let svg = SVGChart(
                title: "t", xValues: xs, xUnit: "s", series: [SVGChart.Series(name: "rss", values: ys, isLine: true)],
                yIsBytes: true
            ).render()
            let polyline = svg.components(separatedBy: "<polyline points=\"")[1].components(separatedBy: "\"")[0]
            #expect(polyline.split(separator: " ").count <= SVGChart.maximumLinePoints)
        }

        /// Many sized snapshots (periodic ones that size objects): a class's
        /// tables show an even spread of them, not one row or column each.
        @Test func classTablesSpreadManySnapshots() throws {
            let path = temporaryPath("many.hmprof")
            defer { unlink(path) }
            let tracker = freshTracker()
            try tracker.track(class: Page.self, resolutionLevel: 1)
            try tracker.startProfile(at: path)
            var pages: [Page] = []
            for step in 0..<60 {
                pages.append(makePage(step))
                try tracker.takeSnapshot(named: "step \(step)")
            }
            try tracker.stopProfile()
            _ = keep(pages)
            let html = HTMLReport(profile: try Profile.load(from: path)).render()
            #expect(html.contains("40 of 60 snapshots are shown") && html.contains("8 of 60 snapshots are shown"))
            #expect(
                html.contains("<td>step 59</td>") && html.contains("<th class=\"n\">step 59</th>"),
                "the last is always shown")
            let spread = HTMLReport.spread(60, limit: 40)
            #expect(
                spread.count == 40 && spread.first == 0 && spread.last == 59 && spread == spread.sorted()
                    && Set(spread).count == 40)
            #expect(HTMLReport.spread(5, limit: 40) == [0, 1, 2, 3, 4])
        }

        @Test func hostProfilesEndingInHTMLBecomeReports() throws {
            let path = temporaryPath("direct.html")
            defer { unlink(path); unlink(path + ".hmprof") }
            _ = freshTracker()
            var switches = MonitorSwitches()
            switches.tracksObjects = true
            switches.takesSnapshots = true
            switches.profilePath = path
            let host = try HostMonitor(switches: switches, classes: [Page.self], output: { _ in })
            let pages = (0..<keep(20)).map(makePage)
            try host.instant("pages made")
            #expect(FileManager.default.fileExists(atPath: path + ".hmprof"), "streamed while the host runs")
            try host.finish()
            _ = keep(pages)
            let html = try String(contentsOfFile: path, encoding: .utf8)
            #expect(html.contains("<h1>HeapMonitor report</h1>") && html.contains("pages made"))
            #expect(!FileManager.default.fileExists(atPath: path + ".hmprof"), "the intermediate profile is removed")
        }

        /// Headless Chromium (Debian's `chromium`, installed by .ci/run)
        /// renders the page to a PNG that is far from blank.
        @Test func chromiumRendersThePage() throws {
            let profile = temporaryPath("shot.hmprof"), page = temporaryPath("shot.html")
            let shot = temporaryPath("shot.png"), blankPage = temporaryPath("blank.html"),
                blankShot = temporaryPath("blank.png")
            defer { for file in [profile, page, shot, blankPage, blankShot] { unlink(file) } }
            try sampleProfile(at: profile)
            try HTMLReport(profile: try Profile.load(from: profile)).write(to: page)
            try Data("<!DOCTYPE html><html><body></body></html>".utf8).write(to: URL(fileURLWithPath: blankPage))
            for (html, png) in [(page, shot), (blankPage, blankShot)] {
                let chromium = try runTool(
                    "chromium",
                    [
                        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1200,1600", "--screenshot=\(png)", "file://\(html)",
                    ])
                #expect(chromium.status == 0, "Debian's chromium must be installed")
            }
            let png = try Data(contentsOf: URL(fileURLWithPath: shot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(png.count > 10 * (try fileSize(blankShot)), "charts and tables, not a blank page")
        }
    }
}

/// The cells of the first table after `anchor`, tags removed, row by row
/// (header row left out).
private func tableRows(in html: String, after anchor: String) -> [[String]] {
    guard let start = html.range(of: anchor),
          let body = html[start.upperBound...].range(of: "<tbody>"),
          let end = html[body.upperBound...].range(of: "</tbody>") else { return [] }
    let rows = html[body.upperBound..<end.lowerBound].components(separatedBy: "</tr>").dropLast()
    return rows.map { row in
        row.components(separatedBy: "</td>").dropLast().map { cell in
            let text = cell.components(separatedBy: "<td").last ?? ""
            let content = text.drop { $0 != ">" }.dropFirst()
            return String(content).replacing(/<[^>]*>/, with: "")
        }
    }
}
