// A Hummingbird 2 server that does not link HeapMonitor: recorded from
// outside by `heapmonitor run` (Scripts/check-examples.sh). GET /cart opens
// a cart of three items that is kept for good: the growth to find.
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

final class Item: Sendable {
    let sku: String
    init(sku: String) { self.sku = sku }
}

final class Cart: Sendable {
    let items: [Item]
    init(number: Int) { items = (1...3).map { Item(sku: "sku-\(number)-\($0)") } }
}

/// Every cart opened, held by a global: the root its items are kept from.
let carts = Mutex<[Cart]>([])

let router = Router()
router.get("cart") { _, _ in
    let count = carts.withLock { carts in
        carts.append(Cart(number: carts.count))
        return carts.count
    }
    return "cart \(count)\n"
}
let logger = Logger(label: "plain")
let port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8080
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { logger.notice("listening on \($0.localAddress?.port ?? 0)") })
try await ServiceGroup(
    configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
).run()
