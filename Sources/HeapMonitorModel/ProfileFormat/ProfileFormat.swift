/// Constants of the profile file format (docs/ProfileFormat.md).
package enum ProfileFormat {
    /// The first eight bytes of every profile.
    package static let magic: [UInt8] = Array("HMPROFIL".utf8)
    /// The version this code writes; it reads this and older ones.
    package static let version = 2
    /// Magic, version (u16), flags (u16), checksum of the eight before (u32).
    package static let headerSize = 16
    /// Nesting of referent trees the reader accepts.
    package static let maximumTreeDepth = 64

    /// What a record holds.
    package enum RecordKind: UInt8 {
        case classInfo = 1, trace = 2, object = 3, death = 4, snapshot = 5, end = 6, leaks = 7
        case heapGraph = 8
    }

    /// Bits of a snapshot record's flags (format version 2).
    package enum SnapshotFlags {
        package static let sizedObjects = 1
        package static let background = 2
    }
}

/// The header's bytes.
package func profileHeader() -> [UInt8] {
    var encoder = ByteEncoder()
    encoder.bytes = ProfileFormat.magic
    encoder.byte(UInt8(ProfileFormat.version & 0xFF))
    encoder.byte(UInt8(ProfileFormat.version >> 8))
    encoder.byte(0)
    encoder.byte(0)
    let checksum = encoder.bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[8..<12])) }
    encoder.fixed32(checksum)
    return encoder.bytes
}
