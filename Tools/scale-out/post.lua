-- wrk script for the scale-out rig (Tools/scale-out/run.sh); run it with as many threads as
-- connections (-t N -c N), so each thread has one connection and its responses come in the order
-- of its requests. Every request appends one durable event: each thread has its own jobs, a new
-- one every 200 events (a "started", then heartbeats), and each event is stamped with a time of its
-- own ("at", one microsecond apart). An acknowledged (201) event is recorded as "seq at" (the seq
-- the answering node's replica gave it, the same in every replica: they apply the shared log in
-- one order); the lines go at the end to the file named by the environment's ACKED (one file per
-- wrk process) for the rig's loss check. DELAY_MS: a pause before each request.
local threads = {}
local counter = 0
local pause = tonumber(os.getenv("DELAY_MS") or "0")

if pause > 0 then
  function delay() return pause end
end

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  -- Some builds of wrk call request() once per thread before the first connection and never
  -- send what it returns: that first call is a throwaway (a GET /healthz if it is sent after all).
  throwaway = true
  n = 0
  acked = {}
  unmatched = 0
  prefix = (os.getenv("PREFIX") or "w") .. id
end

-- 2026-01-01T00:00:00Z plus n microseconds, as the service prints times (no fraction when whole
-- seconds, three digits when whole milliseconds, else six).
local function stamp(n)
  local us = n % 1000000
  local s = math.floor(n / 1000000)
  local fraction = ""
  if us % 1000 == 0 and us > 0 then fraction = string.format(".%03d", us / 1000)
  elseif us > 0 then fraction = string.format(".%06d", us) end
  return string.format("2026-01-01T%02d:%02d:%02d%sZ", math.floor(s / 3600), math.floor(s / 60) % 60, s % 60, fraction)
end

function request()
  if throwaway then
    throwaway = false
    return wrk.format("GET", "/healthz")
  end
  local job = prefix .. "-" .. math.floor(n / 200)
  at = stamp(n + 1)
  local body
  if n % 200 == 0 then
    body = '{"type":"started","node":"' .. prefix .. '","at":"' .. at .. '"}'
  else
    body = '{"type":"heartbeat","attempt":1,"at":"' .. at .. '"}'
  end
  n = n + 1
  return wrk.format("POST", "/jobs/" .. job .. "/events", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 201 then return end
  local seq = string.match(body, '"seqs":%[(%d+)%]')
  if seq then
    acked[#acked + 1] = seq .. " " .. at
  else
    unmatched = unmatched + 1
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("ACKED"), "w")
  local missed = 0
  for _, thread in ipairs(threads) do
    for _, line in ipairs(thread:get("acked")) do out:write(line, "\n") end
    missed = missed + thread:get("unmatched")
  end
  out:close()
  io.write("acknowledged but not recorded: ", missed, "\n")
end
