// Generated from docs/openapi.yaml by Tools/sync-openapi.sh; do not edit.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: Logbook
  version: "1"
  description: >-
    The HTTP API of `logbook serve` (docs/service.md): an append-only journal of job lifecycle
    events whose job states are a deterministic fold where terminal events win. Every error body is
    {"error": "..."} naming the field, parameter or header at fault. With `--token-file`, every
    endpoint but /healthz needs `Authorization: Bearer <token>` and answers 401 without it.
servers:
  - url: http://127.0.0.1:8080
paths:
  /jobs/{id}/events:
    post:
      operationId: appendEvents
      summary: Append one event or an atomic batch to a job; answered once durable.
      parameters:
        - $ref: "#/components/parameters/JobID"
        - name: If-Match
          in: header
          required: false
          description: Exactly one version, bare (3) or quoted ("3"); the job's version the first event expects.
          schema: {type: string, pattern: '^[ \t]*([0-9]{1,19}|"[0-9]{1,19}")[ \t]*$'}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - $ref: "#/components/schemas/EventInput"
                - type: array
                  minItems: 1
                  items: {$ref: "#/components/schemas/EventInput"}
      responses:
        "200":
          description: >-
            A retry: every event's id was stored already, so nothing was stored now; the seqs are those
            of the first append and the state is the job's state now (header Idempotent-Replayed: true).
          headers:
            Idempotent-Replayed: {schema: {type: string, enum: ["true"]}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/AppendAnswer"}
        "201":
          description: Stored and durable; the job's state after the batch.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/AppendAnswer"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "409": {$ref: "#/components/responses/Conflict"}
        "413": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
        "507": {$ref: "#/components/responses/InsufficientStorage"}
  /jobs/{id}:
    get:
      operationId: jobState
      summary: The job's current state.
      parameters:
        - $ref: "#/components/parameters/JobID"
      responses:
        "200":
          description: The job's state.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/JobState"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
  /jobs/{id}/timeline:
    get:
      operationId: jobTimeline
      summary: "The job's history in log order, a page at a time: each event with what the fold did and only the state fields it changed."
      parameters:
        - $ref: "#/components/parameters/JobID"
        - {name: after, in: query, required: false, description: "Entries with a seq after this one (the previous page's `next`).", schema: {type: integer, minimum: 0, maximum: 9223372036854775807}}
        - {name: limit, in: query, required: false, description: "Entries per page, 1 to 5000 (default 500).", schema: {type: integer, minimum: 1, maximum: 5000}}
      responses:
        "200":
          description: One page of the job's history.
          content:
            application/json:
              schema:
                type: object
                required: [job, entries, next]
                properties:
                  job: {type: string}
                  entries: {type: array, items: {$ref: "#/components/schemas/TimelineEntry"}}
                  next: {description: "The `after` of the next page; null on the last.", oneOf: [{$ref: "#/components/schemas/Seq"}, {type: "null"}]}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
  /jobs:
    get:
      operationId: jobs
      summary: Jobs matching every given filter, sorted by job id (byte order).
      parameters:
        - name: status
          in: query
          required: false
          description: Any of these statuses (repeatable, or comma-separated).
          schema: {type: string, pattern: '^(pending|running|interrupted|completed|failed|cancelled)(,(pending|running|interrupted|completed|failed|cancelled))*$'}
        - {name: resumable, in: query, required: false, schema: {type: string, enum: ["", "true", "false", "1", "0"]}}
        - {name: unfinalized, in: query, required: false, schema: {type: string, enum: ["", "true", "false", "1", "0"]}}
        - {name: node, in: query, required: false, schema: {type: string, minLength: 1}}
        - {name: silentFor, in: query, required: false, description: "A duration such as 90s, 30m, 1h30m.", schema: {$ref: "#/components/schemas/Duration"}}
        - {name: stalledFor, in: query, required: false, description: "A duration such as 90s, 30m, 1h30m.", schema: {$ref: "#/components/schemas/Duration"}}
        - {name: now, in: query, required: false, description: "RFC 3339; default: the server's clock.", schema: {type: string, format: date-time}}
      responses:
        "200":
          description: The matching jobs' states.
          content:
            application/json:
              schema:
                type: array
                items: {$ref: "#/components/schemas/JobState"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /events:
    post:
      operationId: appendBatch
      summary: Append an atomic batch over several jobs (each event names its job); answered once durable.
      description: >-
        All events or none are stored, in the order given. There is no If-Match here (a 400): guard a
        job's version with POST /jobs/{id}/events.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - $ref: "#/components/schemas/JobEventInput"
                - type: array
                  minItems: 1
                  items: {$ref: "#/components/schemas/JobEventInput"}
      responses:
        "200":
          description: >-
            A retry: every event's id was stored already, so nothing was stored now; the seqs are those
            of the first append and the states are the jobs' states now (header Idempotent-Replayed: true).
          headers:
            Idempotent-Replayed: {schema: {type: string, enum: ["true"]}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/BatchAnswer"}
        "201":
          description: Stored and durable; each job's state after the batch, in the order the jobs first appear in it.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/BatchAnswer"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "409": {$ref: "#/components/responses/Conflict"}
        "413": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
        "507": {$ref: "#/components/responses/InsufficientStorage"}
    get:
      operationId: events
      summary: Server-Sent Events, one frame per event with seq > after; live until the stream ends.
      parameters:
        - {name: after, in: query, required: false, description: "Seqs are below 2^63; a larger value is accepted too and ends the stream at once.", schema: {type: integer, minimum: 0, maximum: 9223372036854775807}}
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 1000000000}}
        - {name: job, in: query, required: false, description: "Only this job's events (repeatable; exact bytes). `limit` counts the frames sent.", schema: {type: string, minLength: 1}, explode: true}
        - {name: Last-Event-ID, in: header, required: false, schema: {type: string, pattern: '^[0-9]{1,19}$'}}
      responses:
        "200":
          description: "Frames: `id: <seq>`, `event: <type>`, `data: <StoredEvent JSON>`."
          content:
            text/event-stream:
              schema: {type: string}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /healthz:
    get:
      operationId: health
      summary: Liveness, the last seq folded in, and with --postgres the shared log's state. Never needs a token.
      responses:
        "200":
          description: Serving.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Health"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "503":
          description: >-
            Appends here are refused: with --postgres, following stopped for good (the replica holds
            events the shared log no longer has) until the replica is replaced; or a write failed at
            the journal's device (reason) until the service is restarted.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Health"}
  /metrics:
    get:
      operationId: metrics
      summary: Prometheus metrics (text exposition format).
      responses:
        "200":
          description: The metrics.
          content:
            text/plain:
              schema: {type: string}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /openapi.yaml:
    get:
      operationId: openapi
      summary: This document.
      responses:
        "200":
          description: The OpenAPI document.
          content:
            application/yaml:
              schema: {type: string}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /ui:
    get:
      operationId: jobListPage
      summary: "The job list as a web page (no script): counts per status, the projections' filters, each job linking to its page. `/ui` redirects to `/ui/`."
      parameters:
        - {name: status, in: query, required: false, schema: {type: string}}
        - {name: resumable, in: query, required: false, schema: {type: string}}
        - {name: unfinalized, in: query, required: false, schema: {type: string}}
        - {name: node, in: query, required: false, schema: {type: string}}
        - {name: silentFor, in: query, required: false, schema: {type: string}}
        - {name: stalledFor, in: query, required: false, schema: {type: string}}
      responses:
        "200": {description: The page., content: {text/html: {schema: {type: string}}}}
        "308": {description: "`/ui` to `/ui/`."}
        "400": {description: "A bad filter, named on an HTML page.", content: {text/html: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
  /ui/jobs/{id}:
    get:
      operationId: jobPage
      summary: "A job's page (no script): verdict, findings, the timeline as inline SVG, every event with what the fold did; `until` or `at` travel in time."
      parameters:
        - {$ref: "#/components/parameters/JobID"}
        - {name: until, in: query, required: false, description: "Show the job after its events up to this seq.", schema: {type: integer, minimum: 0, maximum: 9223372036854775807}}
        - {name: at, in: query, required: false, description: "Show the job as of this RFC 3339 time.", schema: {type: string, format: date-time}}
        - {name: lease, in: query, required: false, description: "Expected gap between signs of life, e.g. 90s (empty: the default).", schema: {type: string, pattern: '^(([0-9]{1,6}(ms|s|m|h|d))+)?$'}}
      responses:
        "200": {description: The page., content: {text/html: {schema: {type: string}}}}
        "400": {description: "A bad parameter, named on an HTML page.", content: {text/html: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {description: No such job., content: {text/html: {schema: {type: string}}}}
  /ui/logbook.css:
    get:
      operationId: pageStylesheet
      summary: The pages' stylesheet.
      responses:
        "200": {description: CSS., content: {text/css: {schema: {type: string}}}}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
components:
  parameters:
    JobID:
      name: id
      in: path
      required: true
      description: >-
        The job id, percent-encoded (RFC 3986); ids are compared by their UTF-8 bytes and hold at most
        256 of them (the schema's 64 characters are the length every id within the limit can have).
      schema: {type: string, minLength: 1, maxLength: 64}
  responses:
    Conflict:
      description: >-
        Nothing was stored. Either the If-Match version is not the job's current version
        (expectedVersion, currentVersion), or an event id cannot be answered as a retry (id): it was
        stored for another event (or stands twice in the batch), or the batch mixes stored ids with new
        ones.
      content:
        application/json:
          schema:
            type: object
            required: [error]
            properties:
              error: {type: string}
              expectedVersion: {type: integer, minimum: 0}
              currentVersion: {type: integer, minimum: 0}
              id: {type: string, format: uuid}
    InsufficientStorage:
      description: >-
        The journal's filesystem is full: nothing of the batch was stored. Retry after the
        Retry-After header's seconds, once space is freed; the service recovers by itself.
      headers:
        Retry-After: {schema: {type: integer, minimum: 1}}
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Error:
      description: Refused; the body says why.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    BadRequest:
      description: A body, parameter, header or path segment is invalid; the message names it.
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
    Unauthorized:
      description: A bearer token is required (serve --token-file) and was missing or wrong.
      headers:
        WWW-Authenticate: {schema: {type: string}}
      content:
        application/json:
          schema: {$ref: "#/components/schemas/Error"}
  schemas:
    Seq: {type: integer, minimum: 0}
    EventID:
      type: string
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
      description: >-
        The client's id for an event, a UUID, unique in the journal. A batch whose ids are all stored
        already is a retry: nothing is stored again and the answer is 200 with the first seqs.
    Duration: {type: string, pattern: '^([0-9]{1,6}(ms|s|m|h|d))+$'}
    Error:
      type: object
      required: [error]
      properties:
        error: {type: string}
    EventType:
      type: string
      enum: [created, started, progress, heartbeat, interrupted, resumed, cancelled, completed, failed, refAcquired, refReleased, finalized, finalizing]
    EventInput:
      description: >-
        An event of the event model (docs/event-model.md). The job comes from the path (a `job` member
        is accepted when it equals the path's). Text limits are in UTF-8 bytes (node and holder 1024,
        reason 4096); the schema's lengths in characters keep every valid value within them.
      type: object
      required: [type]
      additionalProperties: false
      properties:
        type: {$ref: "#/components/schemas/EventType"}
        id: {$ref: "#/components/schemas/EventID"}
        at: {type: string, format: date-time, description: "RFC 3339; default: the append time."}
        node: {type: string, minLength: 1, maxLength: 256}
        holder: {type: string, minLength: 1, maxLength: 256}
        reason: {type: string, minLength: 1, maxLength: 1024}
        index: {type: integer, minimum: 0, maximum: 9223372036854775807}
        attempt: {type: integer, minimum: 1, maximum: 4294967295}
        data: {type: object}
      if:
        properties: {type: {enum: [refAcquired, refReleased, finalizing]}}
      then:
        required: [holder]
    AppendAnswer:
      description: The answer to an append on /jobs/{id}/events (the service's AppendAnswer, one job).
      type: object
      required: [seqs, state]
      properties:
        seqs: {type: array, items: {$ref: "#/components/schemas/Seq"}}
        state: {$ref: "#/components/schemas/JobState"}
    BatchAnswer:
      description: The answer to an append on /events (the service's AppendAnswer, several jobs).
      type: object
      required: [seqs, states]
      properties:
        seqs: {type: array, items: {$ref: "#/components/schemas/Seq"}}
        states: {type: array, items: {$ref: "#/components/schemas/JobState"}}
    Health:
      type: object
      required: [status, lastSeq]
      properties:
        status:
          type: string
          enum: [ok, degraded, stopped]
          description: >-
            degraded: appends are refused (507) because the journal's filesystem is full; reads work.
            stopped: appends are refused (503) until the replica is replaced or the service restarted.
        reason: {type: string, description: "While degraded, or stopped after a write failed at the device: why appends are refused."}
        lastSeq: {$ref: "#/components/schemas/Seq"}
        retention:
          description: Only with --drop-superseded-heartbeats-every.
          type: object
          required: [lastRun, durationMilliseconds, dropped, prunedTotal, error]
          properties:
            lastRun: {type: [string, "null"], description: "When retention last ran (null: not yet)."}
            durationMilliseconds: {type: integer, minimum: 0}
            dropped: {type: integer, minimum: 0, description: "Events the last run removed."}
            prunedTotal: {type: integer, minimum: 0, description: "Events removed since the service started (dropped heartbeats and archived jobs' events)."}
            error: {type: [string, "null"]}
        archive:
          description: Only with --archive-every.
          type: object
          required: [lastRun, durationMilliseconds, jobs, events, bundle, archivedTotal, error]
          properties:
            lastRun: {type: [string, "null"], description: "When the archive last ran (null: not yet)."}
            durationMilliseconds: {type: integer, minimum: 0}
            jobs: {type: integer, minimum: 0, description: "Jobs the last run moved."}
            events: {type: integer, minimum: 0, description: "Their events."}
            bundle: {type: [string, "null"], description: "The bundle the last run wrote (null: no job qualified)."}
            archivedTotal: {type: integer, minimum: 0, description: "Jobs archived since the service started."}
            error: {type: [string, "null"]}
        sharedLog:
          description: Only with --postgres.
          type: object
          required: [reachable, lagMilliseconds, applied, error, members, primary, failovers, lastFailover]
          properties:
            reachable: {type: boolean, description: "The last read of the shared log succeeded."}
            lagMilliseconds: {type: integer, minimum: 0}
            applied: {type: integer, minimum: 0, description: "Events this node's follower applied since it started."}
            error: {type: [string, "null"]}
            members: {type: array, items: {type: string}}
            primary: {type: [string, "null"], description: "The member this node writes to (null while looking for it)."}
            failovers: {type: integer, minimum: 0, description: "Changes of primary this node saw since it started."}
            lastFailover:
              oneOf:
                - type: "null"
                - type: object
                  required: [at, from, to]
                  properties:
                    at: {type: string, format: date-time}
                    from: {type: string}
                    to: {type: string}
    JobEventInput:
      description: An event of the event model with the job it belongs to (see EventInput).
      type: object
      required: [job, type]
      additionalProperties: false
      properties:
        job: {type: string, minLength: 1, maxLength: 64, description: "The job id (at most 256 UTF-8 bytes; compared by its bytes)."}
        type: {$ref: "#/components/schemas/EventType"}
        id: {$ref: "#/components/schemas/EventID"}
        at: {type: string, format: date-time, description: "RFC 3339; default: the append time."}
        node: {type: string, minLength: 1, maxLength: 256}
        holder: {type: string, minLength: 1, maxLength: 256}
        reason: {type: string, minLength: 1, maxLength: 1024}
        index: {type: integer, minimum: 0, maximum: 9223372036854775807}
        attempt: {type: integer, minimum: 1, maximum: 4294967295}
        data: {type: object}
      if:
        properties: {type: {enum: [refAcquired, refReleased, finalizing]}}
      then:
        required: [holder]
    StoredEvent:
      type: object
      description: A stored event; optional fields are left out when the event has none.
      required: [seq, version, job, type, at, appendedAt]
      properties:
        seq: {$ref: "#/components/schemas/Seq"}
        version: {type: integer, minimum: 1}
        job: {type: string}
        type: {$ref: "#/components/schemas/EventType"}
        id: {type: string, format: uuid, description: "Only when the client gave one."}
        at: {type: string}
        appendedAt: {type: string}
        node: {type: string}
        holder: {type: string}
        reason: {type: string}
        index: {type: integer}
        attempt: {type: integer}
        data: {type: object}
    TimelineEntry:
      type: object
      description: One event of a job's history, as `replay --json` prints it too.
      required: [event, effect, changes]
      properties:
        event: {$ref: "#/components/schemas/StoredEvent"}
        effect: {type: string, enum: [applied, ignored]}
        reason: {type: string, description: "Why the fold ignored it; only when ignored."}
        changes: {type: object, description: "The JobState fields this event changed (not job, version or anomalies), with their new values."}
    JobState:
      type: object
      required: [job, status, terminal, finalized, finalizing, refs, version, attempt, node, createdAt, attemptStartedAt,
                 lastHeartbeatAt, lastProgressAt, index, decidedBy, decidedReason, anomalies, anomalyCount]
      properties:
        job: {type: string}
        status: {type: string, enum: [pending, running, interrupted, completed, failed, cancelled]}
        terminal: {type: boolean}
        finalized: {type: boolean}
        finalizing:
          description: The latest drainer's claim on the terminal side effects (docs/embedding.md), or null.
          type: [object, "null"]
          required: [holder, seq, at]
          properties:
            holder: {type: string}
            seq: {$ref: "#/components/schemas/Seq"}
            at: {type: string}
        refs: {type: array, items: {type: string}}
        version: {type: integer, minimum: 0}
        attempt: {type: integer, minimum: 0}
        node: {type: [string, "null"]}
        createdAt: {type: [string, "null"]}
        attemptStartedAt: {type: [string, "null"]}
        lastHeartbeatAt: {type: [string, "null"]}
        lastProgressAt: {type: [string, "null"]}
        index: {type: [integer, "null"]}
        decidedBy: {type: [integer, "null"]}
        decidedReason: {type: [string, "null"]}
        anomalies:
          type: array
          items:
            type: object
            required: [seq, type, message]
            properties:
              seq: {$ref: "#/components/schemas/Seq"}
              type: {$ref: "#/components/schemas/EventType"}
              message: {type: string}
        anomalyCount: {type: integer, minimum: 0}
"""#
}
