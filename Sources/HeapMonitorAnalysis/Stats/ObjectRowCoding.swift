import HeapMonitorModel

extension MemStats.ObjectRow {
    private enum CodingKeys: String, CodingKey {
        case profile, id, className, name, birth, death, maxSize, peakSize, lastSize, snapshotCount
    }

    /// Reads a row as `encode(to:)` writes it.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        profile = try values.decode(Profile.ID.self, forKey: .profile)
        id = try values.decode(Int.self, forKey: .id)
        className = try values.decode(String.self, forKey: .className)
        name = try values.decodeIfPresent(String.self, forKey: .name)
        birth = .seconds(try values.decode(Double.self, forKey: .birth))
        death = try values.decodeIfPresent(Double.self, forKey: .death).map { .seconds($0) }
        maxSize = try values.decode(Int.self, forKey: .maxSize)
        peakSize = try values.decode(Int.self, forKey: .peakSize)
        lastSize = try values.decode(Int.self, forKey: .lastSize)
        snapshotCount = try values.decode(Int.self, forKey: .snapshotCount)
    }

    /// Writes the row with its birth and death as seconds, the numbers a
    /// script reading `heapmonitor stats --json` expects (`Duration` itself
    /// would encode as a pair of integers).
    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        try values.encode(profile, forKey: .profile)
        try values.encode(id, forKey: .id)
        try values.encode(className, forKey: .className)
        try values.encodeIfPresent(name, forKey: .name)
        try values.encode(birth.inSeconds, forKey: .birth)
        try values.encodeIfPresent(death?.inSeconds, forKey: .death)
        try values.encode(maxSize, forKey: .maxSize)
        try values.encode(peakSize, forKey: .peakSize)
        try values.encode(lastSize, forKey: .lastSize)
        try values.encode(snapshotCount, forKey: .snapshotCount)
    }
}
