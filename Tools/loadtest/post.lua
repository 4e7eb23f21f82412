-- wrk script: every request appends one heartbeat to one of 64 running jobs (a worker fleet).
math.randomseed(os.time())
wrk.method = "POST"
wrk.body = '{"type":"heartbeat"}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/jobs/worker-" .. math.random(0, 63) .. "/events")
end
