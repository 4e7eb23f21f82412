/// An event the fold kept but ignored, with the reason in words. Forensic evidence, never an error.
public struct Anomaly: Sendable, Hashable {
    public var seq: UInt64
    public var type: EventType
    public var message: String

    public init(seq: UInt64, type: EventType, message: String) {
        self.seq = seq
        self.type = type
        self.message = message
    }

    public static func == (a: Anomaly, b: Anomaly) -> Bool {
        a.seq == b.seq && a.type == b.type && a.message.hasSameBytes(as: b.message)
    }
}
