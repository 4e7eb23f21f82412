// The values a client needs beside `RemoteLogbook`, named one by one so that `import LogbookClient`
// is enough (the same types as the embedded `Logbook`'s: one encoding of an event and a job state).
import class JobRunner.RunningJob
import enum JobRunner.WorkerError
import enum JobRunner.WorkerStop
import struct Lifecycle.Anomaly
import struct Lifecycle.Event
import struct Lifecycle.EventID
import enum Lifecycle.EventType
import struct Lifecycle.FinalizationClaim
import struct Lifecycle.JobQuery
import struct Lifecycle.JobState
import enum Lifecycle.JobStatus
import struct Lifecycle.RecordedEvent
import struct Lifecycle.Timestamp

public typealias Event = Lifecycle.Event
public typealias EventID = Lifecycle.EventID
public typealias EventType = Lifecycle.EventType
public typealias RecordedEvent = Lifecycle.RecordedEvent
public typealias JobState = Lifecycle.JobState
public typealias JobStatus = Lifecycle.JobStatus
public typealias JobQuery = Lifecycle.JobQuery
public typealias Timestamp = Lifecycle.Timestamp
public typealias Anomaly = Lifecycle.Anomaly
public typealias FinalizationClaim = Lifecycle.FinalizationClaim
public typealias WorkerError = JobRunner.WorkerError
public typealias WorkerStop = JobRunner.WorkerStop
public typealias RunningJob = JobRunner.RunningJob
