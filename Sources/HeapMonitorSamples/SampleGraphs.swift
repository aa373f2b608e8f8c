/// A document index: dictionary-heavy, with strings shared between entries.
public final class DocumentIndex {
    /// Word → ids of the documents whose title contains it.
    public var postings: [String: [Int]] = [:]
    /// Document id → title.
    public var titles: [Int: String] = [:]
    /// Tags in use (97 distinct at most).
    public var tags: Set<String> = []

    /// Indexes `documents` generated documents.
    public init(documents: Int) {
        for id in 0..<documents {
            let title = "Document number \(id) about topic \(id % 17)"
            titles[id] = title
            for word in title.split(separator: " ") {
                postings[String(word), default: []].append(id)
            }
            tags.insert("tag-\(id % 97)-with-a-long-suffix")
        }
    }
}

/// Strings of every representation: small (inline), native storage, and
/// substrings sharing their base's storage.
public func buildStrings(count: Int) -> [String] {
    (0..<count).map { index in
        index % 3 == 0 ? "s\(index % 100)" : "a string long enough for native storage #\(index)"
    }
}

/// Arrays of arrays of arrays of numbers.
public func buildNestedArrays(outer: Int) -> [[[Int]]] {
    (0..<outer).map { i in (0..<(i % 7 + 1)).map { j in Array(0..<(i + j) % 50) } }
}
