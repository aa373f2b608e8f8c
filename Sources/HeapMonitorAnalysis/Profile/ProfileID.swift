import Synchronization

/// Ids handed out to profiles, one process-wide sequence: two loads of one
/// file are two profiles, and a row or diff names its profile without an
/// index into some array of them.
private let lastProfileID = Atomic<Int>(0)

extension Profile: Identifiable {
    /// Which loaded profile a row, class summary or diff belongs to.
    ///
    /// ```swift
    /// let stats = try MemStats(loading: ["before.hmprof", "after.hmprof"])
    /// for row in stats.rows {
    ///     print(stats.profile(withID: row.profile)?.path ?? "?", row.className)
    /// }
    /// ```
    public struct ID: Hashable, Sendable, Codable, CustomStringConvertible {
        /// The id's number, unique within the process; profiles created
        /// earlier have smaller ones.
        public let rawValue: Int

        static func next() -> ID {
            ID(rawValue: lastProfileID.add(1, ordering: .relaxed).newValue)
        }

        /// Decodes the number `encode(to:)` writes.
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(Int.self)
        }

        /// Encodes the id as its number.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }

        /// The number, as text.
        public var description: String { "\(rawValue)" }

        private init(rawValue: Int) { self.rawValue = rawValue }
    }
}
