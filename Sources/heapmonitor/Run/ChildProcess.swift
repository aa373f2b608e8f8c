import Foundation
import Synchronization

/// The program `heapmonitor run` starts: spawned with its own environment,
/// sent the signals `heapmonitor` is asked to stop with, waited for.
struct ChildProcess {
    /// Its process id.
    let pid: pid_t

    /// Starts `arguments[0]` (looked up in `PATH` when it has no slash)
    /// with `environment`, its signals at their defaults.
    init(arguments: [String], environment: [String: String]) throws(RunError) {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Self.forwarded + [SIGINT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // A mask inherited from whatever started heapmonitor is not the
        // program's: it starts with every signal deliverable.
        var unmasked = sigset_t()
        sigemptyset(&unmasked)
        posix_spawnattr_setsigmask(&attributes, &unmasked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, arguments[0], nil, &attributes, argv, envp)
        guard result == 0 else {
            throw RunError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    /// Signals that `heapmonitor run` passes on to the program: a terminal's
    /// Ctrl-C reaches the program itself (it is in the same process group),
    /// so SIGINT is only ignored here while the program runs.
    static let forwarded = [SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]

    /// Waits for the program to end, passing on the forwarded signals; its
    /// exit status, or 128 + the signal that killed it, as a shell reports.
    func waitForExit() -> Int32 {
        ForwardedSignals.target.store(pid, ordering: .relaxed)
        signal(SIGINT, SIG_IGN)
        for number in Self.forwarded {
            signal(number) { number in kill(ForwardedSignals.target.load(ordering: .relaxed), number) }
        }
        var forwarded = sigset_t()
        sigemptyset(&forwarded)
        for number in Self.forwarded { sigaddset(&forwarded, number) }
        pthread_sigmask(SIG_UNBLOCK, &forwarded, nil)
        defer {
            for number in Self.forwarded + [SIGINT] { signal(number, SIG_DFL) }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// The process the signal handlers forward to (a handler captures nothing).
private enum ForwardedSignals {
    static let target = Atomic<pid_t>(0)
}

/// Why `heapmonitor run` could not run or report on a program.
struct RunError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String

    init(_ description: String) { self.description = description }
}
