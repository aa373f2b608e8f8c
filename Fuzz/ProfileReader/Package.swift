// swift-tools-version: 6.0
// libFuzzer target for the profile reader (Scripts/fuzz-profile.sh builds it
// with -sanitize=fuzzer,address and runs it).
import Foundation
import PackageDescription

// A path dependency is named after its directory: whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "ProfileReaderFuzz",
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(name: "ProfileReaderFuzz",
                          dependencies: [.product(name: "HeapMonitor", package: root.lastPathComponent)],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
)
