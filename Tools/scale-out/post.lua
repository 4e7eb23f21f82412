-- wrk script for the scale-out rig (Tools/scale-out/run.sh): every request appends one durable
-- event; each wrk thread has its own jobs, a new one every 200 events (a "started", then
-- heartbeats), and each event carries a unique data.i. Every acknowledged (201) event is recorded
-- as "job version i" and written at the end to the file named by the environment's ACKED (one
-- file per wrk process: ACKED must differ between processes), for the rig's loss check.
local threads = {}
local counter = 0
local pause = tonumber(os.getenv("DELAY_MS") or "0")

-- With DELAY_MS, each connection pauses that long before each request (a rate below saturation).
if pause > 0 then
  function delay() return pause end
end

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  acked = {}
  prefix = (os.getenv("PREFIX") or "w") .. id
end

function request()
  local job = prefix .. "-" .. math.floor(n / 200)
  local body
  if n % 200 == 0 then
    body = '{"type":"started","node":"' .. prefix .. '","data":{"i":"' .. prefix .. ":" .. n .. '"}}'
  else
    body = '{"type":"heartbeat","attempt":1,"data":{"i":"' .. prefix .. ":" .. n .. '"}}'
  end
  n = n + 1
  return wrk.format("POST", "/jobs/" .. job .. "/events", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then
    local version, job, i = string.match(body, '"version":(%d+),"job":"([^"]+)".-"i":"([^"]+)"')
    if job then acked[#acked + 1] = job .. " " .. version .. " " .. i end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("ACKED"), "w")
  for _, thread in ipairs(threads) do
    local lines = thread:get("acked")
    for _, line in ipairs(lines) do out:write(line, "\n") end
  end
  out:close()
end
