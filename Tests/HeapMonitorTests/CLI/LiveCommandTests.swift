import Foundation
import HeapMonitorModel
import Testing

@Suite("heapmonitor live commands", .serialized)
struct LiveCommandTests {
    @Test func censusStatusSnapshotLeaksAndTrackFromOutside() throws {
        let child = try MonitoredChild()
        defer { child.stop() }
        let census = try child.heapmonitor(["census", child.pid, "--json", "--limit", "0"])
        #expect(census.status == 0, "\(census.error)")
        let decoded = try JSONDecoder().decode(LiveCensus.self, from: Data(census.output.utf8))
        let cells = decoded.entries.filter { $0.className.contains("Cell<") }
        #expect(cells.count == 10 && cells.allSatisfy { $0.liveCount == 100 })

        let track = try child.heapmonitor(["track", child.pid, "--class", "heapmonitor_bench.ControlHost"])
        #expect(track.status == 1 && track.error.contains("no loaded class"), "a struct is not a class")
        let status = try child.heapmonitor(["status", child.pid])
        #expect(status.status == 0 && status.output.contains("census: on"))
        #expect(status.output.contains("(glibc)"), "the allocator is named")
        let snapshot = try child.heapmonitor(["snapshot", child.pid, "from outside"])
        #expect(snapshot.status == 0 && snapshot.output.contains("snapshot \"from outside\""))
        let leaks = try child.heapmonitor(["leaks", child.pid])
        #expect(leaks.status == 0 && leaks.output.contains("no leaked cycles"))
        let ps = try child.heapmonitor(["ps"])
        #expect(ps.output.contains(child.pid))
    }

    /// As root (CI and this machine run the tests as root), a client of
    /// another user is refused by the server's peer check even where the
    /// socket's mode would let it in, and the process is unharmed; a killed
    /// process leaves a stale socket, which is a one-line error.
    @Test func aStrangerIsRefusedAndAGoneProcessIsAnError() throws {
        let child = try MonitoredChild()
        if getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            chmod(child.directory + "/heapmonitor", 0o755)
            chmod(child.directory + "/heapmonitor/\(child.pid).sock", 0o777)
            let stranger = try child.heapmonitor(["status", child.pid], as: "nobody")
            #expect(stranger.status == 1 && stranger.error.contains("refused"), "\(stranger.error)")
        }
        #expect(try child.heapmonitor(["status", child.pid]).status == 0, "the server goes on")
        kill(child.process.processIdentifier, SIGKILL)  // its socket stays behind
        child.process.waitUntilExit()
        let gone = try child.heapmonitor(["status", child.pid])
        #expect(gone.status == 1 && gone.error.contains("stale"), "\(gone.error)")
        #expect(gone.error.split(separator: "\n").count == 1, "one line")
        child.stop()
    }
}
