/// Formats byte counts for people: `512 B`, `1.5 KiB`, `43.2 MiB`, `2.0 GiB`.
public enum ByteCount {
    /// `bytes` in binary units with one decimal above a KiB.
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(abs(bytes))
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let sign = bytes < 0 ? "-" : ""
        if unit == 0 { return "\(sign)\(Int(value)) B" }
        let tenths = Int((value * 10).rounded())
        return "\(sign)\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
