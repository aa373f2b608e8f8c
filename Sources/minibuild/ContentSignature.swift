/// A content signature (FNV-1a, 64 bits): what decides whether a target is
/// up to date.
struct ContentSignature: Hashable {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
    }

    mutating func add(_ other: ContentSignature) {
        withUnsafeBytes(of: other.value) { add(Array($0)) }
    }

    var hex: String { String(value, radix: 16) }
}
