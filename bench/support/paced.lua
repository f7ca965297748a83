-- wrk script for a fixed request rate (bench/support/paced.ts): each
-- connection pauses before every request, on average `interval` ms
-- (uniform jitter of +-50 %, so the connections never fall into step and
-- arrive in bursts), and the pause starts when the previous response has
-- come back. With C connections the total rate is C * 1000 / interval req/s,
-- less a little for the response times themselves.
--
-- Usage: wrk -c C -d D -s paced.lua URL -- INTERVAL_MS

local threads = 0

-- Runs in the main Lua state, once per wrk thread: a seed of its own for each,
-- else every thread would draw the same pauses.
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

local interval

function init(args)
  interval = tonumber(args[1])
  if interval == nil or interval <= 0 then
    error("paced.lua: pass the mean pause in ms after --, e.g. -- 80")
  end
  math.randomseed(seed * 7919)
end

-- ms to wait before this connection's next request (wrk truncates to an integer).
function delay()
  return math.floor(interval * (0.5 + math.random()) + 0.5)
end
