#if canImport(Glibc)
import Glibc
#endif

extension Tracker {
    /// Streams what the tracker records to a profile file at `path` (created
    /// or truncated): classes, traces, tracked objects with their births and
    /// deaths, and every snapshot from now on, each handed to the kernel
    /// before the snapshot returns. Replaces a profile started before.
    ///
    /// Load it with `Profile.load(from:)` or `MemStats`, or the
    /// `heapmonitor stats` command. A path ending in `.html` gets the HTML
    /// report when the profile stops; the profile itself is streamed to the
    /// same path plus `.hmprof` meanwhile (kept if the program dies first).
    public func startProfile(at path: String) throws {
        let html = path.hasSuffix(".html")
        var writer: ProfileWriter? = try ProfileWriter(path: Self.binaryProfilePath(for: path))
        state.withLock { state in
            _ = state.finishProfile()
            state.drain()
            state.profile = writer.take()
            state.profileHTMLPath = html ? path : nil
        }
    }

    /// Where a profile started at `path` is streamed: `path` itself, or for
    /// an HTML report `path.hmprof`, readable (up to its last snapshot) while
    /// the program still runs.
    static func binaryProfilePath(for path: String) -> String {
        path.hasSuffix(".html") ? path + ".hmprof" : path
    }

    /// Ends the profile: an end record, and the file is closed (and for an
    /// `.html` path, the report written). Returns the first write error, if
    /// writing failed on the way (the program went on).
    @discardableResult
    public func stopProfile() -> String? {
        let (failure, html) = state.withLock { state in
            let result = (state.finishProfile(), state.profileHTMLPath)
            state.profileHTMLPath = nil
            return result
        }
        guard failure == nil, let html else { return failure }
        do {
            let binary = Self.binaryProfilePath(for: html)
            try HTMLReport(profile: try Profile.load(from: binary)).write(to: html)
            unlink(binary)
            return nil
        } catch {
            return error.description
        }
    }
}
