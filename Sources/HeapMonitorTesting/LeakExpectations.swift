import HeapMonitor
import HeapMonitorModel
import Testing

/// Runs `body` and records a test issue for every strong reference cycle it
/// leaves leaked, naming the types and the fields that close it:
///
/// ```swift
/// @Test func closingTheWindowFreesIt() throws {
///     try expectNoLeaks {
///         let window = Window()
///         window.show()
///         window.close()
///     }
/// }
/// ```
///
/// Objects are watched from the call on; cycles leaked before it are not
/// reported again. Other threads should not be changing objects meanwhile.
@discardableResult
public func expectNoLeaks<Result>(
    _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Result
) rethrows -> Result {
    let (result, leaks) = try LeakCheck.run(body)
    for group in leaks {
        Issue.record(
            Comment(rawValue: LeakCheck.message(for: group) + (comment.map { " — \($0.rawValue)" } ?? "")),
            sourceLocation: sourceLocation)
    }
    return result
}

/// Records a test issue if more than `limit` instances of `type` (or its
/// subclasses) allocated since watching began are alive.
public func expectAtMost(_ limit: Int, instancesOf type: AnyClass, sourceLocation: SourceLocation = #_sourceLocation) {
    let live = LeakCheck.liveInstances(of: type)
    if live > limit {
        Issue.record(Comment(rawValue: LeakCheck.countMessage(live, type, limit)), sourceLocation: sourceLocation)
    }
}

/// What the Swift Testing and XCTest front ends share.
enum LeakCheck {
    /// Runs `body` with objects watched; returns the cycles it leaked,
    /// grouped by shape.
    static func run<Result>(_ body: () throws -> Result) rethrows -> (Result, [LeakGroup]) {
        let tracker = Tracker.shared
        let startedHere = !tracker.isWatchingForLeaks
        if startedHere {
            do { try tracker.startWatchingForLeaks() } catch {
                Issue.record(Comment(rawValue: "cannot watch for leaks: \(error)"))
                return (try body(), [])
            }
        }
        defer { if startedHere { tracker.stopWatchingForLeaks() } }
        let before = scan(tracker)
        let result = try body()
        guard let before, let after = scan(tracker) else { return (result, []) }
        let known = Set(before.flatMap { $0.objects.map(\.address) })
        let new = after.filter { cycle in cycle.objects.contains { !known.contains($0.address) } }
        return (result, LeakReport(cycles: new, objectsScanned: 0, graphNodes: 0).groups)
    }

    /// The leaked cycles now, or nil (recorded as an issue) when the scan failed.
    private static func scan(_ tracker: Tracker) -> [LeakedCycle]? {
        do {
            return try tracker.findLeaks().cycles
        } catch {
            Issue.record(Comment(rawValue: "the leak scan failed: \(error)"))
            return nil
        }
    }

    /// Watches from now on if nothing does yet, and counts.
    static func liveInstances(of type: AnyClass) -> Int {
        let tracker = Tracker.shared
        if !tracker.isWatchingForLeaks { try? tracker.startWatchingForLeaks() }
        return tracker.liveInstances(of: type)
    }

    static func message(for group: LeakGroup) -> String {
        let cycle = group.example
        let what = group.count == 1 ? "leaked reference cycle" : "\(group.count) leaked reference cycles"
        return "\(what) of \(counted(cycle.objects.count, "object")) "
            + "(\(ByteCount.format(group.bytes))): \(group.count == 1 ? cycle.path : group.shape)"
    }

    static func countMessage(_ live: Int, _ type: AnyClass, _ limit: Int) -> String {
        "\(live) instances of \(stableTypeName(String(reflecting: type))) are alive; expected at most \(limit)"
    }
}
