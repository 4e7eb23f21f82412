/// The cursor positioning operations Logbook uses (a subset of `MDB_cursor_op`).
package enum CursorOperation: Sendable {
    case first, last, next, previous
    case set, setKey, setRange
    case getBoth, getBothRange
    case firstDup, lastDup, nextDup, previousDup, nextNoDup
    case getCurrent
}
