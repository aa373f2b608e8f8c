@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import CHeapMonitor
import Foundation
import Testing

/// The forked child's life: its result comes back whole, and every way it
/// can fail is reported as a typed error while this process goes on.
@Suite("Isolated run", .serialized)
struct IsolatedRunTests {
    @Test func theChildsBytesComeBackWhole() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let outcome = try IsolatedRun.run(timeout: .seconds(30)) { big }
        let run = outcome.run
        #expect(outcome.bytes == big, "more than a pipe's buffer, read while the child writes")
        #expect(run.resultBytes == big.count)
        #expect(run.pause > .zero && run.latency >= run.pause)
    }

    @Test func theChildSeesTheHeapAsItWasAtTheFork() throws {
        final class Box { var value = 1 }
        let box = Box()
        box.value = 41
        let bytes = try IsolatedRun.run(timeout: .seconds(30)) {
            let seen = UInt8(box.value)
            box.value = 99  // the child's copy only
            return [seen]
        }.bytes
        #expect(bytes == [41])
        #expect(box.value == 41, "a write in the child does not reach the parent")
    }

    /// The child holds none of the host's descriptors (a socket the host
    /// closes must close for its peer), only its pipe and the standard three.
    @Test func theChildHoldsNoneOfTheHostsDescriptors() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let bytes = try IsolatedRun.run(timeout: .seconds(30)) {
            [
                fcntl(ends[0], F_GETFD) == -1 ? 1 : 0, fcntl(ends[1], F_GETFD) == -1 ? 1 : 0,
                fcntl(2, F_GETFD) == -1 ? 1 : 0,
            ]
        }.bytes
        #expect(bytes == [1, 1, 0])
    }

    /// A host that leaves its children to the kernel (SIGCHLD ignored) still
    /// gets the result: it is framed, so a whole one is told from a cut one.
    @Test func aChildReapedByTheKernelStillReportsItsResult() throws {
        let previous = signal(SIGCHLD, SIG_IGN)
        defer { signal(SIGCHLD, previous) }
        let bytes = try IsolatedRun.run(timeout: .seconds(30)) { [7, 8, 9] }.bytes
        #expect(bytes == [7, 8, 9])
    }

    /// A child makes no runtime call that takes a lock (another thread may
    /// have held it at the fork): it notes the layout it left incomplete,
    /// and the note comes back with the result.
    @Test func aChildDefersRuntimeLookupsToItsParent() throws {
        struct Fresh {
            var name: String
            var values: [Int]
        }
        #expect(RuntimeLookups.mayCall(), "the parent may call the runtime")
        let outcome = try IsolatedRun.run(timeout: .seconds(30)) {
            var builder = LayoutBuilder()
            let layout = builder.layout(for: Metadata(Fresh.self))
            return [UInt8(layout.fields.count), layout.isOpaque ? 1 : 0]
        }
        #expect(outcome.bytes == [0, 1], "no field type resolved in the child")
        #expect(outcome.deferred == [DeferredLookup(metadata: Metadata(Fresh.self), need: .valueLayout)])
        var builder = LayoutBuilder()
        builder.make(outcome.deferred[0])
        #expect(builder.layout(for: Metadata(Fresh.self)).fields.map(\.name) == ["name", "values"])
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
                while true { _ = hm_clock_ns() }  // busy: never asleep
            }
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// A child asleep on a lock another thread held at the fork is told
    /// from a slow one long before the time-out.
    @Test func aChildBlockedOnALockHeldAtTheForkIsKilledAtOnce() throws {
        let lock = HeldLock()
        defer { lock.release() }
        let start = ContinuousClock.now
        #expect(throws: AnalysisError.childBlocked) {
            _ = try IsolatedRun.run(timeout: .seconds(30)) {
                lock.acquire()
                return [1]
            }
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// The Swift runtime's own locks (`swift_once` here) retry FUTEX_LOCK_PI
    /// at once when their owner is in another process: a child that needs a
    /// global another thread was initialising at the fork spins in the
    /// kernel, and is told from a working one as fast.
    @Test func aChildSpinningOnARuntimeLockIsKilledAtOnce() throws {
        let initialising = Thread { _ = slowlyInitialisedGlobal }
        initialising.start()
        usleep(200_000)  // inside the initialiser, holding its once lock
        let start = ContinuousClock.now
        #expect(throws: AnalysisError.childBlocked) {
            _ = try IsolatedRun.run(timeout: .seconds(30)) { [slowlyInitialisedGlobal] }
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(slowlyInitialisedGlobal == 7)
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

/// Initialised on first use, under the runtime's once lock, for two seconds.
private let slowlyInitialisedGlobal: UInt8 = {
    usleep(2_000_000)
    return 7
}()

/// A mutex another thread holds from `init` until `release` (or for
/// `holding`, if given), as a runtime lock may be held at a fork.
final class HeldLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let taken = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(holding duration: Duration? = nil) {
        pthread_mutex_init(mutex, nil)
        Thread { [self] in
            pthread_mutex_lock(mutex)
            taken.signal()
            if let duration {
                usleep(UInt32(duration.components.attoseconds / 1_000_000_000_000))
            } else {
                released.wait()
            }
            pthread_mutex_unlock(mutex)
            finished.signal()
        }.start()
        taken.wait()
    }

    func acquire() { pthread_mutex_lock(mutex) }

    func release() {
        released.signal()
        finished.wait()
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
}
