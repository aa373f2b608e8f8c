@testable import HeapMonitor
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
