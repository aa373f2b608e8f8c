@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

final class ControlTestSession {
    var token = "session-token-of-some-length"
    var peer: ControlTestSession?
}

/// A client connected straight to a socket: sends `bytes`, reads the
/// server's reply frame until it closes.
private func exchange(_ bytes: [UInt8], at path: String) throws -> [UInt8] {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    try #require(connected == 0)
    ControlFrame.setTimeout(.seconds(10), on: fd)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    shutdown(fd, Int32(SHUT_WR))
    var reply: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got <= 0 { break }
        reply += chunk[0..<got]
    }
    return reply
}

/// `tracker`'s control channel, open in a socket directory of its own
/// (`XDG_RUNTIME_DIR`) until `close()`.
private struct OpenChannel {
    let tracker: Tracker
    let directory = NSTemporaryDirectory() + "heapmonitor-control-\(UUID().uuidString)"
    let path: String

    init(_ tracker: Tracker) throws {
        self.tracker = tracker
        setenv("XDG_RUNTIME_DIR", directory, 1)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = try tracker.startControlChannel(snapshotSignal: nil)
    }

    func close() {
        tracker.stopControlChannel()
        unsetenv("XDG_RUNTIME_DIR")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

extension TrackerSuite {
    /// The control channel, served by this process's monitor thread to a
    /// client in the same process, over the real socket.
    @Suite("Control channel")
    struct ControlChannelTests {
        @Test func aClientAsksForStatusCensusSnapshotAndLeaks() throws {
            let tracker = freshTracker()
            let channel = try OpenChannel(tracker)
            defer { channel.close() }
            let path = channel.path
            #expect(path.hasPrefix(channel.directory + "/heapmonitor/"))
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "the socket is the user's alone")

            let sessions = (0..<keep(300)).map { _ in ControlTestSession() }
            let client = ControlClient(pid: getpid())

            let census = try client.census(limit: 0)
            let row = try #require(census.entries.first { $0.className.hasSuffix("ControlTestSession") })
            #expect(row.liveCount == 300)
            #expect(row.liveBytes >= 300 * 40, "a header, a String and a reference each")

            try client.track(className: String(reflecting: ControlTestSession.self), resolutionLevel: 1)
            let status = try client.status()
            #expect(status.pid == getpid())
            #expect(status.countsInstances)
            #expect(status.trackedClasses.map(\.name).contains(String(reflecting: ControlTestSession.self)))

            let snapshot = try client.snapshot(named: "asked from outside")
            #expect(snapshot.description == "asked from outside")
            #expect(snapshot.objectCount == 0, "tracked after they were made: no instance records")
            let later = (0..<keep(20)).map { _ in ControlTestSession() }
            let second = try client.snapshot(named: "with new sessions")
            #expect(second.objectCount == 20)
            #expect(second.trackedBytes >= 20 * 40)

            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            for _ in 0..<keep(4) {
                let a = ControlTestSession(), b = ControlTestSession()
                a.peer = b
                b.peer = a
            }
            let leaks = try client.leaks()
            #expect(leaks.cycles.count == 4)
            _ = keep((sessions, later))
        }

        @Test func garbageOnTheSocketIsAnsweredWithAnErrorAndTheServerGoesOn() throws {
            let tracker = freshTracker()
            let channel = try OpenChannel(tracker)
            defer { channel.close() }
            let path = channel.path

            let reply = try exchange(Array("GET / HTTP/1.1\r\n\r\n".utf8), at: path)
            var cursor = 0
            let payload = try ControlFrame.read(limit: 1 << 20) { (count) throws(ControlError) -> [UInt8] in
                guard cursor + count <= reply.count else { throw .malformed("the reply ends early") }
                defer { cursor += count }
                return Array(reply[cursor..<(cursor + count)])
            }
            let answer = try ControlReply(decoding: payload)
            guard case .failure(let reason) = answer else {
                Issue.record("garbage answered with \(answer)")
                return
            }
            #expect(reason.contains("not a HeapMonitor control frame"))
            #expect(try ControlClient(pid: getpid()).status().pid == getpid(), "the server goes on")

            // A snapshot request whose description's length runs one byte
            // past the frame: once read past the payload's end (a crash).
            let overrun = try exchange(ControlFrame.frame([3, 4] + Array("abc".utf8)), at: path)
            #expect(!overrun.isEmpty, "answered, not crashed")
            #expect(throws: ControlError.self) { try ControlRequest(decoding: [3, 4] + Array("abc".utf8)) }
            #expect(try ControlClient(pid: getpid()).status().pid == getpid(), "the server goes on")
        }

        @Test func aProcessWithoutAChannelOrAStaleSocketIsAClearError() throws {
            let directory = NSTemporaryDirectory() + "heapmonitor-control-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            #expect(throws: ControlError.notMonitored(pid: getpid())) {
                _ = try ControlClient(pid: getpid(), directory: directory).status()
            }
            // A socket file left by a killed process: nothing listens on it.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/true")
            try child.run()
            child.waitUntilExit()
            let dead = child.processIdentifier
            let stale = ControlSocket.path(forProcess: dead, in: directory)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in stale.utf8.enumerated() { raw[index] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            close(fd)
            try #require(bound == 0)
            #expect(throws: ControlError.staleSocket(pid: dead)) {
                _ = try ControlClient(pid: dead, directory: directory).status()
            }
            #expect(!FileManager.default.fileExists(atPath: stale), "the stale socket is removed")
        }
    }
}
