// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "HeapMonitor",
    products: [
        .library(name: "HeapMonitor", targets: ["HeapMonitor"]),
        .library(name: "HeapMonitorTesting", targets: ["HeapMonitorTesting"]),
        .executable(name: "heapmonitor", targets: ["heapmonitor"]),
        .executable(name: "heapmonitor-bench", targets: ["heapmonitor-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The recording core: allocator and runtime entry points that must be reached from C.
        .target(name: "CHeapMonitor", linkerSettings: [.linkedLibrary("m")]),
        .target(name: "HeapMonitor", dependencies: ["CHeapMonitor"]),
        // Leak and instance-count assertions for users' tests (Swift Testing and XCTest).
        .target(name: "HeapMonitorTesting", dependencies: ["HeapMonitor"]),
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
                    dependencies: ["HeapMonitor", "HeapMonitorSamples", "CHeapMonitor", "HeapMonitorTesting"]),
    ]
)
