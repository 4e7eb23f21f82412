// The types an embedder needs beside `Logbook` itself, named here one by one so that `import Logbook`
// is enough to use the API and nothing else of the modules below comes with it: the storage engine
// (Journal, LMDB) stays out of reach. Each import names one declaration, so in this file `Journal`
// and `Lifecycle` are the modules, not the `Journal` class.
import struct Journal.AppendItem
import enum JobRunner.WorkerError
import enum JobRunner.WorkerStop
import class JobRunner.RunningJob
import struct Journal.CompactionReport
import enum Journal.Durability
import enum Journal.JournalError
import struct Journal.ReplicaCursor
import struct Journal.SalvagedRecords
import struct Lifecycle.Anomaly
import struct Lifecycle.Event
import struct Lifecycle.EventDecodingError
import struct Lifecycle.EventID
import enum Lifecycle.EventType
import struct Lifecycle.EventValidationError
import struct Lifecycle.FinalizationClaim
import struct Lifecycle.JobQuery
import struct Lifecycle.JobState
import enum Lifecycle.JobStatus
import struct Lifecycle.Projections
import struct Lifecycle.RecordedEvent
import struct Lifecycle.TimelineEntry
import struct Lifecycle.Timestamp

// Events and job states (pure values, Lifecycle).
public typealias Event = Lifecycle.Event
public typealias EventType = Lifecycle.EventType
public typealias RecordedEvent = Lifecycle.RecordedEvent
public typealias JobState = Lifecycle.JobState
public typealias JobStatus = Lifecycle.JobStatus
public typealias JobQuery = Lifecycle.JobQuery
public typealias Timestamp = Lifecycle.Timestamp
public typealias Anomaly = Lifecycle.Anomaly
public typealias FinalizationClaim = Lifecycle.FinalizationClaim
public typealias TimelineEntry = Lifecycle.TimelineEntry
public typealias Projections = Lifecycle.Projections
public typealias EventValidationError = Lifecycle.EventValidationError
public typealias EventDecodingError = Lifecycle.EventDecodingError
public typealias EventID = Lifecycle.EventID

// Appends, errors and reports (Journal, LMDB).
public typealias AppendItem = Journal.AppendItem
public typealias Durability = Journal.Durability
public typealias JournalError = Journal.JournalError
public typealias CompactionReport = Journal.CompactionReport
public typealias SalvagedRecords = Journal.SalvagedRecords
public typealias ReplicaCursor = Journal.ReplicaCursor

// Running a job (JobRunner: the run loop shared with LogbookClient's RemoteLogbook).
public typealias WorkerError = JobRunner.WorkerError
public typealias WorkerStop = JobRunner.WorkerStop
public typealias RunningJob = JobRunner.RunningJob
