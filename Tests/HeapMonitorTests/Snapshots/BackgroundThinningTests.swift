@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

private func sample(at time: Duration, rss: Int = 100 << 20) -> Snapshot {
    Snapshot(
        description: "background", time: time,
        memory: ProcessMemory(virtualBytes: 1 << 30, residentBytes: rss, allocatorBytes: 50 << 20),
        monitorBytes: 0, liveObjectCount: 0, sizedObjects: false, isBackground: true)
}

/// A long run's profile stays bounded: background snapshots are all kept
/// for a span, then one per window, the window's peak.
@Suite("Background thinning")
struct BackgroundThinningTests {
    /// Ten minutes at 20 ms on an accelerated clock: every snapshot of the
    /// first minute, then one a second, each its second's largest RSS.
    @Test func afterTheFullRateSpanOneSnapshotAWindowIsKeptItsPeak() {
        var thinner = BackgroundThinner(policy: .init(fullRateSpan: .seconds(60), window: .seconds(1)))
        var kept: [Snapshot] = []
        let start = Duration.seconds(5)
        for tick in 0..<30_000 {
            let time = start + .milliseconds(20 * tick)
            let spike = tick == 15_018  // 300.36 s after the first
            if let snapshot = thinner.admit(sample(at: time, rss: spike ? 900 << 20 : 100 << 20)) {
                kept.append(snapshot)
            }
        }
        if let last = thinner.finish() { kept.append(last) }
        #expect(kept.count == 3_000 + 540)
        #expect(kept.map(\.time) == kept.map(\.time).sorted(), "in time order")
        let spikes = kept.filter { $0.memory.residentBytes == 900 << 20 }
        #expect(spikes.map(\.time) == [start + .milliseconds(20 * 15_018)], "the peak survives")
        #expect(kept[3_000].time == start + .seconds(60), "the first window's first snapshot")
    }

    @Test func aBackgroundCensusIsTakenOncePerInterval() {
        var thinner = BackgroundThinner(policy: .init(censusInterval: .seconds(60)))  // 10 minutes by default
        let taken = (0..<30_000).filter { thinner.takesCensus(at: .milliseconds(20 * $0)) }
        #expect(taken == [0, 3_000, 6_000, 9_000, 12_000, 15_000, 18_000, 21_000, 24_000, 27_000])
    }

    @Test func noneKeepsEverySnapshot() {
        var thinner = BackgroundThinner(policy: .none)
        let kept = (0..<1_000).compactMap { thinner.admit(sample(at: .seconds($0 * 3_600))) }
        #expect(kept.count == 1_000)
        #expect(thinner.finish() == nil)
    }
}

extension TrackerSuite {
    @Suite("Background thinning in a profile")
    struct ProfiledBackgroundThinningTests {
        /// The tracker's background snapshots go through the thinning; its
        /// own snapshots are all written, and the records stay in order.
        @Test func aProfileKeepsThinnedBackgroundAndEveryProgramSnapshot() throws {
            let tracker = freshTracker()
            let path = temporaryPath("thinning.hmprof")
            defer { unlink(path) }
            tracker.backgroundThinning = .init(fullRateSpan: .milliseconds(100), window: .milliseconds(100))
            try tracker.startProfile(at: path)
            var taken = 0
            for round in 0..<600 {
                _ = try tracker.recordSnapshot(named: "background", sizingObjects: false, isBackground: true)
                taken += 1
                if round % 200 == 0 { try tracker.takeSnapshot(named: "program \(round)") }
                usleep(1_000)
            }
            try tracker.stopProfile()
            let profile = try #require(try MemStats(loading: [path]).profiles.first)
            let background = profile.snapshots.filter(\.isBackground)
            #expect(profile.snapshots.filter { !$0.isBackground }.map(\.description)
                == ["program 0", "program 200", "program 400"])
            #expect(background.count > 10 && background.count < taken / 2, "\(background.count) of \(taken)")
            #expect(profile.snapshots.map(\.time) == profile.snapshots.map(\.time).sorted())
        }
    }
}
