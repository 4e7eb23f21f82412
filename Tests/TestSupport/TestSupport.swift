import Foundation

/// A fresh directory under the system temp dir, removed by `cleanup()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// A new directory in the system temp dir, or in `parent`.
    public init(_ label: String = "logbook", in parent: String? = nil) {
        path = (parent.map { $0 + "/" } ?? NSTemporaryDirectory()) + "\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Where the package's built executables live: next to the running test bundle.
public func builtExecutable(_ name: String) -> String {
    if let override = ProcessInfo.processInfo.environment["LOGBOOK_BIN_DIR"] { return override + "/" + name }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The test binary may sit inside an .xctest bundle directory on some platforms.
    while dir.path.hasSuffix(".xctest") || dir.path.contains(".xctest/") { dir = dir.deletingLastPathComponent() }
    return dir.appendingPathComponent(name).path
}

/// The outcome of running a process to completion.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments`, feeding `stdin`, and waits for it.
public func run(
    _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
    currentDirectory: String? = nil
) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    let writer = Thread {
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    let errBox = DataBox()
    let errReader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    errReader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errBox.done { usleep(1000) }
    return ProcessOutput(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errBox.data ?? Data(), as: UTF8.self))
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _data: Data?
    private var _done = false
    var data: Data? {
        get { lock.withLock { _data } }
        set { lock.withLock { _data = newValue; _done = true } }
    }
    var done: Bool { lock.withLock { _done } }
}

/// A child process whose stdout lines are collected as they arrive, for kill -9 tests.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let lock = NSLock()
    private var buffer = Data()
    private var lines: [String] = []

    private let input = Pipe()
    private let errorFile: String

    deinit { try? FileManager.default.removeItem(atPath: errorFile) }

    /// What the child wrote to standard error so far, and whether it still runs (for a failing
    /// test's message: a child that printed nothing may have exited with an error).
    public var diagnosis: String {
        let stderr = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        let state = process.isRunning ? "running" : "exited with status \(process.terminationStatus)"
        return "\(state); stderr: \(stderr.isEmpty ? "(empty)" : stderr)"
    }

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = input
        errorFile = NSTemporaryDirectory() + "child-stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errorFile, contents: nil)
        let errorHandle = FileHandle(forWritingAtPath: errorFile)
        process.standardError = errorHandle ?? FileHandle.nullDevice
        try process.run()
        try? errorHandle?.close()  // the child has its own copy
        // A thread with blocking reads, not a `readabilityHandler`: tearing down a pipe whose
        // dispatch read source is live crashes libdispatch on Linux now and then
        // (`_dispatch_event_loop_drain`, swift-corelibs-foundation#5507), which took a whole test run down.
        let reading = out.fileHandleForReading
        let reader = Thread { [weak self] in
            while true {
                let chunk = reading.availableData
                guard !chunk.isEmpty, let self else { return }
                self.lock.withLock {
                    self.buffer.append(chunk)
                    while let nl = self.buffer.firstIndex(of: 0x0A) {
                        self.lines.append(String(decoding: self.buffer[self.buffer.startIndex..<nl], as: UTF8.self))
                        self.buffer.removeSubrange(self.buffer.startIndex...nl)
                    }
                }
            }
        }
        reader.start()
    }

    /// Writes to the child's standard input (it blocks while the pipe is full and the child does not read).
    public func send(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    /// Closes the child's standard input: it reads end of file.
    public func closeInput() { try? input.fileHandleForWriting.close() }

    /// Complete lines printed so far.
    public var outputLines: [String] { lock.withLock { lines } }

    /// Waits until a line satisfying `predicate` appears, up to `timeout` seconds.
    public func waitForLine(timeout: Double = 30, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if outputLines.contains(where: predicate) { return true }
            usleep(5_000)
        }
        return false
    }

    /// Waits, suspending rather than blocking a thread, until a line satisfying `predicate` appears,
    /// up to `timeout` seconds. Use this from async tests: a blocked cooperative thread starves
    /// every other test's tasks on a 2-core machine.
    public func line(within timeout: Double = 60, where predicate: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if outputLines.contains(where: predicate) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return outputLines.contains(where: predicate)
    }

    /// SIGKILL, then wait for the process and let the reader drain what was already written.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        usleep(50_000)
    }
}
