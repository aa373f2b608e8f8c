/// The version of HeapMonitor.
public enum HeapMonitorVersion {
    /// The release this build is, as `major.minor.patch`.
    public static let current = "0.1.0"
}
