// swift-tools-version: 6.0
// HeapMonitor on SwiftNIO, code we did not write: tracks NIO's ByteBuffer
// storage class by name and sizes buffers with the bytes they own
// (Scripts/check-nio.sh).
import Foundation
import PackageDescription

// A path dependency is named after its directory: whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "NIOSizing",
    dependencies: [
        .package(path: root.path),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        .executableTarget(name: "NIOSizing",
                          dependencies: [.product(name: "HeapMonitor", package: root.lastPathComponent),
                                         .product(name: "NIOCore", package: "swift-nio")]),
    ]
)
