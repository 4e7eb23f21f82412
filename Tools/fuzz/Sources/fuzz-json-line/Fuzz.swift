import Logbook

/// An ingest line: any bytes parse to an event or a typed error; a parsed event that validates
/// survives export (`jsonLine`) and re-parse unchanged, byte for byte in its ids.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let event = try? Event(jsonLine: bytes), (try? event.validate()) != nil else { return 0 }
    let again = try? Event(jsonLine: Array(event.jsonLine.utf8))
    precondition(again == event, "export then ingest must give the same event")
    return 0
}
