import ArgumentParser
import HeapMonitor

/// Options every command asking a running process shares.
struct ProcessOptions: ParsableArguments {
    @Argument(help: "The monitored process's id (heapmonitor ps lists them).")
    var pid: Int32

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// `body`'s answer from the process; a failure ends the command with its
    /// one-line error and exit code 1.
    func ask<T>(_ body: (ControlClient) throws(ControlError) -> T) throws -> T {
        do {
            return try body(ControlClient(pid: pid))
        } catch {
            throw Output.failure(error)
        }
    }
}
