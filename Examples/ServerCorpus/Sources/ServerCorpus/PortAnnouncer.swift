import Synchronization

/// Prints one line with both ports once both servers listen, for the check
/// script: `corpus: listening hummingbird P nio Q`.
final class PortAnnouncer: Sendable {
    private let ports = Mutex<(hummingbird: Int?, nio: Int?)>((nil, nil))

    func announce(hummingbird port: Int) { update { $0.hummingbird = port } }
    func announce(nio port: Int) { update { $0.nio = port } }

    private func update(_ change: (inout (hummingbird: Int?, nio: Int?)) -> Void) {
        ports.withLock { ports in
            change(&ports)
            if let hummingbird = ports.hummingbird, let nio = ports.nio {
                say("corpus: listening hummingbird \(hummingbird) nio \(nio)")
            }
        }
    }
}
