import Collections
import Foundation

/// A user's session: what a server keeps per client. The store below never
/// evicts them, so they pile up as a real server's sessions do.
final class Session: @unchecked Sendable {
    let id: String
    var history: Deque<String> = []
    var attributes: OrderedDictionary<String, Int> = [:]
    var cart: TreeDictionary<Int, String> = [:]
    var seen: Heap<Int> = []

    init(id: String) { self.id = id }

    func visit(_ path: String, at count: Int) {
        history.append(path)
        if history.count > 8 { history.removeFirst() }
        attributes[path, default: 0] += 1
        cart[count] = "item-\(count)"
        seen.insert(count)
    }
}

/// The process-wide session store: a lock and a dictionary, as in most servers.
final class SessionStore: @unchecked Sendable {
    static let shared = SessionStore()
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    private var visits = 0

    func visit(_ id: String, path: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let session = sessions[id] ?? Session(id: id)
        sessions[id] = session
        visits += 1
        session.visit(path, at: visits)
        return sessions.count
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return sessions.count
    }
}

/// A per-request object whose stored closure captures `self` strongly: the
/// most common Swift leak. Each one run leaks a two-object cycle
/// (`RequestHandler.onFinish → closure context → RequestHandler`).
final class RequestHandler {
    let path: String
    var onFinish: (() -> Void)?
    var finished = 0

    init(path: String) { self.path = path }

    func run() -> String {
        onFinish = { self.finished += 1 }
        onFinish?()
        return "handled \(path)"
    }
}

/// Per-exchange state of the plain NIO server, leaked the same way through
/// an array of callbacks (`Exchange.callbacks[0] → context → Exchange`).
final class Exchange {
    let uri: String
    var callbacks: [() -> Void] = []
    var bytes = 0

    init(uri: String) { self.uri = uri }

    func start() {
        callbacks.append { self.bytes += self.uri.utf8.count }
        callbacks.forEach { $0() }
    }
}

/// The body the JSON route decodes and encodes back, through Foundation's coders.
struct Order: Codable, Sendable {
    struct Line: Codable, Sendable {
        var sku: String
        var quantity: Int
    }
    var customer: String
    var lines: [Line]
    var note: String?
}
