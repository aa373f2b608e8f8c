import Glibc

/// The terminal a live view draws on, taken over while the view runs: keys
/// arrive one at a time and unechoed, the drawing goes to the alternate
/// screen, and `restore()` gives back the screen, the cursor and the
/// settings found — also when the view ends on SIGINT, SIGTERM or SIGHUP,
/// which are blocked meanwhile and taken as keys are.
final class Terminal {
    /// What waiting for input brought.
    enum Input: Equatable {
        /// A key (Ctrl-C and Ctrl-D are `quit`).
        case key(UInt8)
        /// The terminal changed size.
        case resized
        /// Ctrl-C, Ctrl-D, the end of input, or a signal to end.
        case quit
        /// Nothing before the deadline.
        case none
    }

    private var saved = termios()
    private var signals = sigset_t()
    private var previousMask = sigset_t()
    private var restored = false

    /// Takes over the terminal; nil when standard input or output is none.
    init?() {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1,
              tcgetattr(STDIN_FILENO, &saved) == 0 else { return nil }
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, &previousMask)
        var raw = saved
        // Keys unbuffered and unechoed; Ctrl-C a key (ISIG off), so the view
        // ends through `restore()`, not with the terminal left raw.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        write("\u{1B}[?1049h\u{1B}[?25l")  // the alternate screen, the cursor hidden
    }

    deinit { restore() }

    /// Rows and columns now (24 × 80 when the terminal does not say).
    var size: (rows: Int, columns: Int) {
        var window = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 else {
            return (24, 80)
        }
        return (Int(window.ws_row), Int(window.ws_col))
    }

    /// Draws `text` over the screen from its top left corner.
    func draw(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        write("\u{1B}[H" + lines.joined(separator: "\u{1B}[K\r\n") + "\u{1B}[K\u{1B}[J")
    }

    /// The next key or event, waiting until `deadline` at most.
    func input(before deadline: ContinuousClock.Instant) -> Input {
        while true {
            if let signal = pendingSignal() { return signal == SIGWINCH ? .resized : .quit }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return .none }
            // Signals are polled between short waits: they are blocked, so
            // they cannot interrupt poll(2).
            let slice = min(left, .milliseconds(100))
            let milliseconds = Int32((slice / .milliseconds(1)).rounded(.up))
            var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, milliseconds) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(STDIN_FILENO, &byte, 1) == 1 else { return .quit }
            return byte == 3 || byte == 4 ? .quit : .key(byte)
        }
    }

    /// Gives the terminal back as it was found; once.
    func restore() {
        guard !restored else { return }
        restored = true
        write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
        // Signals that came meanwhile are taken, not delivered on unblocking:
        // the view has ended as they asked.
        while pendingSignal() != nil {}
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }

    private func pendingSignal() -> Int32? {
        var zero = timespec(tv_sec: 0, tv_nsec: 0)
        let signal = sigtimedwait(&signals, nil, &zero)
        return signal > 0 ? signal : nil
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
