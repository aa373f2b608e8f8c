/// Why a profile file could not be read: the file and what is wrong, in one line.
public struct ProfileError: Error, Hashable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// Where in it, when the problem is in its contents.
    public var offset: Int?
    /// What is wrong.
    public var problem: Problem

    /// Creates an error.
    public init(path: String, offset: Int? = nil, problem: Problem) {
        self.path = path
        self.offset = offset
        self.problem = problem
    }

    /// What can be wrong with a profile file.
    public enum Problem: Error, Hashable {
        /// The file cannot be opened or read.
        case unreadable(String)
        /// The file cannot be created or written.
        case unwritable(String)
        /// The file is empty.
        case empty
        /// The file does not start like a HeapMonitor profile.
        case notAProfile
        /// The file was written by a newer format version.
        case unsupportedVersion(Int)
        /// The file ends inside its header.
        case truncated
        /// A record's checksum does not match its contents.
        case corrupted
        /// A record's contents are impossible (ids, counts, lengths).
        case malformed(String)
    }

    public var description: String {
        let place = offset.map { " at byte \($0)" } ?? ""
        let what: String
        switch problem {
        case .unreadable(let reason): what = "cannot be read: \(reason)"
        case .unwritable(let reason): what = "cannot be written: \(reason)"
        case .empty: what = "is empty"
        case .notAProfile:
            what =
                "is not a HeapMonitor profile"
                + (path.hasSuffix(".html")
                    ? " (an HTML report is written from one: while the program ran it was \(path).hmprof)" : "")
        case .unsupportedVersion(let version):
            what = "has format version \(version); this HeapMonitor reads version \(ProfileFormat.version) and older"
        case .truncated: what = "ends in the middle of its header"
        case .corrupted: what = "is corrupted\(place) (a record's checksum does not match)"
        case .malformed(let reason): what = "is damaged\(place): \(reason)"
        }
        return "\(path): \(what)"
    }
}
