#if canImport(Glibc)
import Glibc
#endif
import CHeapMonitor
import HeapMonitorModel

/// The control channel of this process: a Unix socket served by a thread of
/// the monitor's own, one request per connection, one at a time.
final class ControlServer: @unchecked Sendable {
    /// The running server, at most one per process (the socket is named
    /// after the process).
    static let current = Locked<ControlServer?>(nil)

    let path: String
    let snapshotSignal: Int32?
    private let tracker: Tracker
    private let listener: Int32
    /// Bytes that wake the thread: `stop` to end it, `snapshot` from the
    /// signal handler. Never closed: a handler may write to it at any time,
    /// and a closed descriptor's number could be reused by the host.
    private let wakeRead: Int32, wakeWrite: Int32
    private var thread = pthread_t()
    private static let stop: UInt8 = 0x71, snapshot: UInt8 = 0x73
    /// How long one client may take to send its request and read the reply.
    private static let clientTimeout = Duration.seconds(5)
    private var signalSnapshots = 0

    init(tracker: Tracker, path: String, snapshotSignal: Int32?) throws(ControlError) {
        self.tracker = tracker
        self.path = path
        var pipeEnds: [Int32] = [0, 0]
        let piped = hm_control_pipe(&pipeEnds)
        guard piped == 0 else { throw .unreachable(Self.describe(-piped)) }
        (wakeRead, wakeWrite) = (pipeEnds[0], pipeEnds[1])
        let listening = hm_control_listen(path)
        guard listening >= 0 else { throw .unreachable("\(path): \(Self.describe(-listening))") }
        listener = listening
        if let signal = snapshotSignal, hm_control_signal_install(signal, wakeWrite, Self.snapshot) == 0 {
            self.snapshotSignal = signal
        } else {
            self.snapshotSignal = nil
        }
        let box = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { box in
            Unmanaged<ControlServer>.fromOpaque(box!).takeRetainedValue().serve()
            return nil
        }, box) == 0 else {
            Unmanaged<ControlServer>.fromOpaque(box).release()
            close(listener)
            unlink(path)
            throw .unreachable("no thread for the control channel")
        }
    }

    /// Ends the thread, removes the socket and the signal handler.
    func shutDown() {
        if snapshotSignal != nil { hm_control_signal_remove() }
        var byte = Self.stop
        _ = write(wakeWrite, &byte, 1)
        pthread_join(thread, nil)
        close(listener)
        unlink(path)
    }

    private func serve() {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            // Woken at least once a minute to end a census nobody asks for.
            let ready = poll(&fds, 2, 60_000)
            tracker.endCensusIfIdle(for: Tracker.idleCensusLimit)
            guard ready >= 0 else {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 {
                var bytes = [UInt8](repeating: 0, count: 64)
                let count = read(wakeRead, &bytes, bytes.count)
                if bytes[..<max(0, count)].contains(Self.stop) { return }
                if bytes[..<max(0, count)].contains(Self.snapshot) { snapshotOnSignal() }
            }
            if fds[0].revents != 0 {
                let connection = hm_control_accept(listener)
                if connection >= 0 {
                    answer(connection)
                    close(connection)
                }
            }
        }
    }

    /// Reads one request from `connection`, answers it. A stranger, garbage
    /// or a client that goes away gets an error or nothing; the host goes on.
    private func answer(_ connection: Int32) {
        ControlFrame.setTimeout(Self.clientTimeout, on: connection)
        var uid: UInt32 = 0, pid: Int32 = 0
        guard hm_control_peer(connection, &uid, &pid) == 0 else { return }
        let reply: ControlReply
        if uid != geteuid() && uid != 0 {
            reply = .refused("process \(pid) runs as user \(uid), this process as \(geteuid())")
        } else {
            do {
                let payload = try ControlFrame.read(limit: ControlFrame.requestLimit) {
                    (count) throws(ControlError) in try ControlFrame.receive(count, from: connection)
                }
                reply = tracker.answer(try ControlRequest(decoding: payload))
            } catch {
                reply = .failure("\(error)")
            }
        }
        try? ControlFrame.write(ControlFrame.frame(reply.encoded()), to: connection)
        // A Unix socket closed with the client's bytes unread resets the
        // connection, and the client may see the reset before the reply (a
        // refused stranger's request, garbage): take them first, until the
        // client closes, the request limit or the time-out.
        shutdown(connection, Int32(SHUT_WR))
        var unread = [UInt8](repeating: 0, count: 4096), taken = 0
        while taken <= ControlFrame.requestLimit {
            let got = unread.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if got <= 0 { break }
            taken += got
        }
    }

    /// The snapshot the signal asks for: into the program's profile, or a
    /// profile of its own in the temporary directory, named on stderr.
    private func snapshotOnSignal() {
        signalSnapshots += 1
        let oneOff = tracker.profilePath == nil
        let directory = ControlSocket.temporaryDirectory
        let file = oneOff ? directory + "/heapmonitor-\(getpid())-\(signalSnapshots).hmprof" : nil
        let reply = tracker.answer(.snapshot(description: "signal \(signalSnapshots)", profilePath: file))
        switch reply {
        case .snapshot(let summary):
            Self.log("snapshot \"\(summary.description)\" written to \(summary.profilePath ?? "memory")")
        case .failure(let reason): Self.log("no snapshot: \(reason)")
        default: break
        }
    }

    private static func log(_ line: String) {
        let text = Array("heapmonitor: \(line)\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
    }

    static func describe(_ error: Int32) -> String { String(cString: strerror(error)) }
}
