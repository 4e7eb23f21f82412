-- wrk script: as post.lua, but every heartbeat carries its own event id (a retry-safe client).
-- Time-ordered like RemoteLogbook's (a UUIDv7 shape: milliseconds first, then a per-thread counter
-- and random bits), so the service's ids table grows at its end.
math.randomseed(os.time() + math.random(1, 1000000))
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local ms = math.floor(os.time() * 1000)
  local id = string.format("%08x-%04x-7%03x-%04x-%04x%08x",
    math.floor(ms / 65536) % 4294967296, ms % 65536, counter % 4096,
    0x8000 + math.random(0, 0x3fff), math.random(0, 0xffff), math.random(0, 0x7fffffff))
  return wrk.format(nil, "/jobs/worker-" .. math.random(0, 63) .. "/events",
    nil, '{"type":"heartbeat","id":"' .. id .. '"}')
end
