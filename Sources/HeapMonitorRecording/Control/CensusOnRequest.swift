import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// How long a census the control channel started goes on counting
    /// after the last one asked for: then it stops, and the hooks come out
    /// of the GOT if nothing else needs them, so a program asked once does
    /// not pay for the count for the rest of its life. The next census
    /// walks the heap again.
    static let idleCensusLimit = Duration.seconds(600)

    /// The reply to a census request: the census starts (with one walk of
    /// the heap, forked) if it is not on, and its idle clock starts over.
    /// Where the hooks cannot be installed (a static executable without the
    /// wraps), every census is a walk of the heap.
    func answerCensus(limit: Int) -> ControlReply {
        let startsNow = !censusIsOn
        do throws(CensusError) {
            var hooked = true
            do {
                try startCensus()
            } catch .staticStandardLibrary, .nothingToPatch {
                hooked = false
            } catch {
                throw .hooks(error)
            }
            do { try walkHeapForCensus(again: !hooked) } catch { throw .walk(error) }
            if !hooked { return .census(liveCensus(limit: limit)) }
        } catch {
            return .failure("\(error); a census asked for again walks again")
        }
        let now = hm_clock_ns()
        state.withLock { state in
            if startsNow { state.censusStartedOnRequest = true }
            state.lastCensusRequest = now
        }
        return .census(liveCensus(limit: limit))
    }

    /// The census as a reply carries it: the first `limit` classes (all
    /// for 0) and the totals of all.
    private func liveCensus(limit: Int) -> LiveCensus {
        let entries = census()
        return LiveCensus(
            time: MonitorClock.elapsed, memory: .current(),
            entries: limit > 0 ? Array(entries.prefix(limit)) : entries, classCount: entries.count,
            liveCount: entries.reduce(0) { $0 + $1.liveCount }, liveBytes: entries.reduce(0) { $0 + $1.liveBytes })
    }

    /// Stops a census that a request started once none was asked for in
    /// `limit`, and takes the hooks out if no other work needs them. A
    /// census the program started itself (`startCensus()`, metrics) stays.
    func endCensusIfIdle(for limit: Duration) {
        let ends = state.withLock { state -> Bool in
            guard state.censusStartedOnRequest, hm_clock_ns() - state.lastCensusRequest >= UInt64(limit.nanoseconds)
            else { return false }
            state.censusStartedOnRequest = false
            // The tables stop counting: a later census walks again.
            state.censusSeed = nil
            return true
        }
        guard ends else { return }
        stopCensus()
        if hm_hooks_have_work() == 0 { uninstallHooks() }
    }
}
