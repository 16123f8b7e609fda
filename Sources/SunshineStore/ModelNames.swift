import SunshineModel

/// GRDB also exports a `Record` class; inside the store, `Record` always means a Sunshine record.
public typealias Record = SunshineModel.Record
