// swift-tools-version: 6.0
// Programs tracking classes, built with the Swift runtime linked in
// statically (Scripts/check-static-stdlib.sh): StaticTracking checks the
// static-stdlib message and the linker-wrap route given on the command
// line; ProductionTracking carries the production recipe in its manifest
// and is built as the server templates build, with jemalloc.
import Foundation
import PackageDescription

// A path dependency is named after its directory: whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

// The production recipe: HeapMonitor's hooks take the runtime's allocation
// entry points by wrapping them at link time, which a static runtime needs
// (there is no GOT to patch) and a dynamic one allows.
let heapMonitorWraps = [
    "swift_allocObject", "swift_deallocClassInstance", "swift_deallocPartialClassInstance",
    "swift_deallocObject", "swift_initStackObject",
].flatMap { ["-Xlinker", "--wrap=\($0)"] }

let package = Package(
    name: "StaticTracking",
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(name: "StaticTracking",
                          dependencies: [.product(name: "HeapMonitor", package: root.lastPathComponent)]),
        .executableTarget(name: "ProductionTracking",
                          dependencies: [.product(name: "HeapMonitor", package: root.lastPathComponent)],
                          linkerSettings: [.unsafeFlags(heapMonitorWraps)]),
    ]
)
