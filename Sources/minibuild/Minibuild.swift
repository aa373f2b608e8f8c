import ArgumentParser
import HeapMonitor
import HeapMonitorOptions

/// `minibuild`: a small build tool in the manner of SCons — an environment,
/// file and directory nodes, actions, content signatures, a dependency
/// graph — monitored with the HeapMonitor switches.
@main
struct Minibuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "minibuild",
        abstract: "Build a project of C-like files (a built-in one by default), with HeapMonitor's switches.",
        discussion: """
            Without a project, minibuild generates one in a temporary directory and builds it.
            Try: minibuild --debug=heapmonitor --debug=memory --heapprofile=heap.html \
            --debug=garbage --garbage=leaks.dot
            """
    )

    @Argument(help: "The project directory (default: a generated project).")
    var project: String?

    @Option(help: "Modules of the generated project.")
    var modules = 20

    @Option(help: "Source files per module of the generated project.")
    var files = 50

    @Option(help: "Pad each generated source file to at least this many KiB.")
    var fileKib = 0

    @Flag(help: "Only generate the project (its directory is printed), so that later runs measure building alone.")
    var generateOnly = false

    @Flag(help: "Let the environment hold its listener weakly (fixes the leak the garbage tutorial finds).")
    var weakListener = false

    @Flag(help: ArgumentHelp("Do not keep file contents: read them whole when needed, "
                             + "then drop them (the lazy-initialisation tutorial's fix)."))
    var releaseContents = false

    @Flag(help: "Hash files in 64 KiB blocks instead of reading them whole (the block-wise hashing tutorial).")
    var hashInBlocks = false

    @OptionGroup var monitor: MonitorOptions

    func run() throws {
        if generateOnly {
            print(makeDefaultProject(modules: modules, filesPerModule: files, minimumKiB: fileKib))
            return
        }
        let host = try HostMonitor(
            switches: try monitor.switches(),
            classes: [Node.self, Environment.self, Action.self])
        try host.instant("startup")
        let root = project ?? makeDefaultProject(modules: modules, filesPerModule: files, minimumKiB: fileKib)
        do {
            let graph = DependencyGraph(root: root, environment: Environment(), weakListener: weakListener)
            graph.reading = hashInBlocks ? .blocks : releaseContents ? .releaseContents : .keepContents
            graph.scan()
            try host.instant("after reading the project")
            let commands = graph.build()
            graph.environment.set("CFLAGS", "-O3")
            try host.instant("after building")
            print(
                "minibuild: built \(commands.count) targets in \(project ?? "a generated project"); "
                    + "\(graph.outdated.count) outdated by the new CFLAGS")
        }
        try host.instant("after releasing the graph")
        if project == nil { removeProject(root) }
        do { try host.finish() } catch { throw ExitCode(1) }
    }
}
