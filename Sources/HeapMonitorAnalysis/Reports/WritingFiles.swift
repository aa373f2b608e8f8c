#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to `path` (created or truncated), all of it or an error
/// naming the file.
func writeFile(_ text: String, to path: String) throws(ReportError) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
        throw ReportError(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
        if result < 0, errno == EINTR { continue }
        guard result > 0 else { throw ReportError(path: path, reason: String(cString: strerror(errno))) }
        written += result
    }
}
