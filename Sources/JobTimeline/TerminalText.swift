/// Text from the journal (ids, reasons, nodes, holders, messages) as it may be shown on a terminal.
///
/// A job id is data a writer chose: an ESC could recolour or rewrite the operator's screen, a newline
/// could forge a row. Human output passes every such text through `printable`, which shows control
/// characters (C0, DEL, C1) and bidirectional overrides as visible escapes. JSON output is exact and
/// escapes them by JSON's own rules instead.
extension String {
    public var printable: String {
        guard unicodeScalars.contains(where: \.needsEscapeOnTerminal) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            guard scalar.needsEscapeOnTerminal else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1B}": out += "\\e"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u{" + hex + "}"
            }
        }
        return out
    }

    /// The text in at most `columns` terminal columns, an ellipsis marking a cut.
    public func cut(toColumns columns: Int) -> String {
        guard displayWidth > columns else { return self }
        var out = ""
        var used = 0
        for ch in self {
            let w = String(ch).displayWidth
            if used + w > columns - 1 { break }
            out.append(ch)
            used += w
        }
        return out + "…"
    }

    /// Columns the text takes on a terminal: East Asian wide and emoji characters take two, combining
    /// marks none (what `wcwidth` says, by grapheme).
    public var displayWidth: Int {
        var width = 0
        for character in self {
            guard let first = character.unicodeScalars.first else { continue }
            if first.properties.generalCategory == .nonspacingMark || first.properties.generalCategory == .enclosingMark {
                continue
            }
            width += first.isWide || character.unicodeScalars.contains { $0.properties.isEmojiPresentation } ? 2 : 1
        }
        return width
    }
}

extension Unicode.Scalar {
    public var needsEscapeOnTerminal: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1
        case 0x202A...0x202E, 0x2066...0x2069: true  // bidirectional embeddings, overrides, isolates
        default: false
        }
    }

    /// East Asian Wide or Fullwidth (the ranges `wcwidth` treats as two columns).
    public var isWide: Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            true
        default: false
        }
    }
}
