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
        var writer: ProfileWriter? = try ProfileWriter(path: html ? path + ".hmprof" : path)
        state.withLock { state in
            _ = state.finishProfile()
            state.drain()
            state.profile = writer.take()
            state.profileHTMLPath = html ? path : nil
        }
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
            try HTMLReport(profile: try Profile.load(from: html + ".hmprof")).write(to: html)
            unlink(html + ".hmprof")
            return nil
        } catch {
            return error.description
        }
    }
}
