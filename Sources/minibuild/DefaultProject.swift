#if canImport(Glibc)
import Glibc
#endif

/// The built-in project: `modules` directories of C-like sources and
/// headers in a temporary directory, each source including a few headers
/// and padded with comments to at least `minimumKiB`.
func makeDefaultProject(modules: Int, filesPerModule: Int, minimumKiB: Int = 0) -> String {
    var template = Array("/tmp/minibuild-XXXXXX".utf8CString)
    let root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    for module in 0..<modules {
        let directory = "\(root)/module\(module)"
        mkdir(directory, 0o755)
        for header in 0..<4 {
            let body = (0..<40).map { "#define MODULE\(module)_VALUE\(header)_\($0) \($0 * header)" }.joined(
                separator: "\n")
            write(Array("// header \(header) of module \(module)\n\(body)\n".utf8), to: "\(directory)/h\(header).h")
        }
        for file in 0..<filesPerModule {
            let includes = (0..<(1 + file % 4)).map { "#include \"h\($0).h\"" }.joined(separator: "\n")
            let body = (0..<(20 + file % 30)).map {
                "int function_\(module)_\(file)_\($0)(int x) { return x * \($0); }"
            }
            .joined(separator: "\n")
            var text = Array("\(includes)\n\(body)\n".utf8)
            let padding = Array("// padding: generated documentation of the functions above, kept for size\n".utf8)
            let lines = max(0, (minimumKiB * 1024 - text.count + padding.count - 1) / padding.count)
            text.append(contentsOf: repeatElement(padding, count: lines).joined())
            write(text, to: "\(directory)/f\(file).c")
        }
    }
    return root
}

/// Deletes a generated project (each directory after its contents).
func removeProject(_ root: String) {
    for entry in directoryEntries(root).reversed() { remove(entry.path) }
    remove(root)
}
