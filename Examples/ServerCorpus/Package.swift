// swift-tools-version: 6.2
// HeapMonitor on code we did not write, built once for two checks:
// - CollectionsSizing: swift-collections' containers sized against the
//   allocator (Scripts/check-collections.sh);
// - NIOSizing: NIO's ByteBuffer storage tracked by name and sized with the
//   bytes it owns (Scripts/check-nio.sh);
// - ServerCorpus: a Hummingbird 2 server and a plain SwiftNIO HTTP/1 server
//   with every class watched, sized and scanned for leaks while they serve
//   loopback requests, stopped by SIGTERM (Scripts/check-server-corpus.sh);
// - HummingbirdExample, VaporExample: the README's monitored servers, with
//   the control socket and Prometheus heap gauges (Scripts/check-examples.sh);
// - PlainHummingbird: a Hummingbird server that does not link HeapMonitor,
//   recorded by `heapmonitor run` (Scripts/check-examples.sh).
import Foundation
import PackageDescription

// A path dependency is named after its directory: whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let heapMonitor = Target.Dependency.product(name: "HeapMonitor", package: root.lastPathComponent)
let heapMetrics = Target.Dependency.product(name: "HeapMonitorMetrics", package: root.lastPathComponent)

// The production recipe (docs/Tracking.md, "Static executables"): the
// runtime's allocation entry points wrapped at link time, so that the
// HummingbirdExample built with --static-swift-stdlib is tracked too.
let heapMonitorWraps = [
    "swift_allocObject", "swift_deallocClassInstance", "swift_deallocPartialClassInstance",
    "swift_deallocObject", "swift_initStackObject",
].flatMap { ["-Xlinker", "--wrap=\($0)"] }

let package = Package(
    name: "ServerCorpus",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/vapor/vapor", from: "4.110.0"),
    ],
    targets: [
        .executableTarget(
            name: "CollectionsSizing",
            dependencies: [heapMonitor, .product(name: "Collections", package: "swift-collections"),
                           .product(name: "_RopeModule", package: "swift-collections")]),
        .executableTarget(name: "NIOSizing",
                          dependencies: [heapMonitor, .product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(
            name: "ServerCorpus",
            dependencies: [
                heapMonitor,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "HummingbirdExample",
            dependencies: [
                heapMonitor, heapMetrics, .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            linkerSettings: [.unsafeFlags(heapMonitorWraps)]),
        .executableTarget(
            name: "PlainHummingbird",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "VaporExample",
            dependencies: [
                heapMonitor, heapMetrics, .product(name: "Vapor", package: "vapor"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
    ]
)
