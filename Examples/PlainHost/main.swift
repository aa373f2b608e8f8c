// A program that knows nothing of HeapMonitor (it does not link it): what
// `heapmonitor run` is checked on and timed with.
//
//   plainhost work [N]    builds N (100) Orders of 3 Lines each, keeps them,
//                         drops a two-Node cycle, exits with status 3; under
//                         jemalloc, prints its stats.allocated delta over
//                         building the Orders
//   plainhost loop N      allocates and frees N Small objects; prints the ns
//   plainhost exit        exits at once (startup cost)
//   plainhost serve       builds the Orders, then waits for SIGTERM

#if canImport(Glibc)
import Glibc
#endif

final class Order {
    let id: Int
    var lines: [Line] = []
    init(id: Int) { self.id = id }
}

final class Line {
    let quantity: Int
    init(quantity: Int) { self.quantity = quantity }
}

/// Two of these point at each other and nothing else points at them.
final class Node {
    var next: Node?
}

final class Small {
    var x: Int
    init(_ x: Int) { self.x = x }
}

/// Keeps the object on the heap: the optimiser cannot see it die.
@_optimize(none) func escape(_ object: Small) {}

var kept: [Order] = []

/// jemalloc's bytes in use (`stats.allocated`, refreshed), when it is the allocator.
func jemallocAllocated() -> Int? {
    typealias Mallctl = @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?, UnsafeMutableRawPointer?, Int
    ) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallctl") else { return nil }
    let mallctl = unsafeBitCast(symbol, to: Mallctl.self)
    // The thread's cache holds regions jemalloc counts as allocated.
    _ = mallctl("thread.tcache.flush", nil, nil, nil, 0)
    var epoch: UInt64 = 1, newEpoch: UInt64 = 1, length = MemoryLayout<UInt64>.size
    _ = mallctl("epoch", &epoch, &length, &newEpoch, length)
    var allocated = 0
    length = MemoryLayout<Int>.size
    return mallctl("stats.allocated", &allocated, &length, nil, 0) == 0 ? allocated : nil
}

@MainActor func buildOrders(_ count: Int = 100) {
    kept.reserveCapacity(count)
    let before = jemallocAllocated()
    for id in 0..<count {
        let order = Order(id: id)
        order.lines = (1...3).map { Line(quantity: $0) }
        kept.append(order)
    }
    if let before, let after = jemallocAllocated() { print("plainhost: jemalloc allocated +\(after - before)") }
    let first = Node()
    first.next = Node()
    first.next!.next = first
}

func nanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "work":
    buildOrders(arguments.dropFirst().first.flatMap { Int($0) } ?? 100)
    print("plainhost: \(kept.count) orders")
    exit(3)
case "loop":
    let ops = arguments.dropFirst().first.flatMap { Int($0) } ?? 10_000_000
    let start = nanoseconds()
    for index in 0..<ops { escape(Small(index)) }
    print(nanoseconds() - start)
case "exit":
    exit(0)
case "serve":
    buildOrders()
    // Waits for SIGTERM here, not in a handler: exit's handlers (the
    // agent's among them) must not run inside a signal handler.
    var terminate = sigset_t()
    sigemptyset(&terminate)
    sigaddset(&terminate, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &terminate, nil)
    print("plainhost: serving", getpid())
    fflush(nil)
    var received: Int32 = 0
    sigwait(&terminate, &received)
    exit(0)
default:
    print("usage: plainhost work | loop N | exit | serve")
    exit(64)
}
