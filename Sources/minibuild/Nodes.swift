/// A node of the build: a file or a directory, with what it depends on.
class Node {
    let path: String
    /// Nodes this one is built from.
    var sources: [Node] = []
    /// Files named in this one (`#include "x.h"`), found by the scanner.
    var includes: [Node] = []
    /// The action that builds it, for targets.
    var builder: Action?
    weak var directory: DirNode?

    init(path: String) { self.path = path }

    var name: String { path.split(separator: "/").last.map(String.init) ?? path }
}

/// A file: its contents, read when first needed, and its signature.
final class FileNode: Node {
    /// The file's contents, kept once read (the lazy-initialisation
    /// tutorial looks at exactly this).
    var contents: [UInt8]?
    var signature: ContentSignature?
}

/// A directory and the nodes in it.
final class DirNode: Node {
    var entries: [String: Node] = [:]
}
