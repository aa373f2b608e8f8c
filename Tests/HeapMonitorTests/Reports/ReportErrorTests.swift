import HeapMonitor
import Testing

/// A report that cannot be written says which file and why, as a
/// `ReportError` — not a profile's error.
@Suite("Report errors")
struct ReportErrorTests {
    @Test func unwritablePagesAndGraphsNameTheirFile() {
        let page = "/nonexistent-directory/page.html", graph = "/nonexistent-directory/leaks.dot"
        let missing = "No such file or directory"
        #expect(throws: ReportError(path: page, reason: missing)) {
            try HTMLReport(profile: Profile(path: "empty.hmprof")).write(to: page)
        }
        #expect(throws: ReportError(path: graph, reason: missing)) {
            try LeakReport(cycles: [], objectsScanned: 0, graphNodes: 0).writeDOT(to: graph)
        }
        #expect(ReportError(path: page, reason: missing).description == "\(page): cannot be written: \(missing)")
    }
}
