import CHeapMonitor
import HeapMonitorModel

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
        /// The source file and line of the call, where the image has a
        /// DWARF line table (a build with debug information).
        public var file: String?
        public var line: Int?

        /// Looks up the function and image holding `address`.
        public init(address: UInt) {
            var symbol = [CChar](repeating: 0, count: 1024), image = [CChar](repeating: 0, count: 1024)
            var offset: UInt = 0
            let length = hm_symbolicate(address, &symbol, symbol.count, &offset, &image, image.count)
            self.address = address
            self.symbol =
                length > 0
                ? withoutFileDiscriminators(
                    String(decoding: symbol.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
                : nil
            self.offset = offset
            self.image = String(decoding: image.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // A return address is just past its call: the call's line is the
            // one before it.
            var path = [CChar](repeating: 0, count: 4096)
            var line: UInt32 = 0
            let pathLength = hm_source_line(address &- 1, &path, path.count, &line)
            if pathLength > 0 {
                file = String(decoding: path.prefix(pathLength).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                self.line = Int(line)
            }
        }

        /// `symbol + offset (image) at file:line`, the address when no
        /// symbol is known, without the location when none is.
        ///
        /// ```
        /// App.makeSession() -> App.Session + 58 (App) at /src/App/Sessions.swift:41
        /// ```
        public var description: String {
            let imageName = image.split(separator: "/").last.map(String.init) ?? image
            let location = file.map { " at \($0):\(line ?? 0)" } ?? ""
            guard let symbol else { return "0x" + String(address, radix: 16) + " (\(imageName))" + location }
            return "\(symbol) + \(offset) (\(imageName))" + location
        }
    }
}
