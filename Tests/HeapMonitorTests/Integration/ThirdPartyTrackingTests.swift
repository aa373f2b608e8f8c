import ArgumentParser
@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

struct LookupOuter { final class Inner {} }
final class LookupOuterClass { enum Middle { final class Inner {} } }

private struct Greet: ParsableCommand {
    @Option var name = "world"
    @Flag var loud = false
    @Argument var extra: [String] = []
}

extension TrackerSuite {
    /// HeapMonitor on code we did not write: swift-argument-parser's internal
    /// `ArgumentDecoder` class, tracked by name, with no change to the package.
    @Suite("Third-party classes")
    struct ThirdPartyTrackingTests {
        @Test func argumentParsersDecodersAreTrackedByName() throws {
            let tracker = freshTracker()
            try tracker.track(className: "ArgumentParser.ArgumentDecoder", trace: true)
            _ = tracker.objects
            var commands: [Greet] = []
            for index in 0..<keep(5) { commands.append(try Greet.parse(["--name", "n\(index)", "--loud", "a", "b"])) }
            #expect(commands.map(\.name) == ["n0", "n1", "n2", "n3", "n4"])
            let decoders = tracker.objects(ofClass: "ArgumentDecoder")
            let shortLived = tracker.shortLivedObjects.first { $0.className.hasSuffix("ArgumentDecoder") }?.count ?? 0
            #expect(decoders.count + shortLived >= 5, "one decoder per parse at least")
            #expect(decoders.allSatisfy { !$0.isAlive })
        }

        /// A pattern finds the package's classes without naming each one.
        @Test func argumentParsersClassesAreTrackedByPattern() throws {
            let tracker = freshTracker()
            try tracker.track(classesMatching: "ArgumentParser.*Decoder")
            for index in 0..<keep(5) { _ = try Greet.parse(["--name", "n\(index)", "a"]) }
            let seen = tracker.objects.map(\.className) + tracker.shortLivedObjects.map(\.className)
            #expect(seen.contains { $0.hasSuffix("ArgumentDecoder") })
            #expect(seen.allSatisfy { $0.hasPrefix("ArgumentParser.") && $0.hasSuffix("Decoder") }, "\(seen)")
        }

        /// Nested classes are found by name too (SwiftNIO's ByteBuffer
        /// storage is `NIOCore.ByteBuffer._Storage`).
        @Test func nestedClassesAreFoundByName() {
            #expect(Tracker.loadedClass(named: "HeapMonitorTests.LookupOuter.Inner") == LookupOuter.Inner.self)
            #expect(
                Tracker.loadedClass(named: "HeapMonitorTests.LookupOuterClass.Middle.Inner")
                    == LookupOuterClass.Middle.Inner.self)
            #expect(Tracker.loadedClass(named: "HeapMonitorTests.LookupOuter.Missing") == nil)
        }

        @Test func unknownNamesAreRefused() {
            #expect(throws: HookError.unknownClass("NoSuchModule.Nothing")) {
                try Tracker.shared.track(className: "NoSuchModule.Nothing")
            }
        }
    }
}
