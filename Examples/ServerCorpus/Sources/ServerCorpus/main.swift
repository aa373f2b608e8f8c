import AsyncAlgorithms
import Collections
import HeapMonitor
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

// A server corpus for the monitor: Hummingbird 2 and a plain NIO HTTP/1
// pipeline serve loopback requests while every class is tracked (the app's
// own and some of NIO's with their own settings), so live snapshots size
// every live object and leak scans see them all, meanwhile. SIGTERM stops it
// as a deployment would; HostMonitor then prints its reports (switches from
// HEAPMONITOR).

let monitor = try HostMonitor(
    switches: MonitorSwitches(environment: nil),
    classes: [Session.self, SessionStore.self, RequestHandler.self, Exchange.self],
    resolutionLevel: 2)
try Tracker.shared.trackEveryClass()
for name in [
    "NIOCore.ByteBuffer._Storage", "NIOPosix.SocketChannel", "NIOCore.ChannelPipeline",
    "NIOHTTP1.HTTPServerPipelineHandler", "NIOPosix.SelectableEventLoop",
] {
    do { try Tracker.shared.track(className: name, resolutionLevel: 1) } catch { say("corpus: not tracked: \(name)") }
}

/// Runs the NIO server until the group shuts down.
struct NIOServerService: Service {
    let group: MultiThreadedEventLoopGroup
    let onRunning: @Sendable (Int) -> Void

    func run() async throws {
        let channel = try await startNIOServer(group: group)
        onRunning(channel.localAddress?.port ?? 0)
        try? await gracefulShutdown()
        try await channel.close()
    }
}

/// Drains the audit channel into a bounded log (the middleware feeds it).
actor AuditLog: Service {
    let channel: AsyncChannel<String>
    private(set) var recent: Deque<String> = []
    private(set) var total = 0

    init(channel: AsyncChannel<String>) { self.channel = channel }

    func run() async throws {
        await withGracefulShutdownHandler {
            for await path in channel {
                recent.append(path)
                if recent.count > 64 { recent.removeFirst() }
                total += 1
            }
        } onGracefulShutdown: {
            self.channel.finish()
        }
    }
}

let ports = PortAnnouncer()
let audit = AsyncChannel<String>()
let auditLog = AuditLog(channel: audit)
let analysis = LiveAnalysis(every: .milliseconds(50))
let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
var logger = Logger(label: "corpus")
logger.logLevel = .warning
let services: [any Service] = [
    makeHummingbirdApp(audit: audit) { ports.announce(hummingbird: $0) },
    NIOServerService(group: group) { ports.announce(nio: $0) },
    auditLog,
    analysis,
]
try await ServiceGroup(
    configuration: .init(
        services: services, gracefulShutdownSignals: [.sigterm],
        logger: logger)
).run()
try await group.shutdownGracefully()

let failures = await analysis.failures
say("corpus: sessions \(SessionStore.shared.count), audited \(await auditLog.total)")
say(
    "corpus: live snapshots \(await analysis.snapshots), live leak scans \(await analysis.scans), "
        + "most cycles \(await analysis.mostCycles), failures \(failures.count)")
let (objects, bytes) = await analysis.mostSized
say("corpus: largest live snapshot sized \(objects) objects, \(bytes) bytes")
for failure in Set(failures) { say("corpus: live analysis failed: \(failure)") }
do {
    try monitor.finish()
} catch {
    say("corpus: finish: \(error)")
}

/// One line to standard output, flushed: the check script reads it from a pipe.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
