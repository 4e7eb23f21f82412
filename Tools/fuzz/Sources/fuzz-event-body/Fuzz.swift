import Logbook

/// The body of `POST /jobs/{id}/events`: any bytes give events or a typed error (a 400), never a
/// crash, and in time linear in the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let events = try? Event.decodeBody(bytes, job: "j") {
        precondition(!events.isEmpty, "a decoded body holds at least one event")
        for e in events { _ = try? e.validate() }
    }
    return 0
}
