/// Leaked cycles of one shape: the same types along the same fields, as
/// when every request leaks the same handler cycle.
public struct LeakGroup: Hashable, Sendable, Codable {
    /// The shape: the cycle's walk with element and key labels as `[…]`,
    /// `RequestHandler.onFinish → RequestHandler`.
    public var shape: String
    /// Cycles of this shape.
    public var count: Int
    /// Bytes they keep alive together.
    public var bytes: Int
    /// The largest of them, for its objects and addresses.
    public var example: LeakedCycle

    /// `count` cycles like `example`, keeping `bytes` alive.
    public init(shape: String, count: Int, bytes: Int, example: LeakedCycle) {
        self.shape = shape
        self.count = count
        self.bytes = bytes
        self.example = example
    }

    /// `200 × RequestHandler.onFinish → RequestHandler, 134.7 KiB`.
    public var summary: String { "\(count) × \(shape), \(ByteCount.format(bytes))" }
}

extension LeakedCycle {
    /// The cycle's `path` with element and key labels as `[…]`: cycles of
    /// one shape (and as many objects) are grouped.
    public var shape: String {
        var result = ""
        var depth = 0
        for character in path {
            switch character {
            case "[":
                if depth == 0 { result += "[…" }
                depth += 1
            case "]" where depth > 0:
                depth -= 1
                if depth == 0 { result += "]" }
            default:
                if depth == 0 { result.append(character) }
            }
        }
        return result
    }
}

extension LeakReport {
    /// The cycles grouped by shape, the most bytes first.
    public var groups: [LeakGroup] {
        var order: [String] = []
        var groups: [String: LeakGroup] = [:]
        for cycle in cycles {
            let shape = cycle.shape, key = "\(cycle.objects.count) \(shape)"
            if var group = groups[key] {
                group.count += 1
                group.bytes += cycle.bytes
                groups[key] = group
            } else {
                order.append(key)
                groups[key] = LeakGroup(shape: shape, count: 1, bytes: cycle.bytes, example: cycle)
            }
        }
        return order.map { groups[$0]! }.sorted { ($1.bytes, $0.shape) < ($0.bytes, $1.shape) }
    }
}
