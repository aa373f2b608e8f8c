// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "HeapMonitor",
    products: [
        .library(name: "HeapMonitor", targets: ["HeapMonitor"]),
        .library(name: "HeapMonitorTesting", targets: ["HeapMonitorTesting"]),
        .library(name: "HeapMonitorOptions", targets: ["HeapMonitorOptions"]),
        .executable(name: "minibuild", targets: ["minibuild"]),
        .executable(name: "heapmonitor", targets: ["heapmonitor"]),
        .executable(name: "heapmonitor-bench", targets: ["heapmonitor-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // A command plugin only (`swift package generate-documentation`): nothing is linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // The recording core: allocator and runtime entry points that must be reached from C.
        .target(name: "CHeapMonitor", linkerSettings: [.linkedLibrary("m")]),
        .target(name: "HeapMonitor", dependencies: ["CHeapMonitor"]),
        // Leak and instance-count assertions for users' tests (Swift Testing and XCTest).
        .target(name: "HeapMonitorTesting", dependencies: ["HeapMonitor"]),
        // The host switches as a swift-argument-parser option group.
        .target(name: "HeapMonitorOptions",
                dependencies: ["HeapMonitor", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The example host: a small build tool monitored with the switches.
        .executableTarget(name: "minibuild", dependencies: ["HeapMonitor", "HeapMonitorOptions"]),
        // Sample object graphs: the benchmark workload, the CLI's sample run, tests.
        .target(name: "HeapMonitorSamples"),
        .executableTarget(
            name: "heapmonitor",
            dependencies: ["HeapMonitor", "HeapMonitorSamples", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "heapmonitor-bench",
            dependencies: ["HeapMonitor", "HeapMonitorSamples", "CHeapMonitor", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "HeapMonitorTests",
                    dependencies: ["HeapMonitor", "HeapMonitorSamples", "CHeapMonitor", "HeapMonitorTesting",
                                   "HeapMonitorOptions"],
                    exclude: ["Profile/Fixtures"]),
    ]
)
