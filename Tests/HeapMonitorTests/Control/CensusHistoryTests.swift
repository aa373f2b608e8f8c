import HeapMonitorAnalysis
import HeapMonitorModel
import Testing

/// A census at `seconds` of the given (name, live count, live bytes).
private func census(at seconds: Int, _ classes: [(String, Int, Int)]) -> LiveCensus {
    let entries = classes.map { CensusEntry(className: $0.0, liveCount: $0.1, liveBytes: $0.2, allocations: $0.1) }
    return LiveCensus(
        time: .seconds(seconds), memory: ProcessMemory(virtualBytes: 0, residentBytes: 0, allocatorBytes: 0),
        entries: entries, classCount: entries.count, liveCount: entries.reduce(0) { $0 + $1.liveCount },
        liveBytes: entries.reduce(0) { $0 + $1.liveBytes })
}

@Suite struct CensusHistoryTests {
    @Test func ratesAreMeasuredOverTheWindowAndOrderTheRows() {
        var history = CensusHistory(window: .seconds(10))
        history.record(census(at: 0, [("Big", 1000, 64000), ("Grows", 10, 320), ("Dies", 5, 160)]))
        #expect(history.rows(by: .growth).map(\.bytesPerSecond) == [0, 0, 0], "no span yet")
        history.record(census(at: 4, [("Big", 1000, 64000), ("Grows", 50, 1600), ("New", 2, 64)]))

        let byGrowth = history.rows(by: .growth)
        #expect(byGrowth.map(\.className) == ["Grows", "New", "Big", "Dies"])
        #expect(byGrowth[0].bytesPerSecond == 320 && byGrowth[0].countPerSecond == 10)
        #expect(byGrowth[3].liveCount == 0 && byGrowth[3].bytesPerSecond == -40, "a class that died out")
        #expect(history.rows(by: .bytes).first?.className == "Big")
        #expect(history.rows(by: .count).map(\.className) == ["Big", "Grows", "New", "Dies"])
    }

    @Test func theOldestCensusKeptIsTheNewestAWindowOld() {
        var history = CensusHistory(window: .seconds(10))
        for second in stride(from: 0, through: 30, by: 5) {
            history.record(census(at: second, [("Grows", second, second * 100)]))
        }
        #expect(history.span == .seconds(10) && history.censuses.count == 3)
        #expect(history.rows(by: .growth).first?.bytesPerSecond == 100)
        history.record(census(at: 1, [("Grows", 1, 100)]))
        #expect(history.censuses.count == 1, "an older census (a restarted process) starts again")
    }

    @Test func theScreenFitsItsWidthAndLimit() {
        var history = CensusHistory()
        history.record(census(at: 0, [("A", 1, 32), ("B", 2, 64), ("C", 3, 96)]))
        history.record(census(at: 1, [("A", 2, 64), ("B", 2, 64), ("C", 3, 96)]))
        let screen = LiveReport.top(history, of: 42, by: .growth, limit: 2, width: 44)
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 44 })
        #expect(lines.count == 6, "two lines of process figures, a gap, the header, two rows")
        #expect(lines[4].hasSuffix("A") && lines[4].contains("+32 B/s") && lines[4].contains("+1/s"))
    }
}
