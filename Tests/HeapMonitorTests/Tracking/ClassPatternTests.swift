@testable import HeapMonitor
@testable import HeapMonitorRecording
import CHeapMonitor
import Testing

private enum Patterned {
    final class Cache { var entries = [1, 2] }
    final class Connection { var open = true }
    struct Holder { final class Inner { var x = 0 } }
}
private final class Unpatterned { var x = 0 }
extension Duration { fileprivate final class Nested { var x = 0 } }

/// The qualified name the hooks compute for `type`.
private func qualifiedName(_ type: AnyClass) -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    let metadata = unsafeBitCast(type, to: UnsafeRawPointer.self)
    guard hm_class_qualified_name(metadata, &buffer, buffer.count) >= 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite("Class-name patterns")
struct ClassPatternMatchingTests {
    @Test(arguments: [
        ("NIOCore.*", "NIOCore.ByteBuffer._Storage", true),
        ("NIOCore.*", "NIOPosix.Selector", false),
        ("*.Cache", "App.Server.Cache", true),
        ("*.Cache", "App.Server.CacheEntry", false),
        ("App.?ache", "App.Cache", true),
        ("App.?ache", "App.ache", false),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("*", "", true),
        ("app.*", "App.Cache", false),
    ])
    func globsMatchAsDocumented(pattern: String, text: String, matches: Bool) {
        #expect((hm_glob_match(pattern, text) != 0) == matches)
    }

    @Test func namesAreQualifiedThroughNestingPrivacyAndExtensions() {
        #expect(qualifiedName(Patterned.Cache.self) == "HeapMonitorTests.Patterned.Cache")
        #expect(qualifiedName(Patterned.Holder.Inner.self) == "HeapMonitorTests.Patterned.Holder.Inner")
        #expect(qualifiedName(Unpatterned.self) == "HeapMonitorTests.Unpatterned")
        // A type nested in an extension of another module's type is named
        // after the extended type.
        #expect(qualifiedName(Duration.Nested.self) == "Swift.Duration.Nested")
    }
}

extension TrackerSuite {
    @Suite("Tracking by class-name pattern")
    struct ClassPatternTrackingTests {
        @Test func everyMatchingClassIsTrackedAndNoOther() throws {
            let tracker = freshTracker()
            try tracker.track(classesMatching: "HeapMonitorTests.Patterned.*", resolutionLevel: 2)
            let kept: [AnyObject] =
                (0..<10).map { _ in keep(Patterned.Cache()) } + (0..<5).map { _ in keep(Patterned.Connection()) }
                + [keep(Patterned.Holder.Inner()), keep(Unpatterned())]
            func count(_ suffix: String) -> Int { tracker.objects.filter { $0.className.hasSuffix(suffix) }.count }
            #expect(count("Patterned.Cache") == 10)
            #expect(count("Patterned.Connection") == 5)
            #expect(count("Patterned.Holder.Inner") == 1)
            #expect(tracker.objects.count == 16)
            #expect(tracker.objects.allSatisfy { $0.resolutionLevel == 2 })
            #expect(!tracker.objects.contains { $0.className.hasSuffix("Unpatterned") })
            _ = keep(kept)
        }

        @Test func stoppingKeepsTheTrackedAndTracksNoNewOnes() throws {
            let tracker = freshTracker()
            try tracker.track(classesMatching: "*.Patterned.Cache")
            var first: [Patterned.Cache]? = (0..<3).map { _ in keep(Patterned.Cache()) }
            tracker.stopTracking(classesMatching: "*.Patterned.Cache")
            let later = (0..<4).map { _ in keep(Patterned.Cache()) }
            #expect(tracker.objects.count == 3)
            first = nil
            #expect(tracker.objects.count == 3 && tracker.objects.allSatisfy { !$0.isAlive })
            _ = keep((first, later))
        }

        @Test func standardLibraryClassesNeverMatch() throws {
            let tracker = freshTracker()
            try tracker.track(classesMatching: "*")
            let kept: [AnyObject] = [keep(Unpatterned())]
            let array = keep(Array(repeating: 7, count: 100))
            let text = keep(String(repeating: "x", count: 100))
            let classes = tracker.objects.map(\.className)
            #expect(classes.contains { $0.hasSuffix("Unpatterned") })
            #expect(!classes.contains { $0.hasPrefix("Swift.") })
            _ = keep((array, text))
            _ = keep(kept)
        }
    }
}
