@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

/// The forked child's life: its result comes back whole, and every way it
/// can fail is reported as a typed error while this process goes on.
@Suite("Isolated run", .serialized)
struct IsolatedRunTests {
    @Test func theChildsBytesComeBackWhole() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (bytes, run) = try IsolatedRun.run(timeout: .seconds(30)) { big }
        #expect(bytes == big, "more than a pipe's buffer, read while the child writes")
        #expect(run.resultBytes == big.count)
        #expect(run.pause > .zero && run.latency >= run.pause)
    }

    @Test func theChildSeesTheHeapAsItWasAtTheFork() throws {
        final class Box { var value = 1 }
        let box = Box()
        box.value = 41
        let (bytes, _) = try IsolatedRun.run(timeout: .seconds(30)) {
            let seen = UInt8(box.value)
            box.value = 99  // the child's copy only
            return [seen]
        }
        #expect(bytes == [41])
        #expect(box.value == 41, "a write in the child does not reach the parent")
    }

    /// The child holds none of the host's descriptors (a socket the host
    /// closes must close for its peer), only its pipe and the standard three.
    @Test func theChildHoldsNoneOfTheHostsDescriptors() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let (bytes, _) = try IsolatedRun.run(timeout: .seconds(30)) {
            [
                fcntl(ends[0], F_GETFD) == -1 ? 1 : 0, fcntl(ends[1], F_GETFD) == -1 ? 1 : 0,
                fcntl(2, F_GETFD) == -1 ? 1 : 0,
            ]
        }
        #expect(bytes == [1, 1, 0])
    }

    /// A host that leaves its children to the kernel (SIGCHLD ignored) still
    /// gets the result: it is framed, so a whole one is told from a cut one.
    @Test func aChildReapedByTheKernelStillReportsItsResult() throws {
        let previous = signal(SIGCHLD, SIG_IGN)
        defer { signal(SIGCHLD, previous) }
        let (bytes, _) = try IsolatedRun.run(timeout: .seconds(30)) { [7, 8, 9] }
        #expect(bytes == [7, 8, 9])
    }

    @Test(arguments: [SIGSEGV, SIGABRT, SIGBUS])
    func aChildThatCrashesIsReportedWithItsSignal(signal: Int32) {
        #expect(throws: AnalysisError.childCrashed(signal: signal)) {
            _ = try IsolatedRun.run(timeout: .seconds(30)) {
                raise(signal)
                return [1]
            }
        }
    }

    @Test func aFaultReadingMemoryEndsOnlyTheChild() {
        #expect(throws: AnalysisError.childCrashed(signal: SIGSEGV)) {
            _ = try IsolatedRun.run(timeout: .seconds(30)) {
                [UnsafePointer<UInt8>(bitPattern: 0x10)!.pointee]
            }
        }
    }

    @Test func aChildThatHangsIsKilledAtTheTimeOut() {
        let start = ContinuousClock.now
        #expect(throws: AnalysisError.timedOut(after: .milliseconds(300))) {
            _ = try IsolatedRun.run(timeout: .milliseconds(300)) {
                while true { pause() }
            }
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func aChildThatExitsWithoutAResultIsReported() {
        #expect(throws: AnalysisError.childFailed(status: 3)) {
            _ = try IsolatedRun.run(timeout: .seconds(30)) { _exit(3) }
        }
    }

    @Test func errorsSayWhatHappened() {
        #expect(AnalysisError.childCrashed(signal: SIGSEGV).description.contains("signal 11"))
        #expect(AnalysisError.timedOut(after: .seconds(2)).description.contains("2"))
        #expect(AnalysisError.forkRefused(errno: EAGAIN).description.contains("could not fork"))
    }
}
