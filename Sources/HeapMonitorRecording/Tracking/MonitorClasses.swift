/// The monitor's own modules, whose objects (layouts, maps, reports) are
/// not the host's: left out of wholesale tracking and of the census.
enum MonitorClasses {
    private static let modules: Set<Substring> = [
        "HeapMonitor", "HeapMonitorRecording", "HeapMonitorModel", "HeapMonitorAnalysis", "HeapMonitorMetrics",
        "HeapMonitorAgent",
    ]

    /// Whether `className` (qualified, `Module.Type`) is one of the
    /// monitor's, or storage made for the monitor's values: a monitor
    /// module names the class or one of its generic arguments
    /// (`Swift._ContiguousArrayStorage<HeapMonitorModel.SizedNode>`).
    static func contains(_ className: String) -> Bool {
        guard className.contains("HeapMonitor") else { return false }
        return className.split(whereSeparator: { "<>(),: ".contains($0) }).contains { name in
            name.firstIndex(of: ".").map { modules.contains(name[..<$0]) } ?? false
        }
    }
}
