/// Classes that own a malloc'd buffer behind a raw pointer, which sizing
/// cannot otherwise follow. A registered class's buffer counts toward its
/// instances when the pointer starts a glibc block of at least the stored
/// capacity (so a buffer from a custom allocator is left out, not guessed).
enum OwnedBuffers {
    /// SwiftNIO's `ByteBuffer` keeps its bytes this way.
    private static let registry = Locked<[String: (pointer: String, capacity: String)]>([
        "NIOCore.ByteBuffer._Storage": ("bytes", "capacity")
    ])

    static func register(className: String, pointer: String, capacity: String) {
        registry.withLock { $0[className] = (pointer, capacity) }
    }

    static func fields(forClassNamed name: String) -> (pointer: String, capacity: String)? {
        registry.withLock { $0[name] }
    }
}

extension Sizer {
    /// Counts the malloc'd buffer that instances of `className` (fully
    /// qualified, `Module.Outer.Inner`) keep in the raw pointer property
    /// `pointer`, of at least `capacity` bytes (an integer property), as
    /// part of each instance. Register before the class is first sized:
    /// layouts are made once per type. SwiftNIO's `ByteBuffer` storage is
    /// registered already.
    public static func registerOwnedBuffer(className: String, pointer: String, capacity: String) {
        OwnedBuffers.register(className: className, pointer: pointer, capacity: capacity)
    }
}
