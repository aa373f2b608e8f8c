@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import HeapMonitorTesting
import Testing
import XCTest

private final class Session { var onClose: (() -> Void)?; var id = 1 }
private final class Widget { var session: Session? }

extension TrackerSuite {
    @Suite("Leak expectations")
    struct LeakExpectationTests {
        @Test func aLeakingBlockRecordsAnIssueNamingTheCycle() {
            freshTracker().stopWatchingForLeaks()
            withKnownIssue {
                expectNoLeaks {
                    let session = Session()
                    session.onClose = { print(session.id) }
                }
            } matching: { issue in
                issue.comments.contains { $0.rawValue.contains("Session.onClose → Session") }
            }
            #expect(!Tracker.shared.isWatchingForLeaks, "watching ends with the block that started it")
        }

        @Test func aCleanBlockPassesAndReturnsItsResult() {
            freshTracker().stopWatchingForLeaks()
            let value = expectNoLeaks {
                let session = Session()
                session.onClose = { [weak session] in print(session?.id ?? 0) }
                return session.id + 41
            }
            #expect(value == 42)
        }

        @Test func cyclesLeakedBeforeAreNotBlamedOnTheBlock() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            do { let session = Session(); session.onClose = { _ = session } }
            expectNoLeaks { _ = Widget() }
        }

        @Test func instanceCountsAreChecked() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            let widgets = (0..<5).map { _ in Widget() }
            expectAtMost(5, instancesOf: Widget.self)
            withKnownIssue { expectAtMost(4, instancesOf: Widget.self) }
            #expect(tracker.liveInstances(of: Widget.self) == 5)
            _ = widgets
        }
    }
}

/// The XCTest forms, on a block that leaks nothing.
final class XCTestLeakAssertionTests: XCTestCase {
    func testAssertNoLeaksPassesCleanBlocks() {
        Tracker.shared.clear()
        let widget = XCTAssertNoLeaks { Widget() }
        XCTAssertAtMost(1, instancesOf: Widget.self)
        XCTAssertNotNil(widget)
        Tracker.shared.clear()
    }
}
