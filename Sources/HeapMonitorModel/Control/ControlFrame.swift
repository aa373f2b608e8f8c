#if canImport(Glibc)
import Glibc
#endif

/// How requests and replies travel on a control socket: a magic word with
/// the protocol version, the payload's length as a varint, the payload. One
/// request and one reply per connection.
package enum ControlFrame {
    package static let magic: [UInt8] = Array("HMC".utf8) + [1]
    /// Requests are small; a longer one is garbage, refused before it is read.
    package static let requestLimit = 1 << 16
    /// Replies carry censuses and leak reports; bounded all the same.
    package static let replyLimit = 1 << 28

    /// `payload` framed.
    package static func frame(_ payload: [UInt8]) -> [UInt8] {
        var encoder = ByteEncoder()
        encoder.bytes = magic
        encoder.varint(payload.count)
        encoder.bytes += payload
        return encoder.bytes
    }

    /// `payload` read by `decode`, which must consume all of it; any
    /// problem is a `ControlError.malformed` naming `what`.
    package static func decodeWhole<Value>(
        _ payload: [UInt8], as what: String,
        _ decode: (inout ByteDecoder) throws(ProfileError.Problem) -> Value
    ) throws(ControlError) -> Value {
        let decoded = payload.withUnsafeBytes { bytes in
            Result { () throws(ProfileError.Problem) in
                var decoder = ByteDecoder(bytes)
                let value = try decode(&decoder)
                guard decoder.isAtEnd else { throw .malformed("bytes after \(what)") }
                return value
            }
        }
        switch decoded {
        case .success(let value): return value
        case .failure(let problem): throw ControlError(problem, in: what)
        }
    }

    /// The payload of a frame read by `read`, which returns exactly the
    /// count of bytes asked for or fails (end, timeout).
    package static func read(
        limit: Int, using read: (_ count: Int) throws(ControlError) -> [UInt8]
    ) throws(ControlError) -> [UInt8] {
        guard try read(magic.count) == magic else {
            throw .malformed("not a HeapMonitor control frame (or another version)")
        }
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try read(1)[0]
            guard shift < 35 else { throw .malformed("a frame length is too long") }
            length |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= UInt64(limit) else { throw .malformed("a frame of \(length) bytes is over the limit") }
        return length == 0 ? [] : try read(Int(length))
    }
}

extension ControlFrame {
    /// Makes reads and writes on the socket `fd` give up after `timeout`.
    package static func setTimeout(_ timeout: Duration, on fd: Int32) {
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Exactly `count` bytes from the socket `fd`, within its timeout.
    package static func receive(_ count: Int, from fd: Int32) throws(ControlError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let result = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, count - received, 0) }
            if result < 0, errno == EINTR { continue }
            if result < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut }
            guard result > 0 else { throw .malformed("the connection ended inside a frame") }
            received += result
        }
        return bytes
    }

    /// All of `bytes` to the socket `fd`, within its timeout. MSG_NOSIGNAL:
    /// a peer that went away must not raise SIGPIPE (which ends a process).
    package static func write(_ bytes: [UInt8], to fd: Int32) throws(ControlError) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if result < 0, errno == EINTR { continue }
            if result < 0, errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut }
            guard result > 0 else { throw .unreachable("the peer closed the connection") }
            sent += result
        }
    }
}

extension ByteEncoder {
    /// A flag byte, then the string if there is one.
    package mutating func optionalString(_ value: String?) {
        byte(value == nil ? 0 : 1)
        if let value { string(value) }
    }
}

extension ByteDecoder {
    /// What `ByteEncoder.optionalString(_:)` wrote.
    package mutating func optionalString() throws(ProfileError.Problem) -> String? {
        try byte() == 0 ? nil : try string()
    }
}
