import CHeapMonitor

/// The call stack that allocated an object of a class tracked with
/// `trace: true`: raw return addresses, captured at allocation, innermost
/// first. Symbols are looked up only when asked for.
public struct InstantiationTrace: Hashable, Sendable {
    /// Return addresses, innermost first (the first is in the code that
    /// allocated the object, usually its class's allocating initialiser).
    public var addresses: [UInt]

    /// Creates a trace from return addresses.
    public init(addresses: [UInt]) { self.addresses = addresses }

    /// The frames with their functions, demangled, and images.
    public func symbolicated() -> [Frame] {
        addresses.map(Frame.init(address:))
    }

    /// One frame of a trace.
    public struct Frame: Hashable, Sendable, CustomStringConvertible {
        /// The return address.
        public var address: UInt
        /// The demangled function, or nil when no symbol covers the address.
        public var symbol: String?
        /// Bytes from the function's start.
        public var offset: UInt
        /// The path of the image holding the code.
        public var image: String

        /// Looks up the function and image holding `address`.
        public init(address: UInt) {
            var symbol = [CChar](repeating: 0, count: 1024), image = [CChar](repeating: 0, count: 1024)
            var offset: UInt = 0
            let length = hm_symbolicate(address, &symbol, symbol.count, &offset, &image, image.count)
            self.address = address
            self.symbol =
                length > 0 ? String(decoding: symbol.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
            self.offset = offset
            self.image = String(decoding: image.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        /// `symbol + offset (image)`, or the address when no symbol is known.
        public var description: String {
            let file = image.split(separator: "/").last.map(String.init) ?? image
            guard let symbol else { return "0x" + String(address, radix: 16) + " (\(file))" }
            return "\(symbol) + \(offset) (\(file))"
        }
    }
}
