@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Foundation
import Testing

/// A profile header followed by records built by hand.
private func profileBytes(version: Int = ProfileFormat.version, _ records: [(UInt8, [UInt8])]) -> [UInt8] {
    var header = profileHeader()
    if version != ProfileFormat.version {
        header[8] = UInt8(version & 0xFF)
        header[9] = UInt8(version >> 8)
        var encoder = ByteEncoder()
        encoder.fixed32(header.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[8..<12])) })
        header.replaceSubrange(12..<16, with: encoder.bytes)
    }
    var encoder = ByteEncoder()
    encoder.bytes = header
    for (kind, payload) in records {
        encoder.byte(kind)
        encoder.varint(payload.count)
        encoder.bytes += payload
        encoder.fixed32(([kind] + payload).withUnsafeBytes { CRC32.checksum($0) })
    }
    return encoder.bytes
}

private func payload(_ build: (inout ByteEncoder) -> Void) -> [UInt8] {
    var encoder = ByteEncoder()
    build(&encoder)
    return encoder.bytes
}

/// The error loading `bytes` gives, written to a file.
private func loadError(_ bytes: [UInt8]) throws -> ProfileError? {
    let path = temporaryPath("bad.hmprof")
    defer { unlink(path) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    do {
        _ = try Profile.load(from: path)
        return nil
    } catch {
        #expect(error.description.hasPrefix(path + ": "), "the message names the file")
        #expect(!error.description.contains("\n"), "one line")
        return error
    }
}

private let aClass = (
    ProfileFormat.RecordKind.classInfo.rawValue,
    payload {
        $0.varint(0); $0.string("Module.Thing")
    }
)

@Suite("Bad profile files")
struct BadProfileTests {
    @Test func emptyFiles() throws {
        #expect(try loadError([])?.problem == .empty)
    }

    @Test func filesThatAreNotProfiles() throws {
        #expect(try loadError(Array("{\"bench\": 1}\n".utf8))?.problem == .notAProfile)
        #expect(try loadError(Array(repeating: 0, count: 100))?.problem == .notAProfile)
        // An HTML report given where its profile belongs: the message says where that was.
        let report = ProfileError(path: "heap.html", problem: .notAProfile)
        #expect(report.description.contains("heap.html.hmprof"))
    }

    @Test func headersCutShort() throws {
        #expect(try loadError(Array(profileHeader().prefix(5)))?.problem == .truncated)
        #expect(try loadError(Array(profileHeader().prefix(12)))?.problem == .truncated)
    }

    @Test func newerVersions() throws {
        let error = try loadError(profileBytes(version: 9, []))
        #expect(error?.problem == .unsupportedVersion(9))
        #expect(error?.description.contains("version 9") == true)
    }

    @Test func corruptedRecords() throws {
        var bytes = profileBytes([aClass, aClass])
        bytes[ProfileFormat.headerSize + 4] ^= 0x20
        let error = try loadError(bytes)
        #expect(error?.problem == .corrupted)
        #expect(error?.offset == ProfileFormat.headerSize)
    }

    @Test func hostileCountsAndLengths() throws {
        let snapshot = ProfileFormat.RecordKind.snapshot.rawValue
        let hugeCount = payload { encoder in
            for _ in 0..<7 { encoder.varint(1) }
            encoder.string("")
            encoder.varint(UInt64(1) << 60)  // sized objects
        }
        let hugeString = payload {
            $0.varint(0); $0.varint(UInt64(1) << 40)
        }
        let deepTree = payload { encoder in
            encoder.varint(0); encoder.string("")
            for _ in 0..<5 { encoder.varint(1) }
            encoder.varint(1)  // one object
            encoder.varint(0); encoder.varint(10); encoder.varint(10)
            for _ in 0..<100 {
                encoder.varint(1); encoder.string("n"); encoder.string("T"); encoder.varint(1); encoder.varint(1);
                encoder.byte(0)
            }
        }
        let object = (
            ProfileFormat.RecordKind.object.rawValue,
            payload {
                $0.varint(0); $0.varint(0); $0.byte(0); $0.varint(1); $0.varint(0); $0.varint(0)
            }
        )
        for (records, expected) in [
            ([aClass, (snapshot, hugeCount)], "count of sized objects"),
            ([(ProfileFormat.RecordKind.classInfo.rawValue, hugeString)], "string length"),
            ([aClass, object, (snapshot, deepTree)], "nested too deep"),
            (
                [
                    (
                        ProfileFormat.RecordKind.object.rawValue,
                        payload {
                            $0.varint(0); $0.varint(7)
                        }
                    )
                ], "class id"
            ),
            (
                [
                    aClass,
                    (
                        ProfileFormat.RecordKind.death.rawValue,
                        payload {
                            $0.varint(3); $0.varint(1)
                        }
                    ),
                ], "object id"
            ),
            ([(42, [])], "unknown record kind 42"),
            (
                [
                    (
                        ProfileFormat.RecordKind.classInfo.rawValue,
                        payload {
                            $0.varint(5); $0.string("x")
                        }
                    )
                ], "out of order"
            ),
        ] as [([(UInt8, [UInt8])], String)] {
            let error = try loadError(profileBytes(records))
            guard case .malformed(let reason)? = error?.problem else {
                Issue.record("expected a malformed-record error for \(expected), got \(String(describing: error))")
                continue
            }
            #expect(reason.contains(expected))
        }
    }

    @Test func missingAndUnreadableFiles() throws {
        #expect(throws: ProfileError.self) { try Profile.load(from: "/nonexistent/heap.hmprof") }
        do {
            _ = try Profile.load(from: NSTemporaryDirectory())
            Issue.record("a directory loaded")
        } catch {
            guard case .unreadable = error.problem else { Issue.record("\(error)"); return }
        }
    }

    @Test func theFormatsPiecesRoundTrip() throws {
        var encoder = ByteEncoder()
        let numbers: [UInt64] = [0, 1, 127, 128, 300, UInt64(UInt32.max), UInt64.max]
        for number in numbers { encoder.varint(number) }
        encoder.string("héllo ✓")
        let decoded = try encoder.bytes.withUnsafeBytes { buffer in
            var decoder = ByteDecoder(buffer)
            return (try numbers.map { _ in try decoder.varint() }, try decoder.string(), decoder.isAtEnd)
        }
        #expect(decoded.0 == numbers && decoded.1 == "héllo ✓" && decoded.2)
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
    }
}
