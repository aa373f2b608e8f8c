#if canImport(Glibc)
import Glibc
#endif

/// The project as a graph of nodes: directories, sources, headers, targets.
final class DependencyGraph {
    let root: DirNode
    let environment: Environment
    private(set) var nodes: [String: Node] = [:]
    private(set) var targets: [FileNode] = []

    /// Targets whose command changed since they were built.
    private(set) var outdated: Set<String> = []
    /// How file contents are read: whole and kept once read (the default),
    /// whole each time they are needed and then dropped, or in blocks.
    var reading = Reading.keepContents

    enum Reading {
        case keepContents, releaseContents, blocks
    }

    /// With `weakListener` false the environment's callback captures the
    /// graph strongly: graph → environment → callback → graph, a cycle that
    /// outlives the build (the leak the garbage tutorial finds and fixes).
    init(root: String, environment: Environment, weakListener: Bool) {
        self.root = DirNode(path: root)
        self.environment = environment
        nodes[root] = self.root
        if weakListener {
            environment.onChange = { [weak self] name in self?.variableChanged(name) }
        } else {
            environment.onChange = { name in self.variableChanged(name) }
        }
    }

    private func variableChanged(_ name: String) {
        for target in targets where target.builder?.command.contains("$" + name) == true {
            outdated.insert(target.path)
        }
    }

    /// The node for `path`, created in its directory on first use.
    func node(_ path: String, directory: Bool = false) -> Node {
        if let known = nodes[path] { return known }
        let node: Node = directory ? DirNode(path: path) : FileNode(path: path)
        let parentPath = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if let parent = (parentPath.isEmpty ? root : self.node(parentPath, directory: true)) as? DirNode {
            node.directory = parent
            parent.entries[node.name] = node
        }
        nodes[path] = node
        return node
    }

    /// Reads the project: every `.c` file under the root becomes a source of
    /// an object target; its `#include "…"` lines become dependencies.
    func scan() {
        for path in listFiles(root.path).sorted() where path.hasSuffix(".c") {
            let source = node(path) as! FileNode
            for header in includes(of: source) {
                source.includes.append(node(directory(of: path) + "/" + header))
            }
            let target = node(String(path.dropLast(2)) + environment.substitute("$OBJSUFFIX")) as! FileNode
            target.sources = [source]
            target.builder = CommandAction(command: "$CC $CFLAGS -c -o $TARGET $SOURCES")
            targets.append(target)
        }
    }

    /// Builds every target: its signature from its sources and their
    /// includes, written to the target file. Returns the commands run.
    func build() -> [String] {
        targets.map { target in
            var signature = ContentSignature()
            for source in target.sources.compactMap({ $0 as? FileNode }) {
                signature.add(self.signature(of: source))
                for header in source.includes.compactMap({ $0 as? FileNode }) {
                    signature.add(self.signature(of: header))
                }
            }
            target.signature = signature
            write(Array("object \(signature.hex)\n".utf8), to: target.path)
            return target.builder!.commandLine(for: target, environment: environment)
        }
    }

    private func signature(of file: FileNode) -> ContentSignature {
        if let known = file.signature { return known }
        var signature = ContentSignature()
        if reading == .blocks {
            forEachBlock(of: file.path) { block in
                signature.add(block)
                return true
            }
        } else {
            signature.add(contents(of: file))
        }
        file.signature = signature
        return signature
    }

    private func contents(of file: FileNode) -> [UInt8] {
        if let known = file.contents { return known }
        let bytes = readFile(file.path)
        if reading == .keepContents { file.contents = bytes }
        return bytes
    }

    /// `#include "…"` lines. Read from the whole contents, or — reading in
    /// blocks — from the first block only (includes come first).
    private func includes(of file: FileNode) -> [String] {
        var text: [UInt8] = []
        if reading == .blocks {
            forEachBlock(of: file.path) { block in
                text = block
                return false
            }
        } else {
            text = contents(of: file)
        }
        let prefix = Array("#include \"".utf8), quote = UInt8(ascii: "\"")
        return text.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard line.starts(with: prefix), line.count > prefix.count, line.last == quote else { return nil }
            return String(decoding: line.dropFirst(prefix.count).dropLast(), as: UTF8.self)
        }
    }

    private func directory(of path: String) -> String { String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) }
}

// MARK: Files

func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { return [] }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[..<count]
    }
    return bytes
}

/// Calls `body` with the file's bytes, 64 KiB at a time, while it returns true.
func forEachBlock(of path: String, _ body: ([UInt8]) -> Bool) {
    guard let file = fopen(path, "rb") else { return }
    defer { fclose(file) }
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        if !body(Array(buffer[..<count])) { break }
    }
}

func write(_ bytes: [UInt8], to path: String) {
    guard let file = fopen(path, "wb") else { return }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

/// Every file under `directory`, recursively.
func listFiles(_ directory: String) -> [String] {
    directoryEntries(directory).filter { !$0.isDirectory }.map(\.path)
}

/// Every entry under `directory`, recursively, each directory before its contents.
func directoryEntries(_ directory: String) -> [(path: String, isDirectory: Bool)] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var entries: [(path: String, isDirectory: Bool)] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name == "." || name == ".." { continue }
        let path = directory + "/" + name
        let isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
        entries.append((path, isDirectory))
        if isDirectory { entries += directoryEntries(path) }
    }
    return entries
}
