#if canImport(Glibc)
import Glibc
#endif

/// Where monitored processes listen: one socket per process, `PID.sock`, in
/// a directory only its user can enter — `$XDG_RUNTIME_DIR/heapmonitor`, or
/// `${TMPDIR:-/tmp}/heapmonitor-UID` without a runtime directory.
///
/// ```swift
/// let path = ControlSocket.path(forProcess: 4242)
/// // "/run/user/1000/heapmonitor/4242.sock"
/// ```
public enum ControlSocket {
    /// The directory of this user's sockets.
    public static func directory() -> String {
        if let runtime = environment("XDG_RUNTIME_DIR") { return runtime + "/heapmonitor" }
        return temporaryDirectory + "/heapmonitor-\(getuid())"
    }

    /// The socket of process `pid`.
    public static func path(forProcess pid: Int32, in directory: String = directory()) -> String {
        directory + "/\(pid).sock"
    }

    /// The process id a socket file's name stands for (`4242.sock`), if it
    /// is one.
    public static func processID(ofSocketNamed name: String) -> Int32? {
        guard name.hasSuffix(".sock") else { return nil }
        return Int32(name.dropLast(5))
    }

    /// `$TMPDIR`, or `/tmp` when it is unset or empty: where the monitor
    /// puts files nobody asked a place for.
    package static var temporaryDirectory: String { environment("TMPDIR") ?? "/tmp" }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
