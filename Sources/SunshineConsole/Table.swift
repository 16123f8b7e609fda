// Laid out here: TextTable 0.0.2 (the machine's one table package) pads with `String.count` and
// knows neither an available width nor columns that give way, and console-kit has no table.

/// One column of a `Table`: its header, how its cells align, and how it gives way when the
/// terminal is too narrow for every column.
public struct TableColumn: Sendable, Hashable {
    /// The header text, shown above the column.
    public var header: String
    /// Which side of the column cells sit against.
    public var alignment: Alignment
    /// The fewest columns the column keeps when it is the flexible one and has to be truncated.
    public var minWidth: Int
    /// How much the column is worth keeping: when the table does not fit, the column with the lowest
    /// priority is dropped first (among equals, the rightmost).
    public var priority: Int
    /// Whether this is the column that is truncated, down to `minWidth`, once dropping columns is
    /// no longer needed (the township name, typically). A table has at most one.
    public var isFlexible: Bool

    /// A column; by default left-aligned, of priority 0, and neither flexible nor of a minimum width.
    public init(
        _ header: String, alignment: Alignment = .left, minWidth: Int = 0, priority: Int = 0, flexible: Bool = false
    ) {
        self.header = header
        self.alignment = alignment
        self.minWidth = minWidth
        self.priority = priority
        self.isFlexible = flexible
    }
}

/// Rows of styled cells under column headers, laid out for the width the terminal has, so that
/// each township stays on one line whatever the window size and whatever script its name is in.
///
/// Given the available width it drops the lowest-priority columns, but only as many as needed for
/// the rest to fit with the flexible column at its minimum width; then it gives the flexible column
/// what is left, up to its natural width, truncating its cells with an ellipsis. No line is ever
/// wider than the available width, measured in display columns.
public struct Table: Sendable {
    /// The columns, left to right.
    public let columns: [TableColumn]
    /// The cells of each row, one per column; missing cells are empty.
    public var rows: [[StyledText]]
    /// What goes between two columns.
    public var separator: String
    /// How the header line looks.
    public var headerStyle: TextStyle

    /// A table of `columns`, of which at most one is flexible.
    public init(
        columns: [TableColumn], rows: [[StyledText]] = [], separator: String = "  ", headerStyle: TextStyle = .bold
    ) {
        precondition(columns.filter(\.isFlexible).count <= 1, "a table has at most one flexible column")
        self.columns = columns
        self.rows = rows
        self.separator = separator
        self.headerStyle = headerStyle
    }

    /// The width given to each column in `width` display columns, or nil for a column dropped to
    /// make the rest fit.
    public func columnWidths(fitting width: Int) -> [Int?] {
        let natural = columns.indices.map { index in
            rows.reduce(max(columns[index].minWidth, columns[index].header.displayWidth)) { widest, row in
                max(widest, index < row.count ? row[index].displayWidth : 0)
            }
        }
        let floor = columns.indices.map {
            columns[$0].isFlexible ? min(columns[$0].minWidth, natural[$0]) : natural[$0]
        }
        let separatorWidth = separator.displayWidth
        var kept = Array(columns.indices)
        func needed(_ widths: [Int]) -> Int {
            kept.reduce(0) { $0 + widths[$1] } + separatorWidth * max(0, kept.count - 1)
        }
        while needed(floor) > width, kept.count > 1 {
            let lowest = kept.min { (columns[$0].priority, -$0) < (columns[$1].priority, -$1) }!
            kept.removeAll { $0 == lowest }
        }
        var widths = columns.indices.map { kept.contains($0) ? natural[$0] : nil as Int? }
        if let flexible = kept.first(where: { columns[$0].isFlexible }) {
            let others = needed(natural) - natural[flexible]
            widths[flexible] = max(floor[flexible], min(natural[flexible], width - others))
        }
        return widths
    }

    /// The header line and one line per row, laid out to `width` display columns.
    public func lines(width: Int) -> [StyledText] {
        let widths = columnWidths(fitting: width)
        let header = columns.map { StyledText($0.header, style: headerStyle) }
        return ([header] + rows).map { cells in
            let parts = columns.indices.compactMap { index -> StyledText? in
                guard let columnWidth = widths[index] else { return nil }
                let cell = index < cells.count ? cells[index] : StyledText()
                return cell.fitted(toWidth: columnWidth, alignment: columns[index].alignment)
            }
            var line = parts.first ?? StyledText()
            for part in parts.dropFirst() { line += StyledText(separator) + part }
            return line.truncated(toWidth: width)
        }
    }
}
