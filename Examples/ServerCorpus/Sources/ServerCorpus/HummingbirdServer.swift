import AsyncAlgorithms
import Hummingbird
import NIOCore

/// The request context the routes see: Hummingbird's core storage plus a
/// value of the application's own.
struct CorpusContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let received: ContinuousClock.Instant

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        received = .now
    }
}

/// Sends every request's path into the audit channel (swift-async-algorithms).
struct AuditMiddleware<Context: RequestContext>: RouterMiddleware {
    let audit: AsyncChannel<String>

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        await audit.send(request.uri.path)
        return try await next(request, context)
    }
}

/// The Hummingbird 2 application: a router with middleware, a custom
/// context, sessions, a leaking handler and a JSON route.
func makeHummingbirdApp(
    audit: AsyncChannel<String>, onRunning: @escaping @Sendable (Int) -> Void
)
    -> some ApplicationProtocol
{
    let router = Router(context: CorpusContext.self)
    router.add(middleware: AuditMiddleware(audit: audit))
    router.get("session/:id") { _, context -> String in
        let id = try context.parameters.require("id")
        return "sessions \(SessionStore.shared.visit(id, path: "/session/\(id)"))"
    }
    router.get("leak/:n") { _, context -> String in
        RequestHandler(path: try context.parameters.require("n")).run()
    }
    router.post("order") { request, context -> Order in
        var order = try await request.decode(as: Order.self, context: context)
        order.note = "\(order.lines.reduce(0) { $0 + $1.quantity }) items"
        return order
    }
    return Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) })
}

extension Order: ResponseEncodable {}
