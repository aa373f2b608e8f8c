@testable import HeapMonitor
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

/// Closures formed in generic functions capture values whose types are
/// generic parameters (`x`) or their associated types (`Qz`): resolved
/// without the closure's generic arguments, such a name makes the runtime
/// abort ("Expected a metadata pack but got metadata"), as a Hummingbird
/// route handler's closure did.
private protocol Carrier {
    associatedtype Payload
    var payload: Payload { get }
}

private final class CarriedPayload {
    var bytes = [UInt8](repeating: 7, count: 64)
}

private struct PayloadCarrier: Carrier {
    var payload: CarriedPayload
}

private final class HandlerOwner {
    var handler: () -> Int = { 0 }
    /// A concrete capture beside the generic ones, to be laid out still.
    var fixed: () -> Int = { 0 }
}

/// As a router's method generic over its output: the stored closure
/// captures a function whose type mentions the router's parameter, its
/// associated type and the method's own parameter (`qd__`).
private struct Registrar<Context: Carrier> {
    let owner: HandlerOwner

    func add<Output>(
        _ body: @escaping (Context.Payload, Context) async throws -> Output
    ) {
        owner.handler = { withExtendedLifetime(body) { 1 } }
    }
}

private func install<C: Carrier>(_ carrier: C, on owner: HandlerOwner) {
    Registrar<C>(owner: owner).add { payload, context in
        withExtendedLifetime((carrier, context)) { payload }
    }
}

private func installFixed(_ payload: CarriedPayload, on owner: HandlerOwner) {
    owner.fixed = { payload.bytes.count }
}

extension TrackerSuite {
    @Suite("Captures of generic closures")
    struct GenericCaptureTests {
        @Test func genericCapturesAreOpaqueAndConcreteOnesFollowed() throws {
            let owner = HandlerOwner()
            install(PayloadCarrier(payload: CarriedPayload()), on: owner)
            installFixed(CarriedPayload(), on: owner)
            let tree = sizedTree(of: owner, resolutionLevel: 4)
            let handler = try #require(
                tree.referents.first { $0.name == "handler" })
            // The captured function is followed; its own context holds
            // values of generic types and is marked opaque, not resolved.
            let body = try #require(handler.referents.first)
            #expect(body.name == "capture 0" && body.isOpaque)
            // The concrete closure's payload (its 64-byte array) is counted.
            #expect(tree.size >= tree.flatSize + 64)
        }

        @Test func leakScansAndHeapGraphsOverGenericClosuresGoOn() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            let owners = (0..<keep(5)).map { _ in HandlerOwner() }
            for owner in owners {
                install(PayloadCarrier(payload: CarriedPayload()), on: owner)
            }
            #expect(try tracker.findLeaks().cycles.isEmpty)
            let graph = try tracker.captureHeapGraph()
            let owned = (0..<graph.count).filter {
                graph.typeName(of: $0).hasSuffix(".HandlerOwner")
            }
            #expect(owned.count == 5)
            _ = keep(owners)
        }
    }
}
