#if canImport(Glibc)
import Glibc
#endif
import CHeapMonitor
import HeapMonitorModel

extension Tracker {
    /// Opens this process's control channel: a Unix socket
    /// (`ControlSocket.path(forProcess:)`, mode 0600 in a directory of mode
    /// 0700) that `heapmonitor status`, `census`, `snapshot`, `leaks`,
    /// `track` and `top` talk to, served by a thread of the monitor's own for
    /// this user and root only (the kernel's peer credentials are checked).
    /// No network listener. Opening it costs the program nothing per
    /// allocation: counting instances per class starts with the first
    /// census asked for, which walks the heap once, in a forked child, for
    /// the instances alive before it (`countInstancesAliveBeforeCensus()`).
    ///
    /// With `snapshotSignal` (SIGUSR2 by default; nil for none) that signal
    /// takes a snapshot — into the profile, or into a profile of its own in
    /// the temporary directory — unless the program handles or ignores the
    /// signal itself, when it is left alone (`controlStatus.snapshotSignal`
    /// says which).
    ///
    /// ```swift
    /// try Tracker.shared.startControlChannel()
    /// // then, from a shell: heapmonitor census \(getpid())
    /// ```
    ///
    /// - Returns: The socket's path.
    @discardableResult
    public func startControlChannel(snapshotSignal: Int32? = SIGUSR2) throws(ControlError) -> String {
        let directory = ControlSocket.directory()
        try Self.makePrivateDirectory(directory)
        let path = ControlSocket.path(forProcess: getpid(), in: directory)
        return try ControlServer.current.withLock { (current) throws(ControlError) -> String in
            current?.shutDown()
            current = nil
            current = try ControlServer(tracker: self, path: path, snapshotSignal: snapshotSignal)
            return path
        }
    }

    /// Closes the control channel: the socket is removed, the signal handler
    /// too. Nothing happens when none is open.
    public func stopControlChannel() {
        ControlServer.current.withLock { current in
            current?.shutDown()
            current = nil
        }
    }

    /// The control socket's path while the channel is open.
    public var controlSocketPath: String? { ControlServer.current.withLock { $0?.path } }

    /// The signal that takes a snapshot while the channel is open, if it was
    /// installed.
    var controlSnapshotSignal: Int32? { ControlServer.current.withLock { $0?.snapshotSignal } }

    /// Creates `path` with mode 0700, or accepts it if it is a directory of
    /// this user that no one else can enter.
    private static func makePrivateDirectory(_ path: String) throws(ControlError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .unreachable("\(path): \(ControlServer.describe(errno))")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .unreachable("\(path): \(ControlServer.describe(errno))") }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw .unreachable("\(path) is not a directory of this user closed to others")
        }
    }
}
