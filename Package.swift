// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "HeapMonitor",
    products: [
        .library(name: "HeapMonitor", targets: ["HeapMonitor"]),
        .library(name: "HeapMonitorTesting", targets: ["HeapMonitorTesting"]),
        .library(name: "HeapMonitorOptions", targets: ["HeapMonitorOptions"]),
        .library(name: "HeapMonitorMetrics", targets: ["HeapMonitorMetrics"]),
        // Preloaded by `heapmonitor run` into programs that do not link HeapMonitor.
        .library(name: "HeapMonitorAgent", type: .dynamic, targets: ["HeapMonitorAgent"]),
        .executable(name: "minibuild", targets: ["minibuild"]),
        .executable(name: "heapmonitor", targets: ["heapmonitor"]),
        .executable(name: "heapmonitor-bench", targets: ["heapmonitor-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Only HeapMonitorMetrics uses these (and the tests, Prometheus).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // The tests' loggers for service groups (service-lifecycle needs it anyway).
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // Recording → profile file → analysis, as three targets: the build
        // keeps analysis out of the host's recording path and recording free
        // of reports (Scripts/test.sh builds with explicit import checks).
        //
        // The recording core: allocator and runtime entry points that must be reached from C.
        .target(name: "CHeapMonitor", linkerSettings: [.linkedLibrary("m")]),
        // What recording produces and analysis reads: value types and the profile format.
        .target(name: "HeapMonitorModel"),
        // Hooks, tracker, sizing, snapshots, leak scans, isolation and the profile writer.
        .target(name: "HeapMonitorRecording", dependencies: ["CHeapMonitor", "HeapMonitorModel"]),
        // The profile reader, statistics and the text, HTML and DOT reports.
        .target(name: "HeapMonitorAnalysis", dependencies: ["HeapMonitorModel"]),
        // The one import users need: both sides, and the host integration joining them.
        .target(name: "HeapMonitor", dependencies: ["HeapMonitorModel", "HeapMonitorRecording", "HeapMonitorAnalysis"]),
        // The agent `heapmonitor run` preloads: recording only, its reports
        // are read from the profile by the CLI. The C part is its constructor.
        .target(name: "CHeapMonitorAgent"),
        .target(name: "HeapMonitorAgent", dependencies: ["CHeapMonitorAgent", "HeapMonitorRecording", "HeapMonitorModel"]),
        // Leak and instance-count assertions for users' tests (Swift Testing and XCTest).
        .target(name: "HeapMonitorTesting", dependencies: ["HeapMonitor", "HeapMonitorModel"]),
        // The host switches as a swift-argument-parser option group.
        .target(name: "HeapMonitorOptions",
                dependencies: ["HeapMonitor", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Per-class heap gauges for swift-metrics, and a service-lifecycle Service updating them.
        .target(name: "HeapMonitorMetrics",
                dependencies: ["HeapMonitor", .product(name: "CoreMetrics", package: "swift-metrics"),
                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // The example host: a small build tool monitored with the switches.
        .executableTarget(name: "minibuild", dependencies: ["HeapMonitor", "HeapMonitorOptions"]),
        // A program that does not link HeapMonitor, run under `heapmonitor run`.
        .executableTarget(name: "plainhost", path: "Examples/PlainHost"),
        // Sample object graphs: the benchmark workload, the CLI's sample run, tests.
        .target(name: "HeapMonitorSamples"),
        .executableTarget(
            name: "heapmonitor",
            dependencies: ["HeapMonitor", "HeapMonitorSamples", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "heapmonitor-bench",
            dependencies: ["HeapMonitor", "HeapMonitorSamples", "CHeapMonitor", "HeapMonitorMetrics",
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "HeapMonitorTests",
                    dependencies: ["HeapMonitor", "HeapMonitorModel", "HeapMonitorRecording", "HeapMonitorAnalysis",
                                   "HeapMonitorSamples", "CHeapMonitor", "HeapMonitorTesting", "HeapMonitorOptions",
                                   "HeapMonitorMetrics", .product(name: "Prometheus", package: "swift-prometheus"),
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                   .product(name: "Logging", package: "swift-log")],
                    exclude: ["Profile/Fixtures"]),
    ]
)
