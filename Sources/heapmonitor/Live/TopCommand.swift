import ArgumentParser
import Foundation
import HeapMonitor

/// `heapmonitor top PID`: a live view of a running process's classes.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of a running process: its classes by bytes, count or growth, refreshed.",
        discussion: """
            In a terminal, keys change the order: b bytes, n count (instances), g growth \
            (bytes gained per second over the window); q or Ctrl-C quits. Without a \
            terminal, or with --iterations, the screens are printed one after another \
            (as top -b).
            """
    )

    @Argument(help: "The monitored process's id (heapmonitor ps lists them).")
    var pid: Int32

    @Option(help: "What the classes are ordered by: bytes, count or growth.")
    var sort: CensusHistory.Order = .growth

    @Option(help: "Seconds between refreshes.")
    var interval = 1.0

    @Option(help: "Seconds growth is measured over.")
    var window = 10.0

    @Option(help: "Classes shown (0: as many as the terminal has rows for, else 30).")
    var limit = 0

    @Option(help: "Refreshes before quitting (0: until q, or once without a terminal).")
    var iterations = 0

    func validate() throws {
        guard interval > 0, window > 0 else { throw ValidationError("--interval and --window must be positive") }
        guard limit >= 0, iterations >= 0 else { throw ValidationError("--limit and --iterations must be ≥ 0") }
    }

    func run() throws {
        let terminal = iterations == 0 ? Terminal() : nil
        defer { terminal?.restore() }
        do {
            try view(on: terminal)
        } catch {
            terminal?.restore()
            throw Output.failure(error)
        }
    }

    private func view(on terminal: Terminal?) throws(ControlError) {
        let client = ControlClient(pid: pid)
        var history = CensusHistory(window: .seconds(window))
        var order = sort
        var refreshes = 0
        var next = ContinuousClock.now
        while true {
            if ContinuousClock.now >= next {
                history.record(try client.census())
                refreshes += 1
                next = ContinuousClock.now + .seconds(interval)
            }
            guard let terminal else {
                print(screen(history, by: order, rows: limit == 0 ? 30 : limit, columns: .max))
                if refreshes >= max(1, iterations) { return }
                print()
                Thread.sleep(until: Date(timeIntervalSinceNow: interval))
                next = .now
                continue
            }
            let size = terminal.size
            let rows = limit == 0 ? size.rows - 6 : limit
            terminal.draw(
                screen(history, by: order, rows: rows, columns: size.columns) + "\n\n"
                    + "keys: b bytes, n count, g growth; q quits")
            switch terminal.input(before: next) {
            case .quit: return
            case .key(UInt8(ascii: "q")): return
            case .key(UInt8(ascii: "b")): order = .bytes
            case .key(UInt8(ascii: "n")), .key(UInt8(ascii: "c")): order = .count
            case .key(UInt8(ascii: "g")): order = .growth
            case .key, .resized, .none: break
            }
        }
    }

    private func screen(_ history: CensusHistory, by order: CensusHistory.Order, rows: Int, columns: Int) -> String {
        LiveReport.top(history, of: pid, by: order, limit: rows, width: columns)
    }
}

extension CensusHistory.Order: ExpressibleByArgument {}
