/// The monitor's own modules, whose objects (layouts, maps, reports) are
/// not the host's: left out of wholesale tracking and of the census.
enum MonitorClasses {
    private static let modules: Set<Substring> = [
        "HeapMonitor", "HeapMonitorRecording", "HeapMonitorModel", "HeapMonitorAnalysis", "HeapMonitorMetrics",
        "HeapMonitorAgent",
    ]

    /// Whether `className` (qualified, `Module.Type`) is one of the monitor's.
    static func contains(_ className: String) -> Bool {
        guard let dot = className.firstIndex(of: ".") else { return false }
        return modules.contains(className[..<dot])
    }
}
