import HeapMonitor
import Testing

@Suite("Byte counts")
struct ByteCountTests {
    @Test(arguments: [
        (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
        (44_199_952, "42.2 MiB"), (3 << 30, "3.0 GiB"), (-2048, "-2.0 KiB"),
    ])
    func formats(bytes: Int, text: String) {
        #expect(ByteCount.format(bytes) == text)
    }
}
