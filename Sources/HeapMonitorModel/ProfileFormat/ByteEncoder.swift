/// Appends the profile format's primitives to a byte buffer: LEB128 varints,
/// length-prefixed UTF-8 strings, little-endian fixed-width integers.
package struct ByteEncoder {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func byte(_ value: UInt8) { bytes.append(value) }

    package mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A non-negative count or size (negative values are written as 0).
    package mutating func varint(_ value: Int) { varint(UInt64(max(0, value))) }

    package mutating func fixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    package mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        varint(utf8.count)
        bytes.append(contentsOf: utf8)
    }
}

/// Reads what `ByteEncoder` wrote, checking every length against what is left:
/// a hostile count or length is an error, never a large allocation.
package struct ByteDecoder {
    private let bytes: UnsafeRawBufferPointer
    package private(set) var offset: Int
    private let end: Int

    package init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        offset = start
        self.end = end ?? bytes.count
    }

    package var remaining: Int { end - offset }
    package var isAtEnd: Bool { offset >= end }

    package mutating func byte() throws(ProfileError.Problem) -> UInt8 {
        guard offset < end else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func varint() throws(ProfileError.Problem) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try byte()
            guard shift < 64, shift < 63 || byte <= 1 else { throw .malformed("a number is too long") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// A varint that must fit `limit` (counts, ids, sizes).
    package mutating func int(
        max limit: Int = Int.max, _ what: @autoclosure () -> String
    ) throws(ProfileError.Problem) -> Int {
        let value = try varint()
        guard limit >= 0, value <= UInt64(limit) else { throw .malformed("\(what()) \(value) is out of range") }
        return Int(value)
    }

    /// A count of items each at least `minimumBytes` long: bounded by what is left.
    package mutating func count(
        of what: @autoclosure () -> String, minimumBytes: Int
    ) throws(ProfileError.Problem) -> Int {
        try int(max: remaining / max(1, minimumBytes), "count of \(what())")
    }

    package mutating func fixed32() throws(ProfileError.Problem) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << UInt32(8 * index) }
        offset += 4
        return value
    }

    package mutating func string() throws(ProfileError.Problem) -> String {
        // The length is checked against what is left after it: `remaining`
        // read before the varint would let a string run one byte past the end.
        let length = try int("string length")
        guard length <= remaining else { throw .malformed("string length \(length) is out of range") }
        defer { offset += length }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
    }

    package mutating func skip(_ count: Int) throws(ProfileError.Problem) {
        guard count <= remaining else { throw .truncated }
        offset += count
    }

    package func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[range]) }
}

/// CRC-32 (IEEE), to tell a damaged record from a whole one.
package enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
