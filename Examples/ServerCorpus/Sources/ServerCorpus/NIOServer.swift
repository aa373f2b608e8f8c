import NIOCore
import NIOHTTP1
import NIOPosix

/// A plain SwiftNIO HTTP/1 server pipeline: each request is an `Exchange`
/// (leaked on purpose) answered with a short body.
final class ExchangeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else {
            if case .end = unwrapInboundIn(data) { respond(context) }
            return
        }
        Exchange(uri: head.uri).start()
    }

    private func respond(_ context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: 16)
        body.writeString("exchanged\n")
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// Binds the NIO server on a loopback port chosen by the system.
func startNIOServer(group: MultiThreadedEventLoopGroup) async throws -> Channel {
    try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 64)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.pipeline.configureHTTPServerPipeline().flatMap {
                channel.pipeline.addHandler(ExchangeHandler())
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
}
