-- wrk script for tests/bench/load.sh: posts realistic submissions, each under a fresh key.
-- BENCH_MODE: "html" (POST /f/zhengqiu with a signed _key from keys.txt), "json" (POST
-- /api/v1/forms/zhengqiu/responses with a fresh Idempotency-Key) or "ref" (POST /submit, reference b).
-- BENCH_DIR holds the files written by the bench_data example; BENCH_THREADS is wrk's -t.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = os.getenv("BENCH_MODE")
  local dir = os.getenv("BENCH_DIR")
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  run = os.getenv("BENCH_RUN") or "run"
  local file = (mode == "html") and "html_bodies.txt" or "json_bodies.txt"
  bodies = {}
  for line in io.lines(dir .. "/" .. file) do bodies[#bodies + 1] = line end
  keys = {}
  if mode == "html" then
    local i = 0
    for line in io.lines(dir .. "/keys.txt") do
      if i % nthreads == tid then keys[#keys + 1] = line end
      i = i + 1
    end
  end
  n = 0
end

function request()
  n = n + 1
  local body = bodies[(n % #bodies) + 1]
  if mode == "html" then
    -- Keys are never reused: when they run out the server answers 400 and wrk counts non-2xx/3xx.
    local key = keys[n] or "exhausted"
    return wrk.format("POST", "/f/zhengqiu", { ["Content-Type"] = "application/x-www-form-urlencoded" },
      "_key=" .. key .. "&" .. body)
  elseif mode == "json" then
    return wrk.format("POST", "/api/v1/forms/zhengqiu/responses",
      { ["Content-Type"] = "application/json", ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. n }, body)
  else
    return wrk.format("POST", "/submit", { ["Content-Type"] = "application/json" }, body)
  end
end
