// swift-tools-version: 6.0
// A program tracking a class, built with the Swift runtime linked in
// statically: checks the static-stdlib message and the linker-wrap route
// (Scripts/check-static-stdlib.sh).
import Foundation
import PackageDescription

// A path dependency is named after its directory: whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "StaticTracking",
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(name: "StaticTracking",
                          dependencies: [.product(name: "HeapMonitor", package: root.lastPathComponent)]),
    ]
)
